#!/usr/bin/env bash
# push / pull / ls-remote through S3 remotes, against moto's S3 server on
# 127.0.0.1 with SigV4 checking on: the backend behaviour suite
# (remote_suite.sh), interop with the AWS CLI both ways, credentials from the
# environment and from profile files, errors that name the cause and never a
# secret, and multipart uploads that a kill leaves open being resumed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$MLPACK_TESTS_DIR/cli/moto.sh"
source "$MLPACK_TESTS_DIR/cli/remote_suite.sh"

moto_start s3

# mlpack finds the server and the keys the way the AWS CLI would.
export AWS_ACCESS_KEY_ID=$MOTO_ACCESS_KEY_ID
export AWS_SECRET_ACCESS_KEY=$MOTO_SECRET_ACCESS_KEY
export AWS_REGION=$MOTO_REGION
export AWS_ENDPOINT_URL_S3=$MOTO_URL
export AWS_EC2_METADATA_DISABLED=true

# --- hooks: the remote is s3://$MOTO_BUCKET/$PREFIX -----------------------------
remote_keys() { moto_keys "$PREFIX/"; }
remote_cat() { moto_cat "$PREFIX/$1"; }
remote_put() { moto_put "$PREFIX/$1" "$2"; }
remote_delete() { moto_delete "$PREFIX/$1"; }
# Every version of every key (the bucket is versioned), key last.
remote_state() {
  moto_state "$PREFIX/" | awk -F'\t' '{k = $1; sub("^'"$PREFIX"'/", "", k); print $2, $3, $4, $5, k}'
}
remote_partial_uploads() { moto_open_multipart_uploads "$PREFIX/"; }

# --- the behaviour suite --------------------------------------------------------
PREFIX=suite/team
run_remote_suite "s3://$MOTO_BUCKET/$PREFIX"
expect_eq "$(moto_open_multipart_uploads "$PREFIX/")" 0 "multipart uploads left open by the suite"

# --- interop with the AWS CLI ------------------------------------------------------
step "what mlpack pushes, the AWS CLI reads back byte for byte, and the other way"
PREFIX=interop
new_repo "$TMP/a"
make_model "$TMP/am" iris v1 "interop"
{ printf 'RAND' && head -c 40M /dev/urandom; } >"$TMP/am/model.joblib"   # multipart (>= 32 MiB)
expect_exit 0 mlp -C "$TMP/a" pack "$TMP/am" --json
D1=$(digest_of "$OUT")
expect_exit 0 mlp -C "$TMP/a" remote add origin "s3://$MOTO_BUCKET/$PREFIX"
expect_exit 0 mlp -C "$TMP/a" push iris:v1
moto_aws s3 ls --recursive "s3://$MOTO_BUCKET/$PREFIX/" >"$TMP/ls.txt" || fail "aws s3 ls failed"
expect_contains "$TMP/ls.txt" "$PREFIX/tags/iris/v1"
expect_contains "$TMP/ls.txt" "$PREFIX/manifests/sha256/$D1"
mlp -C "$TMP/a" inspect iris:v1 --json >"$TMP/inspect.json"
model_hex=$(json "$TMP/inspect.json" '[f["sha256"] for f in d["manifest"]["files"] if f["path"] == "model.joblib"][0]')
expect_contains "$TMP/ls.txt" "$(stat -c %s "$TMP/am/model.joblib") $PREFIX/blobs/sha256/$model_hex"
moto_aws s3 cp "s3://$MOTO_BUCKET/$PREFIX/blobs/sha256/$model_hex" "$TMP/model.back" >/dev/null ||
  fail "aws s3 cp of the model blob failed"
cmp "$TMP/model.back" "$TMP/am/model.joblib" || fail "the blob read back by the AWS CLI differs"
moto_aws s3 cp "s3://$MOTO_BUCKET/$PREFIX/manifests/sha256/$D1" "$TMP/manifest.back" >/dev/null
expect_eq "$(sha256sum <"$TMP/manifest.back" | cut -c1-64)" "$D1" "sha256 of the manifest read back"
expect_eq "$(moto_aws s3 cp "s3://$MOTO_BUCKET/$PREFIX/tags/iris/v1" -)" "sha256:$D1" "the tag read back"

# A blob the AWS CLI put where mlpack expects it is taken by pull.
moto_delete "$PREFIX/blobs/sha256/$model_hex"
moto_aws s3 cp "$TMP/am/model.joblib" "s3://$MOTO_BUCKET/$PREFIX/blobs/sha256/$model_hex" >/dev/null ||
  fail "aws s3 cp up failed"
new_repo "$TMP/b"
expect_exit 0 mlp -C "$TMP/b" remote add origin "s3://$MOTO_BUCKET/$PREFIX"
expect_exit 0 mlp -C "$TMP/b" pull iris:v1
expect_exit 0 mlp -C "$TMP/b" verify iris:v1

# --- credentials ---------------------------------------------------------------------
step "credentials from a profile file, and the remote's own endpoint"
new_repo "$TMP/p"
expect_exit 0 mlp -C "$TMP/p" remote add origin "s3://$MOTO_BUCKET/$PREFIX" --endpoint "$MOTO_URL"
mkdir -p "$TMP/aws"
printf '[ci]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
  "$MOTO_ACCESS_KEY_ID" "$MOTO_SECRET_ACCESS_KEY" >"$TMP/aws/credentials"
printf '[profile ci]\nregion = %s\n' "$MOTO_REGION" >"$TMP/aws/config"
(
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL_S3
  export AWS_PROFILE=ci AWS_SHARED_CREDENTIALS_FILE=$TMP/aws/credentials AWS_CONFIG_FILE=$TMP/aws/config
  expect_exit 0 mlp -C "$TMP/p" pull iris:v1
  expect_exit 0 mlp -C "$TMP/p" verify iris:v1
  AWS_PROFILE=nosuch expect_exit 2 mlp -C "$TMP/p" ls-remote
)

step "a wrong secret, an unknown key, a denied user, no credentials: exit 1, no secret shown"
WRONG=wr0ng-s3cr3t-$RANDOM
AWS_SECRET_ACCESS_KEY=$WRONG expect_exit 1 mlp -C "$TMP/b" ls-remote
expect_contains "$ERR" "SignatureDoesNotMatch"
expect_contains "$ERR" "secret access key"
AWS_SECRET_ACCESS_KEY=$WRONG expect_exit 1 mlp -C "$TMP/b" pull iris:v1
AWS_SECRET_ACCESS_KEY=$WRONG mlp -C "$TMP/b" -v push iris:v1 >"$OUT" 2>"$ERR" && fail "push with a wrong secret passed"
grep -q "debug: " "$ERR" || fail "no debug log with -v"
for f in "$OUT" "$ERR"; do
  grep -qF "$WRONG" "$f" && fail "the secret was printed: $(cat "$f")"
  grep -qF "$MOTO_SECRET_ACCESS_KEY" "$f" && fail "the real secret was printed"
  grep -q "Signature=" "$f" && fail "a signature was printed: $(cat "$f")"
done
AWS_ACCESS_KEY_ID=AKIANOSUCHKEY000000 expect_exit 1 mlp -C "$TMP/b" ls-remote
expect_contains "$ERR" "InvalidAccessKeyId"
AWS_ACCESS_KEY_ID=$MOTO_DENIED_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$MOTO_DENIED_SECRET_ACCESS_KEY \
  expect_exit 1 mlp -C "$TMP/b" pull iris:v1
expect_contains "$ERR" "AccessDenied"
expect_contains "$ERR" "IAM policy"
(
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  expect_exit 1 mlp -C "$TMP/b" ls-remote
  expect_contains "$ERR" "anonymous"
)
new_repo "$TMP/nb"
expect_exit 0 mlp -C "$TMP/nb" remote add origin "s3://no-such-bucket/x"
expect_exit 4 mlp -C "$TMP/nb" pull iris:v1
expect_contains "$ERR" "no-such-bucket"

# --- multipart uploads a kill left open ------------------------------------------------
step "a push killed during a multipart upload: the next push resumes it, none stays open"
PREFIX=multipart
new_repo "$TMP/m"
expect_exit 0 mlp -C "$TMP/m" remote add origin "s3://$MOTO_BUCKET/$PREFIX"
make_model "$TMP/mm" big v1 "multipart"
{ printf 'RAND' && head -c 200M /dev/urandom; } >"$TMP/mm/model.joblib"
expect_exit 0 mlp -C "$TMP/m" pack "$TMP/mm"
parts_sent() { grep -c 'PUT .*partNumber=' "$1" || true; }
# Killed once some parts are in (ListParts would show them) but before the end.
"$MLPACK" -C "$TMP/m" -v push --jobs 1 big:v1 >"$TMP/kill.out" 2>"$TMP/kill.err" &
pid=$!
for _ in $(seq 1 3000); do
  [[ $(parts_sent "$TMP/kill.err") -ge 3 ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[[ $(parts_sent "$TMP/kill.err") -ge 3 ]] || fail "the push ended before 3 parts were sent: $(tail -3 "$TMP/kill.err")"
expect_eq "$(moto_open_multipart_uploads "$PREFIX/")" 1 "open multipart uploads after the kill"
expect_exit 0 mlp -C "$TMP/m" -v push big:v1
total=$(( (200 + 15) / 16 ))
resent=$(parts_sent "$ERR")
[[ $resent -lt $total ]] || fail "the resumed push sent all $resent parts again"
echo "   resumed: $resent of $total parts sent again"
expect_eq "$(moto_open_multipart_uploads "$PREFIX/")" 0 "open multipart uploads after the resumed push"
new_repo "$TMP/m2"
expect_exit 0 mlp -C "$TMP/m2" remote add origin "s3://$MOTO_BUCKET/$PREFIX"
expect_exit 0 mlp -C "$TMP/m2" -v pull big:v1
# 200 MiB comes down in ranges, several at once.
[[ $(grep -c 'GET .*/blobs/sha256/' "$ERR") -ge 10 ]] || fail "the big blob was not fetched in ranges"
expect_exit 0 mlp -C "$TMP/m2" verify big:v1

echo "remote (s3): ok"

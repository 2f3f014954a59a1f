#!/usr/bin/env bash
# Self-test of the S3 test harness: the private moto servers and the helpers
# of moto.sh, driven with the aws CLI (botocore's SigV4 signer), curl's own
# --aws-sigv4 and the helpers' signer, no mlpack. The S3-remote tests rely on
# every behaviour checked here; a failure here points at the harness or at a
# moto that changed, not at mlpack. Needs curl and a python3 with moto, boto3
# and awscli (see moto.sh); about 15 s of CPU, most of it starting servers.

# This test never runs mlpack; lib.sh only insists that MLPACK names an
# executable, so the script also runs on its own without a build.
export MLPACK=${MLPACK:-$(type -P true)}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$MLPACK_TESTS_DIR/cli/moto.sh"

command -v curl >/dev/null || fail "curl is missing: run scripts/install-deps.sh --test"

HDR=$TMP/.hdr
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# s3req KEY_ID SECRET CURL-ARGS... : one curl run, signed by curl itself
# (--aws-sigv4: a second, independent signer next to botocore's); sets CODE
# (the HTTP status, 000 if none) and CURL_RC, with the body in $OUT, the
# headers in $HDR. moto checks signatures over x-amz-content-sha256 as sent,
# so bodies go as UNSIGNED-PAYLOAD; without the header it would hash its
# own idea of the body and refuse even a good signature.
s3req() {
  local akid=$1 secret=$2 payload=$EMPTY_SHA256 a
  shift 2
  for a in "$@"; do [[ $a == -T ]] && payload=UNSIGNED-PAYLOAD; done
  CURL_RC=0
  CODE=$(curl -sS --noproxy '*' -o "$OUT" -D "$HDR" -w '%{http_code}' \
    --aws-sigv4 "aws:amz:$MOTO_REGION:s3" --user "$akid:$secret" \
    -H "x-amz-content-sha256: $payload" "$@" 2>"$ERR") || CURL_RC=$?
}
good() { s3req "$MOTO_ACCESS_KEY_ID" "$MOTO_SECRET_ACCESS_KEY" "$@"; }

# expect_status CODE [S3-ERROR-CODE] : the last s3req's status, and the
# <Code> of its S3 error body.
expect_status() {
  if [[ $CODE != "$1" ]] || { [[ -n ${2:-} ]] && ! grep -qF "<Code>$2</Code>" "$OUT"; }; then
    echo "  curl exit $CURL_RC, HTTP $CODE" >&2
    head -c 2000 "$OUT" "$ERR" >&2 || true
    fail "expected HTTP $1 ${2:-}"
  fi
}

# expect_aws_error S3-ERROR-CODE KEY_ID SECRET ARGS... : the aws CLI with
# those credentials must fail with that error code.
expect_aws_error() {
  local code=$1 rc=0
  shift
  moto_aws_as "$@" >"$OUT" 2>"$ERR" || rc=$?
  if [[ $rc -eq 0 ]] || ! grep -qF "($code)" "$ERR"; then
    cat "$ERR" >&2
    fail "aws ${*:3}: expected error $code, got exit $rc"
  fi
}

head -c 1000 /dev/urandom >small
: >empty

# ---------------------------------------------------------------------------------
step "moto starts on 127.0.0.1 with a free port, its own log, keys and bucket"
moto_start main
[[ $MOTO_URL == "http://127.0.0.1:$MOTO_PORT" ]] || fail "MOTO_URL is $MOTO_URL"
expect_eq "$MOTO_BUCKET" mlpack-test "MOTO_BUCKET"
expect_eq "$MOTO_REGION" us-east-1 "MOTO_REGION"
expect_eq "$MOTO_LOG" "$TMP/moto-main/server.log" "MOTO_LOG"
expect_file "$MOTO_LOG"
for v in MOTO_ACCESS_KEY_ID MOTO_SECRET_ACCESS_KEY MOTO_DENIED_ACCESS_KEY_ID MOTO_DENIED_SECRET_ACCESS_KEY; do
  [[ ${!v} =~ ^[A-Za-z0-9+/]{16,}$ ]] || fail "$v is '${!v}'"
done
expect_ne "$MOTO_ACCESS_KEY_ID" "$MOTO_DENIED_ACCESS_KEY_ID" "the two users' key ids"
main_port=$MOTO_PORT main_key=$MOTO_ACCESS_KEY_ID main_secret=$MOTO_SECRET_ACCESS_KEY
main_pid=${_MOTO_PID[main]}
# A direct child of this script, and the server itself (not a wrapper):
# CTest's timeout, which kills the test's process tree, takes it down, and
# moto_stop signals the right process. `pgrep -af moto_server` finds it.
expect_eq "$(ps -o ppid= -p "$main_pid" | tr -d ' ')" "$$" "parent of the moto server"
tr '\0' ' ' <"/proc/$main_pid/cmdline" | grep -q 'moto_server.py -H 127.0.0.1 -p' ||
  fail "pid $main_pid is not the moto server: $(tr '\0' ' ' <"/proc/$main_pid/cmdline")"
# Bound to 127.0.0.1 only: another loopback address is refused.
CURL_RC=0
curl -sS -o /dev/null --noproxy '*' "http://127.0.0.2:$MOTO_PORT/" 2>/dev/null || CURL_RC=$?
expect_eq "$CURL_RC" 7 "curl exit for 127.0.0.2"

# ---------------------------------------------------------------------------------
step "authentication is on: only correctly signed requests of the S3 user get through"
moto_aws s3 ls >"$OUT" 2>"$ERR" || { cat "$ERR" >&2; fail "aws s3 ls with the S3 user's key failed"; }
expect_contains "$OUT" " mlpack-test"
expect_aws_error SignatureDoesNotMatch "$MOTO_ACCESS_KEY_ID" "${MOTO_SECRET_ACCESS_KEY}x" s3 ls
expect_aws_error InvalidAccessKeyId AKIAIOSFODNN7EXAMPLE "$MOTO_SECRET_ACCESS_KEY" \
  s3api list-objects-v2 --bucket "$MOTO_BUCKET"
expect_aws_error AccessDenied "$MOTO_DENIED_ACCESS_KEY_ID" "$MOTO_DENIED_SECRET_ACCESS_KEY" \
  s3api put-object --bucket "$MOTO_BUCKET" --key denied/obj --body small
# The HTTP side, with curl's signer.
good "$MOTO_URL/$MOTO_BUCKET?list-type=2"
expect_status 200
expect_contains "$OUT" "<Name>mlpack-test</Name>"
s3req "$MOTO_ACCESS_KEY_ID" "wrong/secret+wrong/secretwrongsecretwron" "$MOTO_URL/$MOTO_BUCKET?list-type=2"
expect_status 403 SignatureDoesNotMatch
s3req AKIAIOSFODNN7EXAMPLE "$MOTO_SECRET_ACCESS_KEY" "$MOTO_URL/$MOTO_BUCKET/x"
expect_status 403 InvalidAccessKeyId
s3req "$MOTO_DENIED_ACCESS_KEY_ID" "$MOTO_DENIED_SECRET_ACCESS_KEY" "$MOTO_URL/$MOTO_BUCKET?list-type=2"
expect_status 403 AccessDenied
# Unsigned: 403 AccessDenied, as from S3 (stock moto: 500; the launcher's fix).
CODE=$(curl -sS --noproxy '*' -o "$OUT" -w '%{http_code}' "$MOTO_URL/$MOTO_BUCKET?list-type=2" 2>"$ERR") || true
expect_status 403 AccessDenied
CODE=$(curl -sS --noproxy '*' -o "$OUT" -w '%{http_code}' -T small "$MOTO_URL/$MOTO_BUCKET/anon/obj" 2>"$ERR") || true
expect_status 403 AccessDenied
expect_eq "$(moto_keys denied/)$(moto_keys anon/)" "" "keys written by refused requests"

# ---------------------------------------------------------------------------------
step "helpers: put, cat, keys, delete; binary and empty bodies; keys that need %-encoding"
keys=("t/a" "t/sub/b c" "t/plus+sign" "t/tilde~pct%41" "t/x=1&y?" "t/ü-é")
for k in "${keys[@]}"; do moto_put "$k" small; done
moto_put t/empty empty
for k in "${keys[@]}"; do
  moto_cat "$k" >got || fail "moto_cat '$k' failed"
  cmp -s small got || fail "moto_cat '$k' returned other bytes"
done
moto_cat t/empty >got
expect_eq "$(wc -c <got)" 0 "size of the empty object"
# Relative to the prefix, in code-point order, whatever the encoding on the wire.
expect_eq "$(moto_keys t/ | paste -sd'|')" "a|empty|plus+sign|sub/b c|tilde~pct%41|x=1&y?|ü-é" "moto_keys t/"
expect_eq "$(moto_keys t/s)" "ub/b c" "moto_keys with a prefix that is not a folder"
expect_eq "$(moto_keys nothing/)" "" "moto_keys of an empty prefix"
# curl sees the same object through path-style addressing.
good "$MOTO_URL/$MOTO_BUCKET/t/plus%2Bsign"
expect_status 200
cmp -s small "$OUT" || fail "GET of t/plus+sign returned other bytes"

rc=0
moto_cat t/missing >got 2>/dev/null || rc=$?
expect_eq "$rc/$(wc -c <got)" "1/0" "moto_cat of a missing key: exit/bytes"
moto_delete t/a
expect_eq "$(moto_keys t/ | head -n 1)" "empty" "first key after deleting t/a"
rc=0
moto_cat t/a >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 1 "moto_cat of a deleted key"
moto_delete t/never-there # S3 answers 204 for a missing key too

# Errors are not an empty answer: exit 2, and a marker for the listing helpers.
rc=0
MOTO_SECRET_ACCESS_KEY=wrong moto_cat t/plus+sign >/dev/null 2>"$ERR" || rc=$?
expect_eq "$rc" 2 "moto_cat with a wrong secret"
expect_contains "$ERR" SignatureDoesNotMatch
for helper in moto_keys moto_state moto_open_multipart_uploads; do
  rc=0
  out=$(MOTO_SECRET_ACCESS_KEY=wrong "$helper" t/ 2>/dev/null) || rc=$?
  [[ $rc -eq 2 && $out == '!moto-error'* ]] || fail "$helper with a wrong secret: exit $rc, output '$out'"
done

# ---------------------------------------------------------------------------------
step "moto_state changes on every write, even of the same bytes in the same second"
expect_eq "$(moto_state st/)" "" "moto_state of an empty prefix"
moto_put st/obj small
s1=$(moto_state st/)
expect_eq "$(cut -f1,3-5 <<<"$s1")" "obj	\"$(md5sum small | cut -d' ' -f1)\"	latest	object" "moto_state after one PUT"
moto_put st/obj small
s2=$(moto_state st/)
expect_ne "$s1" "$s2" "moto_state before and after rewriting the same bytes"
expect_eq "$(cut -f4 <<<"$s2" | sort | paste -sd' ')" "latest old" "versions after two PUTs"
# Reads and writes elsewhere change nothing.
moto_cat st/obj >/dev/null
moto_keys st/ >/dev/null
moto_put st-other/obj small
expect_eq "$(moto_state st/)" "$s2" "moto_state after reads and a write outside the prefix"
moto_delete st/obj
s3=$(moto_state st/)
expect_ne "$s2" "$s3" "moto_state before and after a delete"
[[ $s3 == *"	delete-marker"* ]] || fail "no delete marker in moto_state after the delete: $s3"
expect_eq "$(moto_keys st/)" "" "moto_keys after the delete"

# ---------------------------------------------------------------------------------
step "multipart: moto_open_multipart_uploads counts open uploads; unknown upload ids get NoSuchUpload"
expect_eq "$(moto_open_multipart_uploads)" 0 "open uploads at first"
uid1=$(moto_aws s3api create-multipart-upload --bucket "$MOTO_BUCKET" --key mp/one --query UploadId --output text)
uid2=$(moto_aws s3api create-multipart-upload --bucket "$MOTO_BUCKET" --key mp2/two --query UploadId --output text)
expect_eq "$(moto_open_multipart_uploads)" 2 "open uploads after two creates"
expect_eq "$(moto_open_multipart_uploads mp/)" 1 "open uploads under mp/"
good -X DELETE "$MOTO_URL/$MOTO_BUCKET/mp2/two?uploadId=$uid2"
expect_status 204
expect_eq "$(moto_open_multipart_uploads)" 1 "open uploads after an abort"
# Stock moto: a 500 (KeyError); the launcher's fix makes it S3's 404.
good -T small "$MOTO_URL/$MOTO_BUCKET/mp/one?partNumber=1&uploadId=$uid2"
expect_status 404 NoSuchUpload
etag=$(moto_aws s3api upload-part --bucket "$MOTO_BUCKET" --key mp/one --part-number 1 \
  --upload-id "$uid1" --body small --query ETag --output text)
"$PY" -c 'import json, sys; print(json.dumps({"Parts": [{"ETag": sys.argv[1], "PartNumber": 1}]}))' \
  "$etag" >parts.json
moto_aws s3api complete-multipart-upload --bucket "$MOTO_BUCKET" --key mp/one --upload-id "$uid1" \
  --multipart-upload file://parts.json >/dev/null
expect_eq "$(moto_open_multipart_uploads)" 0 "open uploads after the complete"
moto_cat mp/one >got
cmp -s small got || fail "the multipart object has other bytes"

# ---------------------------------------------------------------------------------
step "conditional writes as an S3 backend uses them: If-None-Match: * and If-Match"
printf 'first' >first
printf 'second' >second
good -T first -H 'If-None-Match: *' "$MOTO_URL/$MOTO_BUCKET/cond/obj"
expect_status 200
first_etag=$(awk -F': ' 'tolower($1) == "etag" { sub(/\r$/, "", $2); print $2 }' "$HDR")
expect_eq "$first_etag" "\"$(md5sum first | cut -d' ' -f1)\"" "ETag of a single PUT"
good -T second -H 'If-None-Match: *' "$MOTO_URL/$MOTO_BUCKET/cond/obj"
expect_status 412 PreconditionFailed
good -T second -H 'If-Match: "0123456789abcdef0123456789abcdef"' "$MOTO_URL/$MOTO_BUCKET/cond/obj"
expect_status 412 PreconditionFailed
good -T second -H 'If-Match: "0123456789abcdef0123456789abcdef"' "$MOTO_URL/$MOTO_BUCKET/cond/missing"
expect_status 404 NoSuchKey
expect_eq "$(moto_cat cond/obj)" first "object after the refused writes"
good -T second -H "If-Match: $first_etag" "$MOTO_URL/$MOTO_BUCKET/cond/obj"
expect_status 200
expect_eq "$(moto_cat cond/obj)" second "object after the If-Match write"

# ---------------------------------------------------------------------------------
step "ListObjectsV2 in pages, with a prefix that is %-encoded on the wire"
for i in 1 2 3 4 5; do
  good -T small "$MOTO_URL/$MOTO_BUCKET/pg/k$i"
  expect_status 200
done
good -T small "$MOTO_URL/$MOTO_BUCKET/pgx/k"
expect_status 200
# prefix=pg%2F, continuation-token=...: stock moto refuses these signatures.
moto_aws s3api list-objects-v2 --bucket "$MOTO_BUCKET" --prefix pg/ --page-size 2 \
  --query 'Contents[].Key' --output text >"$OUT" 2>"$ERR" ||
  { cat "$ERR" >&2; fail "paged list-objects-v2 failed"; }
# --output text: one line per page.
expect_eq "$(tr '\t' '\n' <"$OUT" | paste -sd' ')" "pg/k1 pg/k2 pg/k3 pg/k4 pg/k5" "keys over three pages"
expect_eq "$(grep -c 'GET /mlpack-test?list-type=2.*prefix=pg' "$MOTO_LOG")" 3 "ListObjectsV2 requests of the paged listing"

# ---------------------------------------------------------------------------------
step "restart: the same port and keys, an empty bucket; the old process is gone"
moto_stop main
_moto_alive "$main_pid" && fail "moto $main_pid still runs after moto_stop"
CURL_RC=0
curl -sS -o /dev/null --noproxy '*' "http://127.0.0.1:$main_port/" 2>/dev/null || CURL_RC=$?
expect_eq "$CURL_RC" 7 "curl exit against a stopped moto"
moto_start main
expect_eq "$MOTO_PORT/$MOTO_ACCESS_KEY_ID/$MOTO_SECRET_ACCESS_KEY" "$main_port/$main_key/$main_secret" \
  "port and keys after the restart"
expect_eq "$(moto_keys '')" "" "keys after the restart"
expect_eq "$(grep -c '^=== moto_start main' "$MOTO_LOG")" 2 "starts in the appended log"

# ---------------------------------------------------------------------------------
step "two instances at once; each its own port, keys and bucket; moto_use switches"
moto_start other other-bucket
[[ $MOTO_PORT != "$main_port" ]] || fail "both instances on port $MOTO_PORT"
expect_eq "$MOTO_BUCKET" other-bucket "MOTO_BUCKET of the second instance"
expect_ne "$MOTO_ACCESS_KEY_ID" "$main_key" "key ids of the two instances"
moto_put only-here small
expect_eq "$(moto_keys '')" "only-here" "keys of the second instance"
s3req "$main_key" "$main_secret" "$MOTO_URL/$MOTO_BUCKET?list-type=2"
expect_status 403 InvalidAccessKeyId
moto_use main
expect_eq "$MOTO_PORT/$MOTO_BUCKET/$MOTO_ACCESS_KEY_ID" "$main_port/mlpack-test/$main_key" "after moto_use main"
expect_eq "$(moto_keys '')" "" "keys of the first instance"

# ---------------------------------------------------------------------------------
step "with nginx.sh, in either order: servers stop on exit, the exit status stays"
# Child tests that start a server of each kind and exit; then no process of
# theirs may be left. Without nginx, the same with moto.sh alone.
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
with_nginx=
[[ -x $nginx_bin && -f /usr/lib/nginx/modules/ngx_http_dav_ext_module.so ]] && with_nginx=1
cat >child.sh <<'EOF'
source "$MLPACK_TESTS_DIR/cli/lib.sh"
for lib in $CHILD_LIBS; do source "$MLPACK_TESTS_DIR/cli/$lib"; done
[[ -z $CHILD_TRAP ]] || trap "$CHILD_TRAP" EXIT
moto_start c
echo "${_MOTO_PID[c]}" >>"$CHILD_PIDS"
if declare -F nginx_start >/dev/null; then
  nginx_start c "$TMP/root"
  echo "${_NGINX_PID[c]}" >>"$CHILD_PIDS"
fi
exit "$CHILD_RC"
EOF
mkdir -p children
# run_child NAME LIBS RC TRAP : runs child.sh; sets CHILD_EXIT.
run_child() {
  CHILD_EXIT=0
  env MLPACK="$MLPACK" MLPACK_TESTS_DIR="$MLPACK_TESTS_DIR" TMPDIR="$TMP/children" \
    CHILD_LIBS="$2" CHILD_RC="$3" CHILD_TRAP="$4" CHILD_PIDS="$TMP/$1.pids" \
    bash child.sh >"$TMP/$1.log" 2>&1 || CHILD_EXIT=$?
  local pid left=()
  while read -r pid; do _moto_alive "$pid" && left+=("$pid"); done <"$TMP/$1.pids"
  if ((${#left[@]})); then
    kill -KILL "${left[@]}" 2>/dev/null || true # ours to clean up, then report
    cat "$TMP/$1.log" >&2
    fail "child $1 ($2) left processes running: ${left[*]}"
  fi
  expect_eq "$(wc -l <"$TMP/$1.pids")" "$((with_nginx ? 2 : 1))" "servers child $1 started"
}
# lib.sh's handler runs last, with the status: it keeps the temp folder.
run_child chained "moto.sh${with_nginx:+ nginx.sh}" 3 ""
expect_eq "$CHILD_EXIT" 3 "exit status of the chained child"
expect_contains "$TMP/chained.log" "exit 3; temp folder kept"
# A test's own EXIT trap replaces the chain; harness_stop_all must then stop
# every server, nginx's and moto's (moto.sh sourced after nginx.sh).
run_child own-trap "${with_nginx:+nginx.sh }moto.sh" 0 "harness_stop_all"
expect_eq "$CHILD_EXIT" 0 "exit status of the child with its own trap"
[[ -n $with_nginx ]] || echo "   (nginx not installed: moto.sh alone)"

# "main" and "other" are left running on purpose: the exit trap must stop them.
echo "moto harness: ok"

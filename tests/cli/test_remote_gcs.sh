#!/usr/bin/env bash
# push / pull / ls-remote through gs:// remotes, against a strict GCS JSON-API
# server on 127.0.0.1 (tests/tools/gcs_server.py, which test_gcs_harness.sh
# checks against Google's own Node client): the backend behaviour suite with
# a service account's JWT exchanged for tokens, the other ways to a token
# (static, metadata server, refresh after expiry, emulator, anonymous), a
# refused key reported clearly, and resumable uploads resumed from the
# session's status after a chunk broke off.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$MLPACK_TESTS_DIR/cli/gcs.sh"
source "$MLPACK_TESTS_DIR/cli/remote_suite.sh"

gcs_start gcs
export GOOGLE_APPLICATION_CREDENTIALS=$GCS_SA_FILE

# --- hooks: the remote is gs://$GCS_BUCKET/$PREFIX --------------------------------
remote_keys() { gcs_keys "$PREFIX/"; }
remote_cat() { gcs_cat "$PREFIX/$1"; }
remote_put() { gcs_put "$PREFIX/$1" "$2"; }
remote_delete() { gcs_delete "$PREFIX/$1" || true; }
remote_state() { gcs_state "$PREFIX/"; }
remote_partial_uploads() { gcs_open_sessions "$PREFIX/"; }

# --- the behaviour suite, authenticated by the service account -------------------
PREFIX=suite/team
RS_REMOTE_OPTIONS=(--endpoint "$GCS_URL")
run_remote_suite "gs://$GCS_BUCKET/$PREFIX"
RS_REMOTE_OPTIONS=()
# (A push killed with -9 mid-upload cannot cancel its session; GCS drops
# such sessions after a week, and they hold no object. Pushes that end, well
# or badly, leave none: checked below.)
gcs_stats >"$TMP/stats.json"
expect_eq "$(json "$TMP/stats.json" 'd["tokens_issued"] > 0')" true "tokens issued for the JWT"

# --- tokens ---------------------------------------------------------------------------
PREFIX=auth
new_repo "$TMP/a"
make_model "$TMP/am" iris v1 "gcs auth"
expect_exit 0 mlp -C "$TMP/a" pack "$TMP/am"
expect_exit 0 mlp -C "$TMP/a" remote add origin "gs://$GCS_BUCKET/$PREFIX" --endpoint "$GCS_URL"
expect_exit 0 mlp -C "$TMP/a" push iris:v1

step "a key the token endpoint refuses: exit 1, said clearly, no key material shown"
GOOGLE_APPLICATION_CREDENTIALS=$GCS_SA_WRONG_FILE expect_exit 1 mlp -C "$TMP/a" ls-remote
expect_contains "$ERR" "invalid_grant"
expect_contains "$ERR" "$GCS_SA_EMAIL"
expect_contains "$ERR" "$GCS_SA_WRONG_FILE"
grep -q "PRIVATE KEY\|MII" "$ERR" && fail "key material was printed: $(cat "$ERR")"
GOOGLE_APPLICATION_CREDENTIALS=$TMP/nothing.json expect_exit 2 mlp -C "$TMP/a" ls-remote

step "a static token, a denied token, no token, the metadata server"
(
  unset GOOGLE_APPLICATION_CREDENTIALS
  GOOGLE_OAUTH_ACCESS_TOKEN=$GCS_TOKEN expect_exit 0 mlp -C "$TMP/a" -v ls-remote
  grep -qF "$GCS_TOKEN" "$OUT" "$ERR" && fail "the token was printed"
  GOOGLE_OAUTH_ACCESS_TOKEN=$GCS_DENIED_TOKEN expect_exit 1 mlp -C "$TMP/a" pull iris:v1
  expect_contains "$ERR" "403"
  expect_contains "$ERR" "Storage role"
  expect_exit 1 mlp -C "$TMP/a" ls-remote
  expect_contains "$ERR" "anonymous"
  before=$(gcs_stats | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["tokens_by_grant"].get("metadata", 0))')
  GCE_METADATA_HOST=$GCS_METADATA_HOST expect_exit 0 mlp -C "$TMP/a" ls-remote --json
  expect_eq "$(json "$OUT" '[v["version"] for v in d["versions"]]')" '["v1"]' "versions listed with a metadata token"
  after=$(gcs_stats | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["tokens_by_grant"].get("metadata", 0))')
  [[ $after -gt $before ]] || fail "no token came from the metadata server ($before -> $after)"
)

step "an expired token is refreshed on the 401"
gcs_stats >"$TMP/s1.json"
new_repo "$TMP/r"
expect_exit 0 mlp -C "$TMP/r" remote add origin "gs://$GCS_BUCKET/$PREFIX" --endpoint "$GCS_URL"
gcs_expire_tokens
expect_exit 0 mlp -C "$TMP/r" pull iris:v1
expect_exit 0 mlp -C "$TMP/r" verify iris:v1
gcs_stats >"$TMP/s2.json"
[[ $(json "$TMP/s2.json" 'd["tokens_issued"]') -gt $(json "$TMP/s1.json" 'd["tokens_issued"]') ]] ||
  fail "no new token was fetched"

# --- resumable uploads -------------------------------------------------------------------
step "large blobs go up in 256 KiB-aligned chunks; a broken chunk resumes from the session status"
PREFIX=resumable
new_repo "$TMP/u"
make_model "$TMP/um" big v1 "resumable"
{ printf 'RAND' && head -c 40M /dev/urandom; } >"$TMP/um/model.joblib"
expect_exit 0 mlp -C "$TMP/u" pack "$TMP/um"
expect_exit 0 mlp -C "$TMP/u" remote add origin "gs://$GCS_BUCKET/$PREFIX" --endpoint "$GCS_URL"
mark=$(wc -l <"$GCS_LOG")
# The first chunk breaks off after 5 MB; the server keeps its 256 KiB-aligned part.
gcs_fault '{"kind": "cut", "path": "upload_id=", "count": 1, "after_bytes": 5000000}'
expect_exit 0 mlp -C "$TMP/u" -v push big:v1
gcs_faults_clear
tail -n +"$((mark + 1))" "$GCS_LOG" >"$TMP/upload.log"
chunks=$(awk '$1 == "PUT" && $2 ~ /upload_id=/ && $7 ~ /^[0-9]+-[0-9]+\// {print $7}' "$TMP/upload.log")
[[ $(wc -l <<<"$chunks") -ge 3 ]] || fail "fewer than 3 chunk PUTs: $chunks"
# Every chunk but the last is a multiple of 256 KiB.
"$PY" - "$chunks" <<'EOF' || fail "a chunk is not 256 KiB-aligned: $chunks"
import sys
for line in sys.argv[1].split():
    rng, total = line.split("/")
    a, b = (int(x) for x in rng.split("-"))
    if total == "*" and (b - a + 1) % (256 * 1024):
        sys.exit(1)
EOF
grep -q ' cut ' "$TMP/upload.log" || fail "the fault never fired: $(cat "$TMP/upload.log")"
awk '$1 == "PUT" && $7 ~ /^\*\// {found = 1} END {exit !found}' "$TMP/upload.log" ||
  fail "no status query after the broken chunk: $(cat "$TMP/upload.log")"
# The server kept the 256 KiB-aligned part of the 5,000,000 bytes it got
# (4,980,736); the upload went on from there, not from the start.
grep -q "^4980736-" <<<"$chunks" || fail "the upload did not resume at byte 4980736: $chunks"
expect_eq "$(gcs_open_sessions "$PREFIX/")" 0 "open sessions after the push"
new_repo "$TMP/d"
expect_exit 0 mlp -C "$TMP/d" remote add origin "gs://$GCS_BUCKET/$PREFIX" --endpoint "$GCS_URL"
expect_exit 0 mlp -C "$TMP/d" pull big:v1
expect_exit 0 mlp -C "$TMP/d" verify big:v1

step "a corrupt local copy of a large blob is never finalised on GCS"
mlp -C "$TMP/u" inspect big:v1 --json >"$TMP/i.json"
hex=$(json "$TMP/i.json" '[f["sha256"] for f in d["manifest"]["files"] if f["path"] == "model.joblib"][0]')
make_model "$TMP/um2" big v2 "resumable 2"
cp "$TMP/um/model.joblib" "$TMP/um2/model.joblib"
printf 'x' >>"$TMP/um2/model.joblib"
expect_exit 0 mlp -C "$TMP/u" pack "$TMP/um2" --json
mlp -C "$TMP/u" inspect big:v2 --json >"$TMP/i2.json"
hex2=$(json "$TMP/i2.json" '[f["sha256"] for f in d["manifest"]["files"] if f["path"] == "model.joblib"][0]')
obj=$TMP/u/.mlpack/objects/sha256/${hex2:0:2}/$hex2
chmod u+w "$obj"
"$PY" -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[-1] ^= 1; open(p, "wb").write(b)' "$obj"
state=$(gcs_state "$PREFIX/")
expect_exit 3 mlp -C "$TMP/u" push big:v2
expect_eq "$(gcs_state "$PREFIX/")" "$state" "the remote after pushing a corrupt large blob"
expect_eq "$(gcs_open_sessions "$PREFIX/")" 0 "open sessions after the refused push"

# --- no authentication -------------------------------------------------------------------
step "STORAGE_EMULATOR_HOST: an emulator without authentication"
gcs_start emu --no-auth
(
  unset GOOGLE_APPLICATION_CREDENTIALS
  export STORAGE_EMULATOR_HOST=$GCS_URL
  new_repo "$TMP/e"
  expect_exit 0 mlp -C "$TMP/e" remote add origin "gs://$GCS_BUCKET/emu"
  make_model "$TMP/em" emu v1 "emulator"
  expect_exit 0 mlp -C "$TMP/e" pack "$TMP/em"
  expect_exit 0 mlp -C "$TMP/e" push emu:v1
  expect_exit 0 mlp -C "$TMP/e" ls-remote --json
  expect_eq "$(json "$OUT" '[v["version"] for v in d["versions"]]')" '["v1"]' "versions on the emulator"
)
gcs_stop emu

step "a public bucket: anonymous reads"
gcs_use gcs
gcs_start pub --public
new_repo "$TMP/w"
make_model "$TMP/wm" open v1 "public"
expect_exit 0 mlp -C "$TMP/w" pack "$TMP/wm"
expect_exit 0 mlp -C "$TMP/w" remote add origin "gs://$GCS_BUCKET/pub" --endpoint "$GCS_URL"
GOOGLE_APPLICATION_CREDENTIALS=$GCS_SA_FILE expect_exit 0 mlp -C "$TMP/w" push open:v1
(
  unset GOOGLE_APPLICATION_CREDENTIALS
  new_repo "$TMP/anon"
  expect_exit 0 mlp -C "$TMP/anon" remote add origin "gs://$GCS_BUCKET/pub" --endpoint "$GCS_URL"
  expect_exit 0 mlp -C "$TMP/anon" pull open:v1
  expect_exit 0 mlp -C "$TMP/anon" verify open:v1
  # Writing needs credentials.
  make_model "$TMP/wm2" open v2 "public 2"
  expect_exit 0 mlp -C "$TMP/anon" pack "$TMP/wm2"
  expect_exit 1 mlp -C "$TMP/anon" push open:v2
  expect_contains "$ERR" "anonymous"
)

echo "remote (gcs): ok"

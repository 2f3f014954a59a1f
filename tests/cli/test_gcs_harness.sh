#!/usr/bin/env bash
# Self-test of the GCS test harness: tests/tools/gcs_server.py (a strict GCS
# JSON API server) and the helpers of gcs.sh, driven with curl and openssl,
# then proved against Google's own Node.js client (@google-cloud/storage 7),
# installed with npm. The GCS-remote tests rely on every behaviour checked
# here; a failure here points at the harness, not at mlpack.
#
# The conformance part needs node and npm (and, the first time on a machine,
# the npm registry): without them this test FAILS, it is never skipped. The
# client is installed once per machine into ${MLPACK_NPM_CACHE:-/var/tmp/mlpack-npm}
# (outside the build folder, which scripts/test.sh deletes, and outside
# $HOME, which lib.sh moves), a few seconds the first time.

# The user's npm configuration (registry, proxy, CA), before lib.sh moves HOME.
_NPM_USERCONFIG=${NPM_CONFIG_USERCONFIG:-${HOME:-/nonexistent}/.npmrc}
# This test never runs mlpack; lib.sh only insists that MLPACK names an
# executable, so the script also runs on its own without a build.
export MLPACK=${MLPACK:-$(type -P true)}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$MLPACK_TESTS_DIR/cli/gcs.sh"

command -v curl >/dev/null || fail "curl is missing: run scripts/install-deps.sh --test"
command -v openssl >/dev/null || fail "openssl is missing: run scripts/install-deps.sh --test"

GCS_NODE_CLIENT_VERSION=7.22.0
NPM_CACHE=${MLPACK_NPM_CACHE:-/var/tmp/mlpack-npm}
ALIGN=262144

HDR=$TMP/.hdr
# req CURL-ARGS... : one curl run; sets CODE (the HTTP status, 000 if none)
# and CURL_RC, with the body in $OUT, the headers in $HDR, stderr in $ERR.
req() {
  CURL_RC=0
  CODE=$(curl -sS --noproxy '*' -o "$OUT" -D "$HDR" -w '%{http_code}' "$@" 2>"$ERR") || CURL_RC=$?
}
_req_failed() {
  echo "  curl $* -> exit $CURL_RC, HTTP $CODE" >&2
  head -c 2000 "$HDR" "$OUT" "$ERR" >&2 || true
}
# expect_req CODE CURL-ARGS... : req, and the status must be CODE.
expect_req() {
  local want=$1
  shift
  req "$@"
  [[ $CODE == "$want" ]] || { _req_failed "$@"; fail "expected HTTP $want, got $CODE: curl $*"; }
}
# expect_gcs_error CODE REASON CURL-ARGS... : a GCS JSON error.
expect_gcs_error() {
  local code=$1 reason=$2
  shift 2
  expect_req "$code" "$@"
  local got
  got=$(json "$OUT" '"%s %s" % (d["error"]["code"], d["error"]["errors"][0]["reason"])') ||
    { _req_failed "$@"; fail "not a GCS JSON error: curl $*"; }
  [[ $got == "$code $reason" ]] || { _req_failed "$@"; fail "expected error $code $reason, got $got"; }
}
# header NAME : the value of response header NAME from the last req.
header() { awk -v n="$(tr '[:upper:]' '[:lower:]' <<<"$1")" -F': ' \
  'tolower($1) == n { sub(/\r$/, "", $2); print $2 }' "$HDR"; }
# gen FILE SIZE SEED : SIZE deterministic pseudo-random bytes.
gen() {
  head -c "$2" /dev/zero | openssl enc -aes-128-ctr -nosalt -K "$(printf '%032x' "$3")" \
    -iv 00000000000000000000000000000000 >"$1"
}
b64md5() { openssl md5 -binary "$1" | base64; }
# part FILE OFFSET LENGTH OUT : bytes OFFSET.. of FILE.
part() { dd if="$1" of="$4" bs=1M iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none; }
# log_since N : request-log lines after the first N.
log_since() { tail -n +$(($1 + 1)) "$GCS_LOG"; }
log_lines() { wc -l <"$GCS_LOG"; }

# ---------------------------------------------------------------------------------
step "the server starts on 127.0.0.1 with a free port, a bucket and a service account"
gcs_start main
[[ $GCS_URL == "http://127.0.0.1:$GCS_PORT" ]] || fail "GCS_URL is $GCS_URL"
expect_eq "$GCS_BUCKET" mlpack-test "GCS_BUCKET"
expect_eq "$GCS_TOKEN_URI" "$GCS_URL/token" "GCS_TOKEN_URI"
expect_eq "$GCS_METADATA_HOST" "127.0.0.1:$GCS_PORT" "GCS_METADATA_HOST"
[[ -d $GCS_ROOT/buckets/mlpack-test/objects ]] || fail "no bucket folder in $GCS_ROOT"
main_pid=${_GCS_PID[main]}
pgrep -f gcs_server.py | grep -qx "$main_pid" || fail "pgrep -f gcs_server.py does not find pid $main_pid"
expect_eq "$(json "$GCS_SA_FILE" 'd["type"]')" service_account "type"
expect_eq "$(json "$GCS_SA_FILE" 'd["client_email"]')" "$GCS_SA_EMAIL" "client_email"
expect_eq "$(json "$GCS_SA_FILE" 'd["token_uri"]')" "$GCS_TOKEN_URI" "token_uri"
expect_eq "$(json "$GCS_SA_FILE" 'd["project_id"]')" "$GCS_PROJECT" "project_id"
expect_eq "$(json "$GCS_SA_FILE" 'd["private_key"].splitlines()[0]')" "-----BEGIN PRIVATE KEY-----" "private_key"
expect_eq "$(json "$GCS_SA_WRONG_FILE" 'd["client_email"]')" "$GCS_SA_EMAIL" "wrong file's client_email"
expect_ne "$(json "$GCS_SA_WRONG_FILE" 'd["private_key"]')" "$(json "$GCS_SA_FILE" 'd["private_key"]')" "private keys"
expect_eq "$(stat -c %a "$GCS_SA_FILE")" 600 "mode of the service-account file"
# Bound to 127.0.0.1 only: another loopback address is refused.
req "http://127.0.0.2:$GCS_PORT/"
expect_eq "$CURL_RC" 7 "curl exit for 127.0.0.2"

B=$GCS_BUCKET
API=$GCS_URL/storage/v1/b/$B
UP=$GCS_URL/upload/storage/v1/b/$B/o
AUTH=(-H "Authorization: Bearer $GCS_TOKEN")

# ---------------------------------------------------------------------------------
step "auth: no token -> 401 required; unknown token -> 401 authError; denied -> 403"
expect_gcs_error 401 required "$API"
[[ $(header WWW-Authenticate) == Bearer* ]] || fail "401 without WWW-Authenticate: Bearer"
expect_gcs_error 401 authError -H "Authorization: Bearer ya29.not-a-token" "$API/o"
expect_gcs_error 401 authError -H "Authorization: Basic Zm9vOmJhcg==" "$API/o"
expect_gcs_error 403 forbidden -H "Authorization: Bearer $GCS_DENIED_TOKEN" "$API/o"
expect_req 200 "${AUTH[@]}" "$API"
expect_eq "$(json "$OUT" 'd["kind"] + " " + d["name"]')" "storage#bucket $B" "bucket resource"
expect_gcs_error 404 notFound "${AUTH[@]}" "$GCS_URL/storage/v1/b/no-such-bucket"
expect_gcs_error 404 notFound "${AUTH[@]}" "$GCS_URL/storage/v1/b/no-such-bucket/o"

step "token endpoint: a JWT signed with the service account's key gets a working token"
grant=(--data-urlencode "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer")
expect_req 200 "${grant[@]}" --data-urlencode "assertion=$(gcs_jwt)" "$GCS_TOKEN_URI"
jwt_token=$(json "$OUT" 'd["access_token"]')
expect_eq "$(json "$OUT" '"%s %s" % (d["token_type"], d["expires_in"])')" "Bearer 3599" "token answer"
expect_req 200 -H "Authorization: Bearer $jwt_token" "$API/o"

step "token endpoint: the wrong key, a bad iat/exp, audience, scope or grant type -> 400"
# expect_grant_error ERROR DESCRIPTION CURL-ARGS...
expect_grant_error() {
  local error=$1 desc=$2
  shift 2
  expect_req 400 "$@" "$GCS_TOKEN_URI"
  expect_eq "$(json "$OUT" 'd["error"]')" "$error" "token error"
  [[ -z $desc ]] || expect_eq "$(json "$OUT" 'd["error_description"]')" "$desc" "token error_description"
}
expect_grant_error invalid_grant "Invalid JWT Signature." \
  "${grant[@]}" --data-urlencode "assertion=$(gcs_jwt --sa-file "$GCS_SA_WRONG_FILE")"
expect_grant_error invalid_grant "Invalid JWT Signature." \
  "${grant[@]}" --data-urlencode "assertion=$(gcs_jwt --alg HS256)"
tampered=$(gcs_jwt)
tampered=${tampered%.*}.$(printf 'x%.0s' {1..342})
expect_grant_error invalid_grant "Invalid JWT Signature." "${grant[@]}" --data-urlencode "assertion=$tampered"
time_error="Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."
expect_grant_error invalid_grant "$time_error" "${grant[@]}" --data-urlencode "assertion=$(gcs_jwt --iat-offset -4000)"
expect_grant_error invalid_grant "$time_error" "${grant[@]}" --data-urlencode "assertion=$(gcs_jwt --iat-offset 600)"
expect_grant_error invalid_grant "$time_error" "${grant[@]}" --data-urlencode "assertion=$(gcs_jwt --lifetime 7200)"
expect_grant_error invalid_grant "" "${grant[@]}" --data-urlencode "assertion=$(gcs_jwt --aud http://127.0.0.1:1/token)"
expect_grant_error invalid_scope "" "${grant[@]}" \
  --data-urlencode "assertion=$(gcs_jwt --scope https://www.googleapis.com/auth/userinfo.email)"
expect_grant_error unauthorized_client "" "${grant[@]}" --data-urlencode "assertion=$(gcs_jwt --sub someone@example.com)"
expect_grant_error unsupported_grant_type "" --data-urlencode "grant_type=client_credentials" \
  --data-urlencode "assertion=$(gcs_jwt)"
expect_grant_error invalid_grant "" "${grant[@]}" --data-urlencode "assertion=not.a-jwt"

step "a token granted devstorage.read_only reads, and gets 403 on writes"
expect_req 200 "${grant[@]}" --data-urlencode \
  "assertion=$(gcs_jwt --scope https://www.googleapis.com/auth/devstorage.read_only)" "$GCS_TOKEN_URI"
ro_token=$(json "$OUT" 'd["access_token"]')
expect_req 200 -H "Authorization: Bearer $ro_token" "$API/o"
expect_gcs_error 403 forbidden -H "Authorization: Bearer $ro_token" --data-binary x \
  "$UP?uploadType=media&name=ro"

step "metadata server: the token endpoint needs Metadata-Flavor: Google"
MD=$GCS_URL/computeMetadata/v1
expect_req 403 "$MD/instance/service-accounts/default/token"
expect_req 403 -H "Metadata-Flavor: Googl" "$MD/instance/service-accounts/default/token"
expect_req 200 -H "Metadata-Flavor: Google" "$MD/instance/service-accounts/default/token"
expect_eq "$(header Metadata-Flavor)" Google "Metadata-Flavor of the answer"
md_token=$(json "$OUT" 'd["access_token"]')
expect_eq "$(json "$OUT" 'd["token_type"]')" Bearer "token_type"
expect_req 200 -H "Authorization: Bearer $md_token" "$API/o"
expect_req 200 -H "Metadata-Flavor: Google" "$MD/instance/service-accounts/default/email"
expect_eq "$(cat "$OUT")" "$GCS_SA_EMAIL" "metadata email"
expect_req 200 -H "Metadata-Flavor: Google" "$MD/project/project-id"
expect_eq "$(cat "$OUT")" "$GCS_PROJECT" "metadata project-id"
expect_req 404 -H "Metadata-Flavor: Google" "$MD/instance/no-such-thing"
gcs_stats >"$TMP/stats.json"
expect_eq "$(json "$TMP/stats.json" 'd["tokens_by_grant"]')" '{"jwt": 2, "metadata": 1}' "tokens issued"

step "issued tokens expire: 401 authError afterwards (clients must refresh)"
gcs_expire_tokens
expect_gcs_error 401 authError -H "Authorization: Bearer $jwt_token" "$API/o"
expect_gcs_error 401 authError -H "Authorization: Bearer $md_token" "$API/o"
expect_req 200 "${AUTH[@]}" "$API/o" # the static token does not expire

# ---------------------------------------------------------------------------------
step "media upload: the object resource has GCS's fields, crc32c and md5Hash are right"
printf '123456789' >nine
expect_req 200 "${AUTH[@]}" -H 'Content-Type: text/plain' --data-binary @nine "$UP?uploadType=media&name=dir%2Fnine"
cp "$OUT" nine.json
expect_eq "$(json nine.json 'd["kind"]')" storage#object "kind"
expect_eq "$(json nine.json 'd["name"]')" dir/nine "name"
expect_eq "$(json nine.json 'd["bucket"]')" "$B" "bucket"
expect_eq "$(json nine.json 'd["size"]')" 9 "size (a string)"
expect_eq "$(json nine.json 'type(d["size"]).__name__ + type(d["generation"]).__name__')" strstr "size and generation types"
expect_eq "$(json nine.json 'd["crc32c"]')" 4waSgw== "crc32c of 123456789 (0xE3069283)"
expect_eq "$(json nine.json 'd["md5Hash"]')" "$(b64md5 nine)" "md5Hash"
expect_eq "$(json nine.json 'd["contentType"]')" text/plain "contentType"
expect_eq "$(json nine.json 'd["metageneration"]')" 1 "metageneration"
gen1=$(json nine.json 'd["generation"]')
[[ $gen1 =~ ^[0-9]{16}$ ]] || fail "generation '$gen1' is not a microsecond timestamp"
expect_req 200 "${AUTH[@]}" "$API/o/dir%2Fnine"
expect_eq "$(json "$OUT" 'd["generation"]')" "$gen1" "generation from objects.get"
expect_req 200 "${AUTH[@]}" "$API/o/dir%2Fnine?alt=media"
cmp nine "$OUT" || fail "alt=media returned other bytes"
expect_eq "$(header x-goog-generation)" "$gen1" "x-goog-generation"
expect_eq "$(header x-goog-hash)" "crc32c=4waSgw==,md5=$(b64md5 nine)" "x-goog-hash"
expect_eq "$(header Content-Type)" text/plain "Content-Type of the media"
expect_req 200 "${AUTH[@]}" "$(json nine.json 'd["mediaLink"]')"
cmp nine "$OUT" || fail "the mediaLink returned other bytes"
expect_gcs_error 400 invalid "${AUTH[@]}" -H "X-Goog-Hash: crc32c=AAAAAA==" --data-binary @nine \
  "$UP?uploadType=media&name=bad-hash"
expect_gcs_error 400 required "${AUTH[@]}" --data-binary @nine "$UP?uploadType=media"
expect_gcs_error 400 invalid "${AUTH[@]}" --data-binary @nine "$UP?uploadType=weird&name=x"
expect_gcs_error 404 notFound "${AUTH[@]}" "$API/o/dir%2Fmissing"
expect_gcs_error 404 notFound "${AUTH[@]}" "$API/o/dir%2Fmissing?alt=media"

step "object names travel %-encoded; bad encodings and raw slashes are refused"
odd='sp ace/ü+%&?.txt'
odd_enc=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$odd")
expect_req 200 "${AUTH[@]}" --data-binary @nine "$UP?uploadType=media&name=$odd_enc"
expect_eq "$(json "$OUT" 'd["name"]')" "$odd" "odd name"
expect_req 200 "${AUTH[@]}" "$API/o/$odd_enc?alt=media"
cmp nine "$OUT" || fail "the odd name returned other bytes"
expect_gcs_error 400 invalid "${AUTH[@]}" "$API/o/dir/nine"
expect_gcs_error 400 invalid "${AUTH[@]}" "$API/o/dir%2Fni%zzne"
expect_gcs_error 400 invalid "${AUTH[@]}" "$API/o/dir%2F%FF"
expect_gcs_error 400 invalid "${AUTH[@]}" --data-binary @nine "$UP?uploadType=media&name=a%0Ab"

step "multipart upload: JSON metadata part, then the media part"
mp_body() { # mp_body MD5-FIELD
  printf -- '--XyZzY\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n'
  printf '{"name": "mp/one", "contentType": "application/x-test", "metadata": {"k": "v"}%s}' "$1"
  printf -- '\r\n--XyZzY\r\nContent-Type: application/octet-stream\r\n\r\n'
  cat nine
  printf -- '\r\n--XyZzY--\r\n'
}
mp_body '' >mp.body
expect_req 200 "${AUTH[@]}" -H 'Content-Type: multipart/related; boundary=XyZzY' --data-binary @mp.body \
  "$UP?uploadType=multipart"
expect_eq "$(json "$OUT" '" ".join([d["name"], d["contentType"], d["metadata"]["k"], d["size"]])')" \
  "mp/one application/x-test v 9" "multipart object"
expect_eq "$(gcs_cat mp/one)" 123456789 "multipart bytes"
mp_body ', "md5Hash": "AAAAAAAAAAAAAAAAAAAAAA=="' >mp-bad.body
expect_gcs_error 400 invalid "${AUTH[@]}" -H 'Content-Type: multipart/related; boundary=XyZzY' \
  --data-binary @mp-bad.body "$UP?uploadType=multipart"
expect_gcs_error 400 invalid "${AUTH[@]}" -H 'Content-Type: application/json' --data-binary @mp.body \
  "$UP?uploadType=multipart"

# ---------------------------------------------------------------------------------
step "resumable: initiation gives a session URI; a fresh session's status has no Range"
size=$((2 * ALIGN + 1000))
gen big "$size" 1
# start_session NAME [CURL-ARGS...] : sets S (the session URI).
start_session() {
  local name=$1
  shift
  expect_req 200 "${AUTH[@]}" -X POST -H 'Content-Length: 0' "$@" "$UP?uploadType=resumable&name=$name"
  S=$(header Location)
  [[ $S == "$GCS_URL/upload/storage/v1/b/$B/o?uploadType=resumable&name=$name&upload_id="* ]] ||
    fail "unexpected Location: $S"
  expect_eq "$(header X-GUploader-UploadID)" "${S##*upload_id=}" "X-GUploader-UploadID"
}
# chunk FILE OFFSET LENGTH TOTAL [CURL-ARGS...] : one chunk PUT (no auth:
# the session URI is the credential), Content-Range bytes OFF-END/TOTAL.
chunk() {
  local file=$1 off=$2 len=$3 total=$4
  shift 4
  part "$file" "$off" "$len" .chunk
  req -X PUT -H "Content-Range: bytes $off-$((off + len - 1))/$total" --data-binary @.chunk "$@" "$S"
}
status_query() { req -X PUT -H "Content-Range: bytes */${1:-*}" --data-binary '' "$S"; }
expect_308() { # expect_308 PERSISTED
  [[ $CODE == 308 ]] || { _req_failed; fail "expected 308, got $CODE"; }
  if (($1 == 0)); then
    [[ -z $(header Range) ]] || fail "308 with Range '$(header Range)' while nothing is persisted"
  else
    expect_eq "$(header Range)" "bytes=0-$(($1 - 1))" "Range of the 308"
  fi
}
start_session res%2Fbig -H 'X-Upload-Content-Type: application/x-big'
status_query
expect_308 0
expect_eq "$(gcs_open_sessions res/)" 1 "open sessions"

step "resumable: a non-final chunk must be a multiple of 256 KiB (400 otherwise)"
chunk big 0 102400 '*'
expect_eq "$CODE" 400 "status of a 100 KiB non-final chunk"
expect_contains "$OUT" "required to be equal or greater than 262144"
chunk big 0 $((ALIGN + 1000)) '*'
expect_eq "$CODE" 400 "status of a 257 KiB non-final chunk"
status_query
expect_308 0

step "resumable: two chunks, a 308 with Range in between, status queries, the final 200"
chunk big 0 $ALIGN '*'
expect_308 $ALIGN
status_query
expect_308 $ALIGN
status_query "$size"
expect_308 $ALIGN
# A chunk past the persisted offset: 503 text/plain, GCS's words.
chunk big $((2 * ALIGN)) 1000 "$size"
expect_eq "$CODE" 503 "status of a chunk past the persisted offset"
[[ $(header Content-Type) == text/plain* ]] || fail "the offset-gap 503 is not text/plain"
expect_contains "$OUT" "the upload offset is 524288 byte(s), which exceeds already uploaded size of 262144 byte(s)."
# The first chunk again: already held, so just the same 308.
chunk big 0 $ALIGN '*'
expect_308 $ALIGN
# A last byte past the total, and a total that changes: 400.
chunk big $ALIGN $ALIGN $ALIGN
expect_eq "$CODE" 400 "status of a chunk ending past its total"
chunk big $ALIGN $((size - ALIGN)) "$size"
expect_eq "$CODE" 200 "status of the final chunk"
expect_eq "$(json "$OUT" '" ".join([d["name"], d["size"], d["contentType"]])')" \
  "res/big $size application/x-big" "the object of the final chunk"
expect_eq "$(json "$OUT" 'd["md5Hash"]')" "$(b64md5 big)" "md5Hash of the resumable upload"
gcs_cat res/big >big.back
cmp big big.back || fail "the resumable upload stored other bytes"
status_query
expect_eq "$CODE" 200 "status query after finalisation"
expect_eq "$(json "$OUT" 'd["size"]')" "$size" "object from a status query after finalisation"
expect_eq "$(gcs_open_sessions res/)" 0 "open sessions after finalisation"
# The log shows the exchange: every request on the session, with its
# Content-Range and status, in order.
grep -F "${S#"$GCS_URL"}" "$GCS_LOG" | awk '{print $1, $3, $7}' >session.log
cat >session.want <<EOF
PUT 308 */*
PUT 400 0-102399/*
PUT 400 0-263143/*
PUT 308 */*
PUT 308 0-262143/*
PUT 308 */*
PUT 308 */$size
PUT 503 524288-525287/$size
PUT 308 0-262143/*
PUT 400 262144-524287/262144
PUT 200 262144-$((size - 1))/$size
PUT 200 */*
EOF
diff session.want session.log >&2 || fail "the request log of the session is not as expected"

step "resumable: an upload of unknown size ending on a boundary is closed by bytes */TOTAL"
start_session res%2Faligned
chunk big 0 $ALIGN '*'
expect_308 $ALIGN
status_query $ALIGN
expect_eq "$CODE" 200 "closing status query"
expect_eq "$(json "$OUT" 'd["size"]')" $ALIGN "size of the closed upload"

step "resumable: DELETE cancels (499), later requests get 410; unknown sessions 404"
start_session res%2Fcancelled
chunk big 0 $ALIGN '*'
expect_308 $ALIGN
expect_eq "$(gcs_open_sessions res/)" 1 "open sessions before the cancel"
expect_req 499 -X DELETE -H 'Content-Length: 0' "$S"
status_query
expect_eq "$CODE" 410 "status query on a cancelled session"
expect_eq "$(gcs_open_sessions res/)" 0 "open sessions after the cancel"
expect_eq "$(gcs_keys res/)" "$(printf 'aligned\nbig')" "objects under res/"
S=${S%upload_id=*}upload_id=ADPycNoSuchSession0000000000000000
status_query
expect_eq "$CODE" 404 "status query on an unknown session"

step "resumable: X-GUploader-No-308 turns the 308 into 200 + X-HTTP-Status-Code-Override"
start_session res%2Fno308
chunk big 0 $ALIGN '*' -H 'X-GUploader-No-308: yes'
expect_eq "$CODE" 200 "status with X-GUploader-No-308"
expect_eq "$(header X-HTTP-Status-Code-Override)" 308 "X-HTTP-Status-Code-Override"
expect_eq "$(header Range)" "bytes=0-$((ALIGN - 1))" "Range with X-GUploader-No-308"
expect_req 499 -X DELETE "$S"

# ---------------------------------------------------------------------------------
step "preconditions: ifGenerationMatch=0 on an existing object -> 412; =current -> a new generation"
expect_gcs_error 412 conditionNotMet "${AUTH[@]}" --data-binary @nine \
  "$UP?uploadType=media&name=dir%2Fnine&ifGenerationMatch=0"
expect_eq "$(json "$OUT" 'd["error"]["message"]')" \
  "At least one of the pre-conditions you specified did not hold." "412 message"
expect_req 200 "${AUTH[@]}" --data-binary @nine "$UP?uploadType=media&name=dir%2Fnine&ifGenerationMatch=$gen1"
gen2=$(json "$OUT" 'd["generation"]')
((gen2 > gen1)) || fail "generation $gen2 is not above $gen1"
expect_gcs_error 412 conditionNotMet "${AUTH[@]}" --data-binary @nine \
  "$UP?uploadType=media&name=dir%2Fnine&ifGenerationMatch=$gen1"
expect_gcs_error 412 conditionNotMet "${AUTH[@]}" --data-binary @nine \
  "$UP?uploadType=media&name=dir%2Fnew&ifGenerationMatch=$gen2"
expect_req 200 "${AUTH[@]}" --data-binary @nine "$UP?uploadType=media&name=dir%2Fnew&ifGenerationMatch=0"
expect_req 200 "${AUTH[@]}" --data-binary @nine "$UP?uploadType=media&name=dir%2Fnew&ifMetagenerationMatch=1"
expect_gcs_error 412 conditionNotMet "${AUTH[@]}" --data-binary @nine \
  "$UP?uploadType=media&name=dir%2Fnew&ifMetagenerationMatch=2"
expect_gcs_error 400 invalid "${AUTH[@]}" --data-binary @nine \
  "$UP?uploadType=media&name=dir%2Fnew&ifGenerationMatch=abc"
expect_gcs_error 412 conditionNotMet "${AUTH[@]}" "$API/o/dir%2Fnine?ifGenerationMatch=$gen1"
expect_req 200 "${AUTH[@]}" "$API/o/dir%2Fnine?alt=media&ifGenerationMatch=$gen2"
expect_req 304 "${AUTH[@]}" "$API/o/dir%2Fnine?ifGenerationNotMatch=$gen2"

step "preconditions on resumable uploads: at the initiation, and again at the finalisation"
expect_gcs_error 412 conditionNotMet "${AUTH[@]}" -X POST -H 'Content-Length: 0' \
  "$UP?uploadType=resumable&name=dir%2Fnine&ifGenerationMatch=0"
expect_req 200 "${AUTH[@]}" -X POST -H 'Content-Length: 0' "$UP?uploadType=resumable&name=res%2Frace&ifGenerationMatch=0"
S=$(header Location)
chunk big 0 $ALIGN '*'
expect_308 $ALIGN
gcs_put res/race nine # another writer gets there first
chunk big $ALIGN $((size - ALIGN)) "$size"
expect_eq "$CODE" 412 "final chunk after another writer created the object"
expect_eq "$(json "$OUT" 'd["error"]["errors"][0]["reason"]')" conditionNotMet "reason"
status_query
expect_eq "$CODE" 412 "status query on the failed session"
expect_eq "$(gcs_cat res/race)" 123456789 "the other writer's object"
expect_eq "$(gcs_open_sessions res/)" 0 "open sessions after the failed finalisation"

step "delete: ifGenerationMatch must hold; 204; then 404"
expect_gcs_error 412 conditionNotMet "${AUTH[@]}" -X DELETE "$API/o/dir%2Fnine?ifGenerationMatch=$gen1"
expect_req 204 "${AUTH[@]}" -X DELETE "$API/o/dir%2Fnine?ifGenerationMatch=$gen2"
expect_gcs_error 404 notFound "${AUTH[@]}" -X DELETE "$API/o/dir%2Fnine"
expect_gcs_error 404 notFound "${AUTH[@]}" "$API/o/dir%2Fnine"

# ---------------------------------------------------------------------------------
step "ranged alt=media: 206 with Content-Range; suffix ranges; 416 past the end"
expect_req 206 "${AUTH[@]}" -H 'Range: bytes=10-19' "$API/o/res%2Fbig?alt=media"
expect_eq "$(header Content-Range)" "bytes 10-19/$size" "Content-Range"
part big 10 10 want.part
cmp want.part "$OUT" || fail "bytes 10-19 differ"
expect_req 206 "${AUTH[@]}" -H "Range: bytes=$((size - 100))-" "$API/o/res%2Fbig?alt=media"
part big $((size - 100)) 100 want.part
cmp want.part "$OUT" || fail "the open-ended range differs"
expect_req 206 "${AUTH[@]}" -H 'Range: bytes=-5' "$API/o/res%2Fbig?alt=media"
expect_eq "$(header Content-Range)" "bytes $((size - 5))-$((size - 1))/$size" "suffix Content-Range"
expect_gcs_error 416 requestedRangeNotSatisfiable "${AUTH[@]}" -H "Range: bytes=$size-" "$API/o/res%2Fbig?alt=media"
expect_eq "$(header Content-Range)" "bytes */$size" "Content-Range of the 416"
expect_req 200 "${AUTH[@]}" -H 'Range: bytes=0-1,5-6' "$API/o/res%2Fbig?alt=media"
cmp big "$OUT" || fail "a multi-range request did not get the whole object"

step "list: pages of maxResults, nextPageToken, prefix, delimiter; no items key when empty"
for n in e c a d b; do printf '%s' "$n" >"v$n"; gcs_put "list/$n" "v$n"; done
gcs_put list/sub/x va
names=() pages=0 token=''
while :; do
  expect_req 200 "${AUTH[@]}" "$API/o?prefix=list%2F&maxResults=2${token:+&pageToken=$token}"
  pages=$((pages + 1))
  mapfile -t -O "${#names[@]}" names < <(json "$OUT" '"\n".join(i["name"] for i in d.get("items", []))')
  token=$(json "$OUT" 'd.get("nextPageToken", "")')
  [[ -n $token ]] || break
  ((pages < 10)) || fail "listing does not end"
done
expect_eq "$pages" 3 "pages of 2"
expect_eq "${names[*]}" "list/a list/b list/c list/d list/e list/sub/x" "listed names"
expect_req 200 "${AUTH[@]}" "$API/o?prefix=list%2F&delimiter=%2F"
expect_eq "$(json "$OUT" 'd["prefixes"]')" '["list/sub/"]' "prefixes"
expect_eq "$(json "$OUT" 'len(d["items"])')" 5 "items next to the prefixes"
expect_req 200 "${AUTH[@]}" "$API/o?prefix=nothing%2F"
expect_eq "$(json "$OUT" 'sorted(d)')" '["kind"]' "keys of an empty listing"
expect_gcs_error 400 invalid "${AUTH[@]}" "$API/o?maxResults=0"
expect_gcs_error 400 invalid "${AUTH[@]}" "$API/o?pageToken=%21%21"

step "store helpers: keys, cat, put (a new generation even for the same bytes), state, delete"
expect_eq "$(gcs_keys list/)" "$(printf 'a\nb\nc\nd\ne\nsub/x')" "gcs_keys"
expect_eq "$(gcs_keys nothing/)" "" "gcs_keys of an empty prefix"
expect_eq "$(gcs_cat list/c)" c "gcs_cat"
before=$(gcs_state list/)
expect_eq "$(awk '{print $4}' <<<"$before" | paste -sd' ')" "a b c d e sub/x" "gcs_state names"
gcs_put list/c vc
after=$(gcs_state list/)
expect_ne "$before" "$after" "gcs_state after rewriting the same bytes"
expect_eq "$(diff <(echo "$before") <(echo "$after") | grep -c '^[<>]')" 2 "lines changed by one write"
expect_eq "$(gcs_state list/)" "$after" "gcs_state after reads only"
gcs_delete list/e
expect_eq "$(gcs_keys list/)" "$(printf 'a\nb\nc\nd\nsub/x')" "gcs_keys after gcs_delete"
rc=0; gcs_delete list/e 2>/dev/null || rc=$?
expect_eq "$rc" 1 "gcs_delete of a missing object"
rc=0; gcs_cat list/e >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 1 "gcs_cat of a missing object"
expect_req 200 "${AUTH[@]}" "$API/o/list%2Fc"
expect_eq "$(json "$OUT" 'd["generation"]')" "$(awk '$4 == "c" {print $1}' <<<"$after")" "generation seen through the API"

# ---------------------------------------------------------------------------------
step "faults: the next N requests answer 503 (JSON backendError, Retry-After)"
gcs_fault '{"kind": "status", "status": 503, "count": 2, "retry_after": 1}'
expect_gcs_error 503 backendError "${AUTH[@]}" "$API/o/list%2Fa"
expect_eq "$(header Retry-After)" 1 "Retry-After"
expect_gcs_error 503 backendError "${AUTH[@]}" --data-binary @nine "$UP?uploadType=media&name=list%2Fa"
expect_req 200 "${AUTH[@]}" "$API/o/list%2Fa?alt=media"
expect_eq "$(cat "$OUT")" a "object after the 503s (the failed upload changed nothing)"

step "faults: a chunk cut mid-body keeps a 256 KiB-aligned prefix; the upload resumes from it"
gen big2 $((4 * ALIGN + 777)) 2
start_session res%2Fcut
gcs_fault '{"kind": "cut", "path": "upload_id=", "after_bytes": 600000}'
n0=$(log_lines)
chunk big2 0 $((4 * ALIGN)) '*'
((CURL_RC != 0)) || fail "the cut chunk got an answer (HTTP $CODE)"
status_query
expect_308 $((2 * ALIGN)) # 600000 bytes arrived: 524288 kept
chunk big2 $((2 * ALIGN)) $((2 * ALIGN + 777)) $((4 * ALIGN + 777))
expect_eq "$CODE" 200 "final chunk after the cut"
gcs_cat res/cut | cmp big2 - || fail "the resumed upload stored other bytes"
log_since "$n0" | awk '{print $3, $4, $5, $7}' >cut.log
printf '%s\n' "- 600000 cut 0-1048575/*" "308 0 - */*" "200 $((2 * ALIGN + 777)) - 524288-1049352/1049353" >cut.want
diff cut.want cut.log >&2 || fail "the request log of the cut upload is not as expected"

step "faults: a cut download, a stall, a reset"
gcs_fault '{"kind": "cut", "path": "res%2Fbig?alt=media"}'
req "${AUTH[@]}" "$API/o/res%2Fbig?alt=media"
expect_eq "$CURL_RC" 18 "curl exit for a download cut short"
expect_eq "$(stat -c %s "$OUT")" $((size / 2)) "bytes of the cut download"
gcs_fault '{"kind": "stall", "seconds": 1}'
req --max-time 20 "${AUTH[@]}" "$API/o"
expect_eq "$CURL_RC" 52 "curl exit after a stall (empty reply)"
gcs_fault '{"kind": "reset"}'
req "${AUTH[@]}" "$API/o"
[[ $CURL_RC == 56 || $CURL_RC == 52 ]] || fail "curl exit $CURL_RC after a reset"
expect_req 200 "${AUTH[@]}" "$API/o"
gcs_stats >"$TMP/stats.json"
expect_eq "$(json "$TMP/stats.json" 'd["faults_fired"]')" 6 "faults fired"

step "big bodies stream to disk: a 96 MiB upload and download keep the server small"
gen huge $((96 << 20)) 3
expect_req 200 "${AUTH[@]}" --data-binary @huge "$UP?uploadType=media&name=huge"
expect_eq "$(json "$OUT" 'd["md5Hash"]')" "$(b64md5 huge)" "md5Hash of the 96 MiB object"
expect_req 200 "${AUTH[@]}" "$API/o/huge?alt=media"
cmp huge "$OUT" || fail "the 96 MiB download differs"
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$main_pid/status")
((hwm < 90 * 1024)) || fail "the server's peak RSS is ${hwm} kB after a 96 MiB upload: bodies are held in memory"
rm -f huge "$OUT"

step "other instances at once: --public (anonymous reads), --no-auth, --unaligned-chunks truncate"
gcs_start pub --bucket pub-bucket --public
expect_ne "$GCS_PORT" "$(<"$TMP/gcs-main/port")" "ports of two instances"
printf 'public' >pub.txt
gcs_put p/one pub.txt
expect_req 200 "$GCS_URL/storage/v1/b/pub-bucket/o?prefix=p%2F"
expect_eq "$(json "$OUT" '[i["name"] for i in d["items"]]')" '["p/one"]' "anonymous listing"
expect_req 200 "$GCS_URL/storage/v1/b/pub-bucket/o/p%2Fone?alt=media"
expect_eq "$(cat "$OUT")" public "anonymous download"
expect_gcs_error 401 required --data-binary @pub.txt "$GCS_URL/upload/storage/v1/b/pub-bucket/o?uploadType=media&name=p%2Ftwo"
gcs_start free --no-auth --unaligned-chunks truncate
expect_req 200 --data-binary @pub.txt "$GCS_URL/upload/storage/v1/b/$GCS_BUCKET/o?uploadType=media&name=free"
UP_FREE=$GCS_URL/upload/storage/v1/b/$GCS_BUCKET/o
expect_req 200 -X POST -H 'Content-Length: 0' "$UP_FREE?uploadType=resumable&name=free2"
S=$(header Location)
chunk big 0 $((ALIGN + 1000)) '*' # not a multiple: only the aligned prefix is kept
expect_308 $ALIGN
chunk big $ALIGN $((size - ALIGN)) "$size"
expect_eq "$CODE" 200 "final chunk after a truncated one"
gcs_cat free2 | cmp big - || fail "the upload with a truncated chunk stored other bytes"
gcs_stop free
gcs_stop pub
gcs_use main

# ---------------------------------------------------------------------------------
step "restart: same port; objects, open sessions and issued tokens survive"
expect_req 200 "${grant[@]}" --data-urlencode "assertion=$(gcs_jwt)" "$GCS_TOKEN_URI"
jwt_token=$(json "$OUT" 'd["access_token"]')
start_session res%2Facross-restart
chunk big 0 $ALIGN '*'
expect_308 $ALIGN
port_before=$GCS_PORT
gcs_stop main
_gcs_alive "$main_pid" && fail "the server still runs after gcs_stop"
req "$GCS_URL/storage/v1/b/$B"
expect_eq "$CURL_RC" 7 "curl exit while the server is down"
expect_eq "$(gcs_cat list/a)" a "gcs_cat while the server is down"
gcs_start main
expect_eq "$GCS_PORT" "$port_before" "port after the restart"
status_query
expect_308 $ALIGN
chunk big $ALIGN $((size - ALIGN)) "$size"
expect_eq "$CODE" 200 "final chunk after the restart"
gcs_cat res/across-restart | cmp big - || fail "the upload across the restart stored other bytes"
expect_req 200 -H "Authorization: Bearer $jwt_token" "$API/o/list%2Fa"

# ---------------------------------------------------------------------------------
step "conformance: Google's Node.js client (@google-cloud/storage $GCS_NODE_CLIENT_VERSION) against the server"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  fail "node and npm are needed for the conformance check (Google's Node.js client); install Node.js"
fi
NODE_CLIENT=$NPM_CACHE/gcs-node-client-$GCS_NODE_CLIENT_VERSION
if [[ ! -f $NODE_CLIENT/node_modules/@google-cloud/storage/package.json ]]; then
  mkdir -p "$NPM_CACHE"
  t0=$(date +%s)
  # One install per machine, even with concurrent test runs: under a lock,
  # into a fresh folder renamed into place only when complete.
  (
    flock -w 600 9 || { echo "npm cache lock: timeout" >&2; exit 1; }
    [[ -f $NODE_CLIENT/node_modules/@google-cloud/storage/package.json ]] && exit 0
    work=$(mktemp -d "$NPM_CACHE/.install.XXXXXX")
    echo '{"name": "mlpack-gcs-conformance", "private": true}' >"$work/package.json"
    userconfig=()
    [[ -f $_NPM_USERCONFIG ]] && userconfig=(--userconfig "$_NPM_USERCONFIG")
    (cd "$work" && npm install "${userconfig[@]}" --cache "$NPM_CACHE/_cacache" --no-audit --no-fund \
      --no-update-notifier --loglevel=error "@google-cloud/storage@$GCS_NODE_CLIENT_VERSION") \
      >"$TMP/npm.log" 2>&1 || { cat "$TMP/npm.log" >&2; rm -rf "$work"; exit 1; }
    rm -rf "$NODE_CLIENT"
    mv "$work" "$NODE_CLIENT"
  ) 9>"$NPM_CACHE/.lock" || fail "npm install @google-cloud/storage@$GCS_NODE_CLIENT_VERSION failed (no npm registry?)"
  echo "   installed @google-cloud/storage@$GCS_NODE_CLIENT_VERSION into $NODE_CLIENT in $(($(date +%s) - t0)) s"
fi
expect_eq "$(json "$NODE_CLIENT/node_modules/@google-cloud/storage/package.json" 'd["version"]')" \
  "$GCS_NODE_CLIENT_VERSION" "installed client version"

gen conf.bin $((3 * 1024 * 1024 + 12345)) 4
cat >conformance.cjs <<'EOF'
// Drives @google-cloud/storage against the test server. Credentials: the
// client's own GCE path (google-auth-library asks the metadata server at
// GCE_METADATA_HOST for a token), so every request is authenticated the way
// the client does it in production. The endpoint: apiEndpoint, not
// STORAGE_EMULATOR_HOST (with that variable the client sends JSON API calls
// without the /storage/v1 prefix, which GCS does not serve).
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const {Storage} = require(path.join(process.env.NODE_CLIENT, 'node_modules', '@google-cloud/storage'));

const url = process.env.GCS_URL;
const storage = new Storage({
  apiEndpoint: url,
  useAuthWithCustomEndpoint: true,
  projectId: 'mlpack-test-project',
  retryOptions: {autoRetry: true, maxRetries: 3, retryDelayMultiplier: 1.1, maxRetryDelay: 2, totalTimeout: 60},
});
const bucket = storage.bucket(process.env.GCS_BUCKET);
const results = {};

// A bug of the client (7.22.0): File#startResumableUpload_ does not pass
// useAuthWithCustomEndpoint on, so its resumable uploads to a custom
// endpoint go out without credentials (and get our 401). The token comes
// from the client's own auth (GoogleAuth, the metadata server); an
// interceptor puts it on the requests that miss it.
async function authorizeResumableUploads() {
  const token = await storage.authClient.getAccessToken();
  assert.ok(token, 'no token from the metadata server');
  storage.interceptors.push({
    request(reqOpts) {
      reqOpts.headers = {...reqOpts.headers};
      if (!Object.keys(reqOpts.headers).some(h => h.toLowerCase() === 'authorization')) {
        reqOpts.headers.Authorization = `Bearer ${token}`;
      }
      return reqOpts;
    },
  });
}

async function fault(rule) {
  const r = await fetch(url + '/_test/faults', {method: 'POST', body: JSON.stringify(rule)});
  assert.strictEqual(r.status, 200, 'arming a fault');
}

async function expectCode(what, want, promise) {
  try {
    await promise;
  } catch (e) {
    // ApiError carries the HTTP status in .code; the GaxiosError of a failed
    // resumable initiation in .status / .response.status.
    const got = e.code ?? e.status ?? (e.response && e.response.status);
    results[what] = got;
    assert.strictEqual(Number(got), want, `${what}: expected HTTP ${want}, got ${got} (${e.message})`);
    return;
  }
  assert.fail(`${what}: succeeded, expected code ${want}`);
}

async function main() {
  await authorizeResumableUploads();
  const big = fs.readFileSync(process.env.DATA_FILE);
  const file = bucket.file('conformance/big.bin');

  // 1. A chunked resumable upload (1 MiB chunks: 308s, then a 200); the
  //    client checks the CRC32C it computed against the server's.
  await file.save(big, {resumable: true, chunkSize: 1024 * 1024,
                        metadata: {contentType: 'application/x-conformance'}});
  const [meta] = await file.getMetadata();
  assert.strictEqual(Number(meta.size), big.length);
  assert.strictEqual(meta.contentType, 'application/x-conformance');
  results.generation = meta.generation;

  // 2. Downloads: whole (validated against x-goog-hash) and ranged.
  const [got] = await file.download();
  assert.ok(got.equals(big), 'whole download differs');
  const [slice] = await file.download({start: 1000, end: 1999});
  assert.ok(slice.equals(big.subarray(1000, 2000)), 'ranged download differs');

  // 3. Listing in pages of two (simple multipart uploads first).
  for (const n of ['d', 'a', 'c', 'e', 'b']) {
    await bucket.file(`conformance/list/${n}`).save(Buffer.from(n), {resumable: false});
  }
  let query = {prefix: 'conformance/list/', maxResults: 2, autoPaginate: false};
  const names = [];
  let pages = 0;
  while (query) {
    const [files, next] = await bucket.getFiles(query);
    pages++;
    names.push(...files.map(f => f.name));
    query = next;
  }
  assert.deepStrictEqual(names, ['a', 'b', 'c', 'd', 'e'].map(n => `conformance/list/${n}`));
  assert.strictEqual(pages, 3);
  results.pages = pages;

  // 4. ifGenerationMatch: 0 on an existing object: 412, resumable and not.
  await expectCode('resumable_412', 412,
                   file.save(Buffer.from('x'), {resumable: true, preconditionOpts: {ifGenerationMatch: 0}}));
  await expectCode('multipart_412', 412,
                   file.save(Buffer.from('x'), {resumable: false, preconditionOpts: {ifGenerationMatch: 0}}));
  const [after] = await file.download();
  assert.ok(after.equals(big), 'a failed precondition changed the object');

  // 5. A chunk cut mid-body: the client queries the session's status and
  //    resumes from the persisted offset. (The client retries only
  //    idempotent uploads: those with an ifGenerationMatch.)
  await fault({kind: 'cut', path: 'name=conformance%2Fcut.bin&upload_id=', after_bytes: 600000});
  const cut = bucket.file('conformance/cut.bin');
  await cut.save(big, {resumable: true, chunkSize: 1024 * 1024, preconditionOpts: {ifGenerationMatch: 0}});
  const [back] = await cut.download();
  assert.ok(back.equals(big), 'the upload resumed after a cut stored other bytes');

  // 6. Delete with a generation precondition.
  await expectCode('delete_412', 412, file.delete({ifGenerationMatch: 1}));
  await file.delete({ifGenerationMatch: meta.generation});
  const [exists] = await file.exists();
  assert.strictEqual(exists, false);

  fs.writeFileSync(process.env.RESULT_FILE, JSON.stringify(results));
}

main().catch(e => {
  console.error('conformance failure:', e && e.stack || e);
  process.exit(1);
});
EOF
n0=$(log_lines)
md0=$(gcs_stats | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["tokens_by_grant"]["metadata"])')
# A clean environment: no proxy, credentials or emulator variables of the
# caller's; METADATA_SERVER_DETECTION=ping-only: the client pings the
# metadata server (GCE_METADATA_HOST) instead of reading the BIOS.
env -i PATH="$PATH" HOME="$HOME" TMPDIR="${TMPDIR:-/tmp}" NODE_CLIENT="$NODE_CLIENT" \
  GCS_URL="$GCS_URL" GCS_BUCKET="$GCS_BUCKET" DATA_FILE="$TMP/conf.bin" RESULT_FILE="$TMP/conformance.json" \
  GCE_METADATA_HOST="$GCS_METADATA_HOST" METADATA_SERVER_DETECTION=ping-only \
  node conformance.cjs >node.out 2>&1 || { cat node.out >&2; fail "the Node.js client failed against the server"; }
log_since "$n0" >node.log
expect_eq "$(json conformance.json '[d["resumable_412"], d["multipart_412"], d["delete_412"], d["pages"]]')" \
  "[412, 412, 412, 3]" "conformance results"
# The client authenticated through the metadata server, and never got a 401.
md1=$(gcs_stats | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["tokens_by_grant"]["metadata"])')
((md1 > md0)) || fail "the Node.js client did not get a token from the metadata server"
grep -q '^GET /computeMetadata/v1/instance/service-accounts/default/token[? ].* 200 ' node.log ||
  fail "no metadata token request in the log"
! awk '$3 == 401' node.log | grep -q . || fail "the Node.js client got a 401: $(awk '$3 == 401' node.log)"
# The chunked upload: a session, then >= 2 chunk PUTs, 308s then one 200,
# every non-final chunk a multiple of 256 KiB.
awk '$1 == "PUT" && $2 ~ /name=conformance%2Fbig\.bin&upload_id=/ && $7 !~ /^\*/ {print $3, $7}' node.log >big.chunks
expect_eq "$(awk '{print $1}' big.chunks | paste -sd' ')" "308 308 308 200" "statuses of the chunk PUTs"
awk '$1 == 308 { split($2, a, /[-\/]/); if ((a[2] - a[1] + 1) % 262144) bad = 1 } END { exit bad }' big.chunks ||
  fail "a non-final chunk of the Node.js client is not a multiple of 256 KiB: $(cat big.chunks)"
expect_eq "$(tail -n 1 big.chunks | awk '{print $2}')" "3145728-3158072/3158073" "final chunk"
grep -q '^POST /upload/storage/v1/b/mlpack-test/o?.*uploadType=multipart' node.log ||
  fail "the Node.js client made no multipart upload"
grep -q '^GET /storage/v1/b/mlpack-test/o?.*maxResults=2.*pageToken=' node.log ||
  fail "the Node.js client did not page the listing"
# The cut chunk, then the client's status query and the rest.
awk '$2 ~ /name=conformance%2Fcut\.bin&upload_id=/ {print $1, $3, $5, $7}' node.log >cut.node
expect_eq "$(head -n 3 cut.node | paste -sd'|')" "PUT - cut 0-1048575/*|PUT 308 - */*|PUT 308 - 524288-1572863/*" \
  "the Node.js client's recovery from a cut chunk"

# ---------------------------------------------------------------------------------
step "no server is left behind"
gcs_stop_all
! pgrep -f "gcs_server.py serve --root $TMP/" >/dev/null || fail "a GCS server of this test still runs"
echo "all GCS harness checks passed"

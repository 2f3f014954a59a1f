#!/usr/bin/env bash
# Self-test of the HTTP test harness: the private WebDAV nginx, the test
# certificates and the fault proxy of nginx.sh and tools/fault_proxy.py,
# driven with curl alone. The HTTP-remote tests rely on every behaviour
# checked here; a failure here points at the harness, not at mlpack.

# This test never runs mlpack; lib.sh only insists that MLPACK names an
# executable, so the script also runs on its own without a build.
export MLPACK=${MLPACK:-$(type -P true)}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$MLPACK_TESTS_DIR/cli/nginx.sh"

command -v curl >/dev/null || fail "curl is missing: run scripts/install-deps.sh --test"

HDR=$TMP/.hdr
# req CURL-ARGS... : one curl run; sets CODE (the HTTP status, 000 if none)
# and CURL_RC, with the body in $OUT, the headers in $HDR, stderr in $ERR.
req() {
  CURL_RC=0
  CODE=$(curl -sS -o "$OUT" -D "$HDR" -w '%{http_code}' "$@" 2>"$ERR") || CURL_RC=$?
}
# expect_req CODE CURL-ARGS... : req, and the status must be CODE.
expect_req() {
  local want=$1
  shift
  req "$@"
  if [[ $CODE != "$want" ]]; then
    echo "  curl $* -> exit $CURL_RC" >&2
    head -c 2000 "$ERR" "$OUT" >&2 || true
    fail "expected HTTP $want, got $CODE: curl $*"
  fi
}
# header NAME : the value of response header NAME from the last req.
header() { awk -v n="$(tr '[:upper:]' '[:lower:]' <<<"$1")" -F': ' \
  'tolower($1) == n { sub(/\r$/, "", $2); print $2 }' "$HDR"; }

# The faults column of the proxy log, one word per request, in counter order.
proxy_faults() { sort -n "$PROXY_LOG" | awk '{print $4}' | paste -sd' '; }

head -c 20971520 /dev/urandom >big # 20 MiB
head -c 1000 /dev/urandom >small
ROOT=$TMP/root

# ---------------------------------------------------------------------------------
step "nginx starts on 127.0.0.1 with its own prefix, logs and a free port"
nginx_start plain "$ROOT"
[[ $NGINX_URL == "http://127.0.0.1:$NGINX_PORT" ]] || fail "NGINX_URL is $NGINX_URL"
expect_eq "$NGINX_ACCESS_LOG" "$TMP/nginx-plain/access.log" "NGINX_ACCESS_LOG"
expect_file "$NGINX_ERROR_LOG"
PLAIN_URL=$NGINX_URL PLAIN_LOG=$NGINX_ACCESS_LOG PLAIN_PORT=$NGINX_PORT
plain_pid=${_NGINX_PID[plain]}
# Bound to 127.0.0.1 only: another loopback address is refused.
req "http://127.0.0.2:$NGINX_PORT/"
expect_eq "$CURL_RC" 7 "curl exit for 127.0.0.2"

step "PUT creates (201), then replaces (204); missing parent folders are created"
expect_req 201 -T small "$PLAIN_URL/a/b/c/obj"
expect_req 204 -T small "$PLAIN_URL/a/b/c/obj"
cmp small "$ROOT/a/b/c/obj" || fail "the stored object differs from what was PUT"
expect_req 201 -T big "$PLAIN_URL/big"
cmp big "$ROOT/big" || fail "the stored 20 MiB object differs"

step "uploads never show under ROOT half-written: the body folder is outside it"
grep -q "client_body_temp_path $TMP/nginx-plain/tmp/body;" "$TMP/nginx-plain/nginx.conf" ||
  fail "client_body_temp_path is not the prefix's body folder"
expect_eq "$(stat -c %d "$TMP/nginx-plain/tmp/body")" "$(stat -c %d "$ROOT")" "filesystem of the body folder"

step "GET returns the bytes; HEAD gives length and ETag; a folder is refused"
expect_req 200 "$PLAIN_URL/big"
cmp big "$OUT" || fail "GET returned other bytes"
expect_req 200 -I "$PLAIN_URL/big"
expect_eq "$(header Content-Length)" 20971520 "HEAD Content-Length"
[[ $(header ETag) =~ ^\"[0-9a-f]+-[0-9a-f]+\"$ ]] || fail "HEAD ETag is '$(header ETag)'"
expect_req 403 "$PLAIN_URL/a/" # autoindex off
expect_req 404 "$PLAIN_URL/nothing-here"

step "MOVE with Overwrite: F onto an existing key is refused (412), nothing changes"
printf 'destination' >dest
expect_req 201 -T dest "$PLAIN_URL/a/dest"
expect_req 412 -X MOVE -H "Destination: $PLAIN_URL/a/dest" -H 'Overwrite: F' "$PLAIN_URL/a/b/c/obj"
cmp dest "$ROOT/a/dest" || fail "the refused MOVE changed the destination"
cmp small "$ROOT/a/b/c/obj" || fail "the refused MOVE changed the source"

step "MOVE onto a free key moves it (nginx answers 204 even for a new key)"
expect_req 204 -X MOVE -H "Destination: $PLAIN_URL/a/moved" -H 'Overwrite: F' "$PLAIN_URL/a/b/c/obj"
cmp small "$ROOT/a/moved" || fail "the moved object differs"
expect_no_path "$ROOT/a/b/c/obj"

step "PROPFIND Depth: 1 lists a folder's members, files and folders, one level"
expect_req 207 -X PROPFIND -H 'Depth: 1' "$PLAIN_URL/a/"
"$PY" - "$OUT" >"$TMP/hrefs" <<'EOF' || fail "PROPFIND answer is not the expected XML"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{DAV:}multistatus", root.tag
for r in root.findall("{DAV:}response"):
    href = r.findtext("{DAV:}href")
    coll = r.find(".//{DAV:}resourcetype/{DAV:}collection") is not None
    size = r.findtext(".//{DAV:}getcontentlength")
    print(href, "dir" if coll else "file", size or "-")
EOF
expect_eq "$(sort "$TMP/hrefs" | paste -sd,)" "/a/ dir -,/a/b/ dir -,/a/dest file 11,/a/moved file 1000" "PROPFIND members"

step "DELETE removes (204), then 404"
expect_req 204 -X DELETE "$PLAIN_URL/a/moved"
expect_no_path "$ROOT/a/moved"
expect_req 404 -X DELETE "$PLAIN_URL/a/moved"
expect_req 404 "$PLAIN_URL/a/moved"

step "the access log has one line per request in the mlp format"
# PUT 201, PUT 204, PUT 201, GET, HEAD, GET 403, GET 404, PUT, MOVE 412,
# MOVE 204, PROPFIND, DELETE 204, DELETE 404, GET 404.
nginx_wait_log "$PLAIN_LOG" 14
grep -Evq '^[A-Z]+ /[^ ]* [0-9]{3} [0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9.]+$' "$PLAIN_LOG" && {
  cat "$PLAIN_LOG" >&2
  fail "access log lines not in the mlp format"
}
expect_eq "$(wc -l <"$PLAIN_LOG")" 14 "access log lines"
expect_eq "$(awk '{print $1, $2, $3}' "$PLAIN_LOG" | paste -sd,)" \
  "PUT /a/b/c/obj 201,PUT /a/b/c/obj 204,PUT /big 201,GET /big 200,HEAD /big 200,GET /a/ 403,GET /nothing-here 404,PUT /a/dest 201,MOVE /a/b/c/obj 412,MOVE /a/b/c/obj 204,PROPFIND /a/ 207,DELETE /a/moved 204,DELETE /a/moved 404,GET /a/moved 404" \
  "access log method, target and status"
# Request length counts the body; bytes sent the response's body and headers.
awk '$1 == "PUT" && $2 == "/big" && $4 < 20971520 {exit 1}' "$PLAIN_LOG" || fail "PUT request length below the body size"
awk '$1 == "GET" && $2 == "/big" && $5 < 20971520 {exit 1}' "$PLAIN_LOG" || fail "GET bytes sent below the body size"

step "connections are kept alive (fields 6 and 7: connection, its request count)"
curl -sS -o /dev/null -o /dev/null "$PLAIN_URL/a/dest" "$PLAIN_URL/a/dest" || fail "two GETs on one curl failed"
nginx_wait_log "$PLAIN_LOG" 16
read -r conn1 nreq1 conn2 nreq2 < <(tail -n 2 "$PLAIN_LOG" | awk '{printf "%s %s ", $6, $7} END {print ""}')
expect_eq "$conn2 $nreq1 $nreq2" "$conn1 1 2" "connection and request count of two GETs on one curl"

# ---------------------------------------------------------------------------------
step "proxy: a pass-through proxy streams 20 MiB both ways on a reused connection"
proxy_start pass "$PLAIN_PORT" ""
[[ $PROXY_URL == "http://127.0.0.1:$PROXY_PORT" ]] || fail "PROXY_URL is $PROXY_URL"
expect_req 201 -T big "$PROXY_URL/via/proxy" # with Expect: 100-continue
cmp big "$ROOT/via/proxy" || fail "PUT through the proxy stored other bytes"
expect_req 200 "$PROXY_URL/via/proxy"
cmp big "$OUT" || fail "GET through the proxy returned other bytes"
# Chunked request body, and a MOVE whose Destination names the proxy.
expect_req 201 -X PUT -H 'Transfer-Encoding: chunked' --data-binary @small "$PROXY_URL/via/chunked"
cmp small "$ROOT/via/chunked" || fail "chunked PUT through the proxy stored other bytes"
expect_req 204 -X MOVE -H "Destination: $PROXY_URL/via/moved" "$PROXY_URL/via/chunked"
expect_req 207 -X PROPFIND -H 'Depth: 1' "$PROXY_URL/via/"
expect_contains "$OUT" "<D:href>/via/moved</D:href>"
curl -sS -o /dev/null -o /dev/null -I "$PROXY_URL/via/proxy" "$PROXY_URL/via/moved" || fail "two HEADs through the proxy failed"
nginx_wait_log "$PROXY_LOG" 7
expect_eq "$(proxy_faults)" "pass pass pass pass pass pass pass" "pass-through faults column"
expect_eq "$(sort -n "$PROXY_LOG" | awk '{print $1, $2, $3, $5}' | paste -sd,)" \
  "1 PUT /via/proxy 201,2 GET /via/proxy 200,3 PUT /via/chunked 201,4 MOVE /via/chunked 204,5 PROPFIND /via/ 207,6 HEAD /via/proxy 200,7 HEAD /via/moved 200" \
  "proxy log counter, method, target and upstream status"
expect_eq "$(sort -n "$PROXY_LOG" | tail -n 2 | awk '{print $6}' | uniq | wc -l)" 1 "client connection of the two HEADs"
proxy_stop pass

step "proxy: faults follow the rules deterministically (503 every 3rd, cut every 4th)"
printf 'hello!' >six
expect_req 201 -T six "$PLAIN_URL/six"
proxy_start det "$PLAIN_PORT" "503:every=3:retry-after=7,cut:every=4"
codes=()
for i in $(seq 12); do
  req "$PROXY_URL/six"
  codes+=("$CODE/$CURL_RC/$(wc -c <"$OUT")")
  if [[ $i -eq 3 ]]; then expect_eq "$(header Retry-After)" 7 "Retry-After of the 503"; fi
done
# 3, 6, 9, 12 -> 503 with the proxy's own 26-byte body (the first rule wins
# on 12); 4, 8 -> half the body (3 of 6 bytes), then a closed connection:
# curl error 18.
expect_eq "${codes[*]}" \
  "200/0/6 200/0/6 503/0/26 200/18/3 200/0/6 503/0/26 200/0/6 200/18/3 503/0/26 200/0/6 200/0/6 503/0/26" \
  "status/curl exit/body size of 12 GETs"
expect_eq "$(proxy_faults)" "pass pass 503 cut pass 503 pass cut 503 pass pass 503" "fault schedule"
proxy_stop det

step "proxy: filters by method and path, times, start"
proxy_start filt "$PLAIN_PORT" "cut:every=2:method=GET:path=/six,reset:start=2:times=1:method=HEAD"
for i in 1 2 3 4; do req "$PROXY_URL/six"; req -I "$PROXY_URL/six"; done
req "$PROXY_URL/a/dest"
# GETs of /six: 1 pass, 2 cut, 3 pass, 4 cut; HEADs: only the second reset.
expect_eq "$(proxy_faults)" "pass pass cut reset pass pass cut pass pass" "filtered fault schedule"
proxy_stop filt

step "proxy: a cut 20 MiB GET gives half the body and curl error 18; retries get all of it"
proxy_start cut "$PLAIN_PORT" "cut:method=GET" --max-faults 2
req "$PROXY_URL/big"
expect_eq "$CURL_RC/$CODE" "18/200" "curl exit/status of the cut GET"
expect_eq "$(wc -c <"$OUT")" 10485760 "bytes of the cut GET"
cmp -n 10485760 big "$OUT" || fail "the cut body is not a prefix of the object"
# The second fault, then --max-faults lets the retry through. curl throws
# away the partial file before it retries.
curl -sS --retry 3 --retry-all-errors --retry-delay 0 -o got "$PROXY_URL/big" 2>"$ERR" ||
  fail "curl --retry did not get through two cuts: $(cat "$ERR")"
cmp big got || fail "the retried GET returned other bytes"
expect_eq "$(proxy_faults)" "cut cut pass" "cut, cut, then pass"
proxy_stop cut

step "proxy: a 503 on a 20 MiB PUT (Expect: 100-continue: answered at once, connection closed)"
proxy_start shed "$PLAIN_PORT" "503:retry-after=0" --max-faults 2
expect_req 503 -T big "$PROXY_URL/shed/obj"
expect_contains "$HDR" "Connection: close"
expect_no_path "$ROOT/shed/obj"
curl -sS --retry 3 --retry-delay 0 -T big -o "$TMP/resp" "$PROXY_URL/shed/obj" 2>"$ERR" ||
  fail "curl --retry did not get the PUT through a 503: $(cat "$ERR")"
cmp big "$ROOT/shed/obj" || fail "the retried PUT stored other bytes"
expect_eq "$(proxy_faults)" "503 503 pass" "503, 503, then pass"
proxy_stop shed

step "proxy: a 429 without Expect drains the body and keeps the connection"
proxy_start busy "$PLAIN_PORT" "429:times=1:retry-after=1"
# One curl, two URLs: the same body is PUT twice on one connection.
curl -sS -H 'Expect:' -X PUT --data-binary @big -o /dev/null -o /dev/null -w '%{http_code} ' \
  "$PROXY_URL/busy/obj" "$PROXY_URL/busy/obj" >"$TMP/codes" 2>"$ERR" ||
  fail "two PUTs on one curl failed: $(cat "$ERR")"
expect_eq "$(cat "$TMP/codes")" "429 201 " "statuses of two PUTs on one connection"
cmp big "$ROOT/busy/obj" || fail "the PUT after the 429 stored other bytes"
expect_eq "$(sort -n "$PROXY_LOG" | awk '{print $4 "@" $6}' | paste -sd' ')" "429@1 pass@1" "faults and connection"
proxy_stop busy

step "proxy: cut on a PUT loses the answer although the PUT took effect (curl error 52)"
proxy_start lost "$PLAIN_PORT" "cut:times=1:method=PUT"
req -T small "$PROXY_URL/lost/obj"
# curl got nginx's "100 Continue" (relayed), then no final answer.
expect_eq "$CURL_RC/$CODE" "52/100" "curl exit/status of the PUT whose answer was lost"
cmp small "$ROOT/lost/obj" || fail "the PUT whose answer was lost did not take effect"
proxy_stop lost

step "proxy: cut-request breaks an upload midway; nothing shows under ROOT"
proxy_start broken "$PLAIN_PORT" "cut-request:times=1"
req -T big "$PROXY_URL/broken/obj"
[[ $CURL_RC -ne 0 ]] || fail "the broken upload succeeded (HTTP $CODE)"
expect_no_path "$ROOT/broken"
# nginx removes its temp file once it sees the client gone; wait for that.
end=$(($(date +%s) + 10))
while [[ -n $(ls -A "$TMP/nginx-plain/tmp/body") ]]; do
  (($(date +%s) < end)) || fail "nginx left a partial upload: $(ls -A "$TMP/nginx-plain/tmp/body")"
  sleep 0.05
done
expect_req 201 -T big "$PROXY_URL/broken/obj"
cmp big "$ROOT/broken/obj" || fail "the upload after the broken one stored other bytes"
expect_eq "$(proxy_faults)" "cut-request pass" "cut-request, then pass"
proxy_stop broken

step "proxy: reset closes at once (curl error 56 or 52); stall trips curl's low-speed timeout"
proxy_start rst "$PLAIN_PORT" "reset:times=1,stall:times=1:seconds=30:bytes=65536"
req "$PROXY_URL/big"
[[ $CURL_RC == 56 || $CURL_RC == 52 ]] || fail "reset: curl exit $CURL_RC, expected 56 or 52: $(cat "$ERR")"
start=$(date +%s)
# curl averages the speed over its last few seconds: a limit well above
# 64 KiB per 2 s makes it fire about 2 s into the stall.
req --speed-limit 100000 --speed-time 2 "$PROXY_URL/big"
expect_eq "$CURL_RC/$CODE" "28/200" "curl exit/status of the stalled GET"
expect_eq "$(wc -c <"$OUT")" 65536 "bytes before the stall"
(($(date +%s) - start < 20)) || fail "the stall was not cut short by curl's timeout"
expect_eq "$(proxy_faults)" "reset stall" "reset, then stall"
# The proxy still holds the stalled connection: stopping must not wait for it.
proxy_pid=${_PROXY_PID[rst]}
start=$(date +%s)
proxy_stop rst
(($(date +%s) - start < 5)) || fail "proxy_stop waited for the stall"
_harness_alive "$proxy_pid" && fail "the proxy is still running after proxy_stop"

# ---------------------------------------------------------------------------------
step "TLS: the test CA's certificate is trusted, a wrong CA is not"
tls_make_ca "$TMP/ca"
tls_make_cert "$TMP/ca" server
tls_make_ca "$TMP/wrongca"
openssl verify -CAfile "$TMP/ca/ca.pem" "$TMP/ca/server.pem" >/dev/null || fail "server cert does not verify"
openssl x509 -in "$TMP/ca/server.pem" -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1, DNS:localhost' ||
  fail "server cert lacks the subjectAltName"
nginx_start tls "$TMP/tls-root" --tls "$TMP/ca/server.pem" "$TMP/ca/server.key"
[[ $NGINX_URL == "https://127.0.0.1:$NGINX_PORT" ]] || fail "NGINX_URL is $NGINX_URL"
TLS_URL=$NGINX_URL
expect_req 201 --cacert "$TMP/ca/ca.pem" -T small "$TLS_URL/obj"
expect_req 200 --cacert "$TMP/ca/ca.pem" "$TLS_URL/obj"
cmp small "$OUT" || fail "GET over TLS returned other bytes"
expect_req 200 --cacert "$TMP/ca/ca.pem" "https://localhost:$NGINX_PORT/obj"
req --cacert "$TMP/wrongca/ca.pem" "$TLS_URL/obj"
expect_eq "$CURL_RC" 60 "curl exit with the wrong CA"
req "$TLS_URL/obj" # the system's CAs do not know the test CA either
expect_eq "$CURL_RC" 60 "curl exit with the system CAs"
req "http://127.0.0.1:$NGINX_PORT/obj" # plain HTTP to the TLS port
expect_eq "$CODE" 400 "plain HTTP to the TLS port"

step "Bearer auth: 401 without the token or with a wrong one, 2xx with it"
nginx_start bearer "$TMP/bearer-root" --auth-bearer tok-123.ABC
BEARER_URL=$NGINX_URL
expect_req 401 -T small "$BEARER_URL/obj"
expect_eq "$(header WWW-Authenticate)" 'Bearer realm="mlpack-test"' "WWW-Authenticate"
expect_no_path "$TMP/bearer-root/obj"
expect_req 401 -H 'Authorization: Bearer tok-124.ABC' "$BEARER_URL/obj"
expect_req 401 -H 'Authorization: Basic dG9rLTEyMy5BQkM=' "$BEARER_URL/obj"
expect_req 201 -H 'Authorization: Bearer tok-123.ABC' -T small "$BEARER_URL/obj"
# --oauth2-bearer is libcurl's CURLOPT_XOAUTH2_BEARER, as mlpack will send it.
expect_req 200 --oauth2-bearer tok-123.ABC "$BEARER_URL/obj"
cmp small "$OUT" || fail "GET with the bearer token returned other bytes"
# An upload that nginx refuses before its body (no "100 Continue", an early
# 401) gets that answer through the proxy, and the connection is closed.
proxy_start auth "$NGINX_PORT" ""
expect_req 401 -T big "$PROXY_URL/refused"
expect_no_path "$TMP/bearer-root/refused"
expect_req 201 --oauth2-bearer tok-123.ABC -T big "$PROXY_URL/accepted"
cmp big "$TMP/bearer-root/accepted" || fail "PUT with the token through the proxy stored other bytes"
expect_eq "$(sort -n "$PROXY_LOG" | awk '{print $5 "@" $6}' | paste -sd' ')" "401@1 201@2" "statuses and connections"
proxy_stop auth

step "Basic auth: 401 without or with a wrong password, 2xx with -u user:pass"
nginx_start basic "$TMP/basic-root" --auth-basic alice 'pa$$ w:rd'
BASIC_URL=$NGINX_URL
expect_req 401 -T small "$BASIC_URL/obj"
expect_contains "$HDR" 'WWW-Authenticate: Basic realm="mlpack-test"'
expect_req 401 -u 'alice:wrong' "$BASIC_URL/obj"
expect_req 201 -u 'alice:pa$$ w:rd' -T small "$BASIC_URL/obj"
expect_req 200 -u 'alice:pa$$ w:rd' "$BASIC_URL/obj"
cmp small "$OUT" || fail "GET with basic auth returned other bytes"

step "four instances ran at once; nginx_stop leaves no process behind"
pids=()
for name in plain tls bearer basic; do pids+=("${_NGINX_PID[$name]}"); done
expect_eq "$(printf '%s\n' "${pids[@]}" | sort -u | wc -l)" 4 "distinct nginx masters"
expect_eq "${_NGINX_PID[plain]}" "$plain_pid" "plain's pid"
workers=()
for p in "${pids[@]}"; do
  [[ $(pgrep -c -P "$p") -eq 1 ]] || fail "nginx $p has not exactly one worker: $(pgrep -P "$p" | paste -sd' ')"
  workers+=("$(pgrep -P "$p")")
done
for name in plain tls bearer; do nginx_stop "$name"; done
for p in "${pids[@]:0:3}" "${workers[@]:0:3}"; do
  _harness_alive "$p" && fail "process $p still runs after nginx_stop"
done
req "$PLAIN_URL/a/dest"
expect_eq "$CURL_RC" 7 "curl exit against a stopped nginx"
# "basic" is left running on purpose: the exit trap must stop it.
echo "nginx harness: ok"

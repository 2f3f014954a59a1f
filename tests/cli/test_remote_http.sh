#!/usr/bin/env bash
# push / pull / ls-remote through HTTP(S) remotes, against a private nginx
# with WebDAV on 127.0.0.1: the backend behaviour suite (remote_suite.sh),
# dedup read off the server's access log, auth (bearer token, basic auth
# from ~/.netrc or a one-off URL), TLS with a private CA, and no credential
# in any output.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$MLPACK_TESTS_DIR/cli/nginx.sh"
source "$MLPACK_TESTS_DIR/cli/remote_suite.sh"

# --- hooks: nginx serves $ROOT; the remote is $REMOTE_DIR under it ---------
# Create-only writes put a ".tmp-*" object next to their key and MOVE it into
# place; nginx keeps PUT bodies in its own temp folder until they are whole.
source "$MLPACK_TESTS_DIR/cli/remote_dir_hooks.sh"
remote_partial_uploads() {
  echo $(($(_remote_tmp_count) + $(find "$TMP/nginx-suite/tmp/body" -type f 2>/dev/null | wc -l)))
}

# log_since FILE LINE : the log lines after the first LINE lines.
log_since() { tail -n +"$(($2 + 1))" "$1"; }
log_lines() { wc -l <"$1"; }

# blobs_of REPO REF : the distinct blob digests of REF, sorted.
blobs_of() {
  mlp -C "$1" inspect "$2" --json >"$TMP/.inspect" || fail "inspect $2 in $1"
  json "$TMP/.inspect" '"\n".join(sorted(set(f["sha256"] for f in d["manifest"]["files"])))'
}

# --- the behaviour suite --------------------------------------------------------
ROOT=$TMP/www
nginx_start suite "$ROOT"
REMOTE_DIR=$ROOT/models/team
run_remote_suite "$NGINX_URL/models/team"

# --- dedup, read off the access log ----------------------------------------------
step "dedup: the second version uploads only its new blobs (access log)"
REMOTE_DIR=$ROOT/dedup
new_repo "$TMP/d"
expect_exit 0 mlp -C "$TMP/d" remote add origin "$NGINX_URL/dedup"
make_model "$TMP/dm" iris v1 "first"
{ printf 'RAND' && head -c 3M /dev/urandom; } >"$TMP/dm/model.joblib"
expect_exit 0 mlp -C "$TMP/d" pack "$TMP/dm" --json
expect_exit 0 mlp -C "$TMP/d" push iris:v1
# v2: the same 3 MiB model, other metrics.
echo '{"accuracy": 0.99}' >"$TMP/dm/metrics.json"
sed -i 's/version: v1/version: v2/' "$TMP/dm/mlpack.yaml"
expect_exit 0 mlp -C "$TMP/d" pack "$TMP/dm" --json
D2=$(digest_of "$OUT")
v1_blobs=$(blobs_of "$TMP/d" iris:v1)
v2_blobs=$(blobs_of "$TMP/d" iris:v2)
new_blobs=$(comm -13 <(echo "$v1_blobs") <(echo "$v2_blobs"))
[[ -n $new_blobs ]] || fail "v2 has no new blob"
[[ $(comm -12 <(echo "$v1_blobs") <(echo "$v2_blobs") | wc -l) -ge 1 ]] || fail "v2 shares no blob with v1"
mark=$(log_lines "$NGINX_ACCESS_LOG")
expect_exit 0 mlp -C "$TMP/d" push iris:v2 --json
nginx_wait_log "$NGINX_ACCESS_LOG" $((mark + 1))
sleep 0.2
put_blobs=$(log_since "$NGINX_ACCESS_LOG" "$mark" | awk '$1 == "PUT" && $2 ~ "/dedup/blobs/sha256/" {n = split($2, p, "/"); print p[n]}' | sort)
expect_eq "$put_blobs" "$new_blobs" "blobs PUT by the push of iris:v2"
sent=$(log_since "$NGINX_ACCESS_LOG" "$mark" | awk '$1 == "PUT" || $1 == "MOVE" {s += $4} END {print s + 0}')
[[ $sent -lt 65536 ]] || fail "a metrics-only version sent $sent bytes (want < 64 KiB)"
echo "   metrics-only version: $sent request bytes"

# --- a pull resumes where the last one broke off ----------------------------------
step "a pull that broke off resumes with Range"
make_model "$TMP/bm" big v1 "big"
{ printf 'RAND' && head -c 8M /dev/urandom; } >"$TMP/bm/model.joblib"
expect_exit 0 mlp -C "$TMP/d" pack "$TMP/bm" --json
expect_exit 0 mlp -C "$TMP/d" push big:v1
mlp -C "$TMP/d" inspect big:v1 --json >"$TMP/.inspect"
big_hex=$(json "$TMP/.inspect" '[f["sha256"] for f in d["manifest"]["files"] if f["path"] == "model.joblib"][0]')
proxy_start cut "$NGINX_PORT" "cut:method=GET:path=/blobs/sha256/$big_hex:bytes=3000000:times=1"
new_repo "$TMP/r"
expect_exit 0 mlp -C "$TMP/r" remote add origin "$PROXY_URL/dedup"
before=$(store_state "$TMP/r")
# No retries: the broken transfer fails the pull, keeping its 3 MB.
MLPACK_RETRIES=0 expect_exit 1 mlp -C "$TMP/r" pull big:v1
expect_eq "$(store_state "$TMP/r")" "$before" "the store after a broken pull"
kept=$(find "$TMP/r/.mlpack/tmp" -type f -name "part-$big_hex" -printf '%s')
expect_eq "$kept" 3000000 "bytes kept by the broken pull"
mark=$(log_lines "$NGINX_ACCESS_LOG")
expect_exit 0 mlp -C "$TMP/r" pull big:v1
expect_exit 0 mlp -C "$TMP/r" verify big:v1
nginx_wait_log "$NGINX_ACCESS_LOG" $((mark + 1))
sleep 0.2
resumed=$(log_since "$NGINX_ACCESS_LOG" "$mark" | awk -v h="$big_hex" '$1 == "GET" && $2 ~ h {print $3, $5}')
read -r status bytes <<<"$resumed"
expect_eq "$status" 206 "status of the resumed GET"
[[ $bytes -lt $((8 * 1024 * 1024 - 3000000 + 4096)) ]] || fail "the resumed GET sent $bytes bytes"
expect_eq "$(find "$TMP/r/.mlpack/tmp" -type f | wc -l)" 0 "temp files after the resumed pull"

# The same cut within one pull: the engine retries with Range by itself.
rm -rf "$TMP/r2"
new_repo "$TMP/r2"
expect_exit 0 mlp -C "$TMP/r2" remote add origin "$PROXY_URL/dedup"
proxy_stop cut
proxy_start cut2 "$NGINX_PORT" "cut:method=GET:path=/blobs/sha256/$big_hex:bytes=2000000:times=1"
expect_exit 0 mlp -C "$TMP/r2" pull -r "$PROXY_URL/dedup" big:v1
expect_exit 0 mlp -C "$TMP/r2" verify big:v1
grep -q " cut " "$PROXY_LOG" || fail "the proxy cut nothing: $(cat "$PROXY_LOG")"
proxy_stop cut2

# --- a flaky server --------------------------------------------------------------
step "503, 429 with Retry-After, cut and stalled responses are retried"
make_model "$TMP/fm" flaky v1 "flaky"
{ printf 'RAND' && head -c 4M /dev/urandom; } >"$TMP/fm/model.joblib"
expect_exit 0 mlp -C "$TMP/d" pack "$TMP/fm" --json
# At most 12 faults in all and 10 retries a request: the transfers must get
# through, however the faults fall on parallel requests.
proxy_start flaky "$NGINX_PORT" \
  "503:every=3,429:every=5:retry-after=1,cut:every=4:method=GET,stall:every=7:seconds=30:bytes=1000" \
  --max-faults 12
export MLPACK_RETRIES=10
new_repo "$TMP/f"
expect_exit 0 mlp -C "$TMP/f" remote add origin "$PROXY_URL/flaky"
# A 2 s low-speed timeout, so that stalls are cut short.
export MLPACK_TIMEOUT=2
expect_exit 0 mlp -C "$TMP/d" push -r "$PROXY_URL/flaky" flaky:v1 big:v1
expect_exit 0 mlp -C "$TMP/f" pull flaky:v1 big:v1
expect_exit 0 mlp -C "$TMP/f" verify flaky:v1
expect_exit 0 mlp -C "$TMP/f" verify big:v1
for kind in 503 429 cut stall; do
  grep -q " $kind" "$PROXY_LOG" || fail "the proxy never injected $kind: $(cat "$PROXY_LOG")"
done
proxy_stop flaky
unset MLPACK_TIMEOUT MLPACK_RETRIES

step "a server that keeps failing: exit 1 once retries run out, nothing changed"
proxy_start down "$NGINX_PORT" "503:method=GET|HEAD|PUT:path=/flaky/"
new_repo "$TMP/g"
before=$(store_state "$TMP/g")
MLPACK_RETRIES=2 expect_exit 1 mlp -C "$TMP/g" pull -r "$PROXY_URL/flaky" flaky:v1
expect_contains "$ERR" "503"
expect_contains "$ERR" "gave up after 3 attempts"
[[ $(wc -l <"$ERR") -eq 1 ]] || fail "more than one line on stderr: $(cat "$ERR")"
expect_eq "$(store_state "$TMP/g")" "$before" "the store after a failed pull"
proxy_stop down

step "a Retry-After longer than mlpack waits: exit 1 at once, saying so"
proxy_start busy "$NGINX_PORT" "503:retry-after=500"
MLPACK_RETRIES=5 expect_exit 1 mlp -C "$TMP/g" pull -r "$PROXY_URL/flaky" flaky:v1
expect_contains "$ERR" "retry after 500 s"
expect_eq "$(store_state "$TMP/g")" "$before" "the store after a refused pull"
proxy_stop busy

# --- auth ------------------------------------------------------------------------
step "bearer token from MLPACK_HTTP_TOKEN"
TOKEN=s3cr3t-token-$RANDOM
nginx_start bearer "$TMP/www-bearer" --auth-bearer "$TOKEN"
new_repo "$TMP/a"
expect_exit 0 mlp -C "$TMP/a" remote add origin "$NGINX_URL/m"
make_model "$TMP/am" iris v1 "auth"
expect_exit 0 mlp -C "$TMP/a" pack "$TMP/am"
expect_exit 1 mlp -C "$TMP/a" push iris:v1
expect_contains "$ERR" "401"
expect_contains "$ERR" "MLPACK_HTTP_TOKEN"
MLPACK_HTTP_TOKEN=wrong expect_exit 1 mlp -C "$TMP/a" push iris:v1
MLPACK_HTTP_TOKEN=$TOKEN expect_exit 0 mlp -C "$TMP/a" -v push iris:v1
MLPACK_HTTP_TOKEN=$TOKEN expect_exit 0 mlp -C "$TMP/a" -v ls-remote
grep -q "$TOKEN" "$OUT" "$ERR" && fail "the token was printed"
nginx_stop bearer

step "basic auth: user in the URL, password from ~/.netrc or a one-off URL"
PASS=pa55-$RANDOM
nginx_start basic "$TMP/www-basic" --auth-basic alice "$PASS"
expect_exit 2 mlp -C "$TMP/a" remote add bad "http://alice:$PASS@127.0.0.1:$NGINX_PORT/m"
grep -q "$PASS" "$ERR" "$OUT" && fail "the password was printed"
grep -rq "$PASS" "$TMP/a/.mlpack/config.yaml" && fail "the password was saved"
expect_exit 0 mlp -C "$TMP/a" remote add basic "http://alice@127.0.0.1:$NGINX_PORT/m"
expect_exit 1 mlp -C "$TMP/a" push -r basic iris:v1
expect_contains "$ERR" "401"
printf 'machine 127.0.0.1 login alice password %s\n' "$PASS" >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"
expect_exit 0 mlp -C "$TMP/a" push -r basic iris:v1
rm -f "$HOME/.netrc"
expect_exit 0 mlp -C "$TMP/a" -v ls-remote -r "http://alice:$PASS@127.0.0.1:$NGINX_PORT/m" --json
expect_eq "$(json "$OUT" '[v["version"] for v in d["versions"]]')" '["v1"]' "versions listed through a one-off URL"
grep -q "$PASS" "$OUT" "$ERR" && fail "the password was printed"
expect_exit 1 mlp -C "$TMP/a" ls-remote -r "http://alice:wr0ngpw@127.0.0.1:$NGINX_PORT/m"
expect_contains "$ERR" "401"
# Not even the debug log names it.
mlp -C "$TMP/a" -v ls-remote -r "http://alice:wr0ngpw@127.0.0.1:$NGINX_PORT/m" >"$OUT" 2>"$ERR" || true
grep -q "PROPFIND" "$ERR" || fail "no debug log with -v: $(cat "$ERR")"
grep -q "wr0ngpw" "$ERR" && fail "the password was printed: $(cat "$ERR")"
nginx_stop basic

# --- TLS ---------------------------------------------------------------------------
step "TLS with a private CA: --ca-file, the remote's ca-file, a wrong CA"
tls_make_ca "$TMP/ca"
tls_make_cert "$TMP/ca" server
tls_make_ca "$TMP/other-ca"
nginx_start tls "$TMP/www-tls" --tls "$TMP/ca/server.pem" "$TMP/ca/server.key"
[[ $NGINX_URL == https://* ]] || fail "nginx_start --tls gave $NGINX_URL"
expect_exit 0 mlp -C "$TMP/a" remote add secure "$NGINX_URL/m"
expect_exit 1 mlp -C "$TMP/a" push -r secure iris:v1
expect_contains "$ERR" "not trusted"
expect_contains "$ERR" "--ca-file"
[[ $(wc -l <"$ERR") -eq 1 ]] || fail "more than one line on stderr: $(cat "$ERR")"
expect_exit 1 mlp -C "$TMP/a" push -r secure --ca-file "$TMP/other-ca/ca.pem" iris:v1
expect_contains "$ERR" "not trusted"
expect_exit 4 mlp -C "$TMP/a" push -r secure --ca-file "$TMP/nope.pem" iris:v1
expect_exit 0 mlp -C "$TMP/a" push -r secure --ca-file "$TMP/ca/ca.pem" iris:v1
expect_exit 0 mlp -C "$TMP/a" remote set secure ca-file "$TMP/ca/ca.pem"
expect_exit 0 mlp -C "$TMP/a" remote list --json
expect_eq "$(json "$OUT" '[r["ca_file"] for r in d["remotes"] if r["name"] == "secure"][0]')" "$TMP/ca/ca.pem" "ca_file of the remote"
new_repo "$TMP/t"
expect_exit 0 mlp -C "$TMP/t" remote add origin "$NGINX_URL/m" --ca-file "$TMP/ca/ca.pem"
expect_exit 0 mlp -C "$TMP/t" pull iris:v1
expect_exit 0 mlp -C "$TMP/t" verify iris:v1
MLPACK_CA_FILE=$TMP/ca/ca.pem expect_exit 0 mlp -C "$TMP/a" ls-remote -r "$NGINX_URL/m"
nginx_stop tls

echo "remote (http): ok"

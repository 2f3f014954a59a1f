#!/usr/bin/env bash
# examples/fastapi-service: `run.sh setup` trains, packs, promotes and
# pushes; `run.sh serve` starts the service in a fresh server repository,
# which pulls the model at start-up. The service answers /health with the
# pushed digest, predicts what the trained model predicts, refuses malformed
# rows with 422, and does not come up at all for an unknown ref or a model
# signed by a key the server does not trust.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

example="$MLPACK_TESTS_DIR/../examples/fastapi-service"
expect_file "$example/run.sh"
expect_file "$example/app.py"
work="$TMP/work"
export MLPACK MLPACK_EXAMPLE_WORK="$work"
# Requests go to 127.0.0.1 only, never through a proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

# The process group of the server under test, killed whatever happens.
server_pid=""
stop_server() {
  [[ -n $server_pid ]] || return 0
  kill -TERM -- "-$server_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 -- "-$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap 'rc=$?; stop_server; (exit "$rc"); _on_exit' EXIT

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start LOG CMD... : CMD in the background, in its own process group.
start() {
  local log=$1
  shift
  setsid "$@" >"$log" 2>&1 &
  server_pid=$!
}

# wait_exit SECONDS : the exit code of the started process, which must end
# within SECONDS (124 if it is still running: a server that came up).
wait_exit() {
  local deadline=$((SECONDS + $1))
  while kill -0 "$server_pid" 2>/dev/null; do
    ((SECONDS < deadline)) || return 124
    sleep 0.2
  done
  local rc=0
  wait "$server_pid" || rc=$?
  server_pid=""
  return "$rc"
}

# request METHOD PATH [BODY] : the HTTP status; the body is in $TMP/body.
request() {
  local args=(-s --noproxy '*' --max-time 10 -o "$TMP/body" -w '%{http_code}' -X "$1")
  [[ $# -lt 3 ]] || args+=(-H 'content-type: application/json' --data "$3")
  curl "${args[@]}" "http://127.0.0.1:$port$2" || true
}

# expect_no_start LOG WHAT : the started service must exit within 30 s
# without ever listening; its exit code is left in $rc.
expect_no_start() {
  rc=0
  wait_exit 30 || rc=$?
  [[ $rc -ne 124 ]] || fail "$2: the service is still running after 30 s"
  expect_not_contains "$1" "Uvicorn running"
}

# wait_health LOG SECONDS WHAT : polls /health until it answers 200; fails,
# showing LOG, if the started service exits first or SECONDS pass.
wait_health() {
  local deadline=$((SECONDS + $2))
  until [[ $(request GET /health) == 200 ]]; do
    kill -0 "$server_pid" 2>/dev/null || {
      cat "$1" >&2
      fail "$3: the service exited before it answered /health"
    }
    ((SECONDS < deadline)) || {
      cat "$1" >&2
      fail "$3: no answer from /health within $2 s"
    }
    sleep 0.2
  done
}

step "run.sh setup: train, pack, promote, push"
rc=0
bash "$example/run.sh" setup >"$OUT" 2>"$ERR" || rc=$?
[[ $rc -eq 0 ]] || {
  cat "$OUT" "$ERR" >&2
  fail "run.sh setup exited $rc"
}
XDG_CONFIG_HOME="$work/laptop/config" MLPACK_DIR="$work/laptop" \
  "$MLPACK" inspect iris@production --json >"$TMP/laptop.json"
digest=$(json "$TMP/laptop.json" 'd["digest"]')
expect_eq "$(cat "$work/remote/stages/iris/production")" "$digest" "the remote's iris@production"

step "run.sh serve: the service pulls iris@production and comes up"
port=$(free_port)
start "$TMP/serve.log" env PORT="$port" bash "$example/run.sh" serve
wait_health "$TMP/serve.log" 45 "run.sh serve"
expect_eq "$(json "$TMP/body" 'd["ref"]')" "iris@production" "/health ref"
expect_eq "$(json "$TMP/body" 'd["digest"]')" "$digest" "/health digest"
expect_eq "$(json "$TMP/body" 'd["name"] + ":" + d["version"]')" "iris:v1" "/health version"
expect_eq "$(json "$TMP/body" '[c["name"] for c in d["inputs"]]')" \
  '["sepal_length", "sepal_width", "petal_length", "petal_width"]' "/health inputs"
expect_contains "$TMP/serve.log" "fastapi-service: pulled iris:v1 sha256:${digest:7:12} from"
# The server repository got it by pulling, and tracks the stage.
XDG_CONFIG_HOME="$work/server/config" MLPACK_DIR="$work/server" \
  "$MLPACK" inspect iris@production --json >"$TMP/server.json"
expect_eq "$(json "$TMP/server.json" 'd["digest"]')" "$digest" "the server repository's iris@production"

step "POST /predict answers what the trained model predicts"
# One flower of each species, and one between versicolor and virginica.
rows='[[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.3, 3.3, 6.0, 2.5], [6.0, 2.7, 5.1, 1.6]]'
"$PY" - "$work/laptop/iris/model.joblib" "$rows" >"$TMP/expected" <<'EOF'
import json, sys
import joblib
from sklearn.datasets import load_iris
model = joblib.load(sys.argv[1])
names = load_iris().target_names
columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
for row in json.loads(sys.argv[2]):
    c = int(model.predict([row])[0])
    print(f"{json.dumps(dict(zip(columns, row)))}\t{c} {names[c]}")
EOF
[[ $(cut -f2 "$TMP/expected" | sort -u | wc -l) -ge 3 ]] ||
  fail "the rows should cover the three classes: $(cat "$TMP/expected")"
while IFS=$'\t' read -r body want; do
  status=$(request POST /predict "$body")
  [[ $status == 200 ]] || fail "POST /predict $body: HTTP $status: $(cat "$TMP/body")"
  expect_eq "$(json "$TMP/body" 'str(d["class_index"]) + " " + d["class_name"]')" "$want" \
    "the prediction for $body"
  expect_eq "$(json "$TMP/body" 'd["model"]["digest"]')" "$digest" "the digest a prediction names"
done <"$TMP/expected"
# JSON integers are numbers too.
status=$(request POST /predict '{"sepal_length": 5, "sepal_width": 3, "petal_length": 1, "petal_width": 0}')
expect_eq "$status" 200 "HTTP status for a row of integers"

step "malformed rows get 422, naming the field"
# expect_422 BODY FIELD : the service refuses BODY and names FIELD.
expect_422() {
  local status
  status=$(request POST /predict "$1")
  [[ $status == 422 ]] || fail "POST /predict $1: expected HTTP 422, got $status: $(cat "$TMP/body")"
  json "$TMP/body" '[e["loc"][-1] for e in d["detail"]]' | grep -qF "\"$2\"" ||
    fail "the 422 for $1 does not name $2: $(cat "$TMP/body")"
}
expect_422 '{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4}' petal_width
expect_422 '{"sepal_length": "abc", "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}' sepal_length
expect_422 '{"sepal_length": "5.1", "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}' sepal_length
expect_422 '{"sepal_length": 5.1, "sepal_width": true, "petal_length": 1.4, "petal_width": 0.2}' sepal_width
expect_422 '{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2, "colour": 1}' colour
status=$(request POST /predict 'not json')
expect_eq "$status" 422 "HTTP status for a body that is not JSON"
stop_server

step "without MLPACK_REMOTE, the service serves the repository's own verified copy"
port=$(free_port)
start "$TMP/local.log" env XDG_CONFIG_HOME="$work/server/config" MLPACK_DIR="$work/server" \
  MLPACK_BIN="$MLPACK" MODEL_REF=iris:v1 \
  "$PY" -m uvicorn app:app --app-dir "$example" --host 127.0.0.1 --port "$port"
wait_health "$TMP/local.log" 30 "without MLPACK_REMOTE"
expect_eq "$(json "$TMP/body" 'd["ref"] + " " + d["digest"]')" "iris:v1 $digest" "/health without a remote"
expect_not_contains "$TMP/local.log" "pulling"
stop_server

step "a model file changed in the cache: mlpack path rebuilds it, the service serves verified bytes"
cached=$(XDG_CONFIG_HOME="$work/server/config" MLPACK_DIR="$work/server" "$MLPACK" path iris:v1 --role model)
want_sha=$(sha256sum "$cached" | cut -d' ' -f1)
chmod u+w "$cached"
printf 'X' | dd of="$cached" bs=1 seek=200 conv=notrunc status=none
port=$(free_port)
start "$TMP/healed.log" env XDG_CONFIG_HOME="$work/server/config" MLPACK_DIR="$work/server" \
  MLPACK_BIN="$MLPACK" MODEL_REF=iris:v1 \
  "$PY" -m uvicorn app:app --app-dir "$example" --host 127.0.0.1 --port "$port"
wait_health "$TMP/healed.log" 30 "after the cache was changed"
expect_eq "$(sha256sum "$cached" | cut -d' ' -f1)" "$want_sha" "the cached model after path rebuilt it"
stop_server

step "a change mlpack's stamp cannot see (time set back): the service's own hash check refuses"
stamp=$(stat -c %y "$cached")
chmod u+w "$cached"
printf 'X' | dd of="$cached" bs=1 seek=200 conv=notrunc status=none
touch -d "$stamp" "$cached"
start "$TMP/tampered.log" env XDG_CONFIG_HOME="$work/server/config" MLPACK_DIR="$work/server" \
  MLPACK_BIN="$MLPACK" MODEL_REF=iris:v1 \
  "$PY" -m uvicorn app:app --app-dir "$example" --host 127.0.0.1 --port "$port"
expect_no_start "$TMP/tampered.log" "a changed model file"
expect_eq "$rc" 1 "the exit code of a service with a changed model file"
expect_contains "$TMP/tampered.log" "model.joblib does not match the sha256 in the manifest of iris:v1"

step "an unknown MODEL_REF: the service does not start, and says why"
port=$(free_port)
start "$TMP/unknown.log" env PORT="$port" MODEL_REF=iris@nope bash "$example/run.sh" serve
expect_no_start "$TMP/unknown.log" "MODEL_REF=iris@nope"
[[ $rc -ne 0 ]] || fail "the service with MODEL_REF=iris@nope exited 0"
expect_contains "$TMP/unknown.log" "fastapi-service: cannot serve iris@nope: 'mlpack pull -r $work/remote iris@nope' exited 4: mlpack: error: iris@nope not found on"
expect_contains "$TMP/unknown.log" "not starting without a verified model"
expect_not_contains "$TMP/unknown.log" "Traceback"

step "a model signed by a key the server does not trust: no service"
mkdir -p "$TMP/untrusting/config"
new_repo "$TMP/untrusting/repo"
port=$(free_port)
start "$TMP/untrusted.log" env XDG_CONFIG_HOME="$TMP/untrusting/config" \
  MLPACK_DIR="$TMP/untrusting/repo" MLPACK_BIN="$MLPACK" MLPACK_REMOTE="$work/remote" \
  "$PY" -m uvicorn app:app --app-dir "$example" --host 127.0.0.1 --port "$port"
expect_no_start "$TMP/untrusted.log" "an untrusted model"
expect_eq "$rc" 1 "the exit code of a service with an untrusted model"
expect_contains "$TMP/untrusted.log" "fastapi-service: cannot serve iris@production: 'mlpack pull -r $work/remote iris@production' exited 3: mlpack: error: "
[[ -z $(MLPACK_DIR="$TMP/untrusting/repo" "$MLPACK" list 2>/dev/null) ]] ||
  fail "the refused artifact became visible in the repository"

step "no repository and no remote: no service"
start "$TMP/norepo.log" env XDG_CONFIG_HOME="$TMP/untrusting/config" \
  MLPACK_DIR="$TMP/untrusting/none" MLPACK_BIN="$MLPACK" \
  "$PY" -m uvicorn app:app --app-dir "$example" --host 127.0.0.1 --port "$port"
expect_no_start "$TMP/norepo.log" "no repository"
expect_eq "$rc" 1 "the exit code of a service without a repository"
expect_contains "$TMP/norepo.log" "fastapi-service: cannot serve iris@production: 'mlpack inspect iris@production --json' exited 4: mlpack: error: MLPACK_DIR="
echo "example fastapi: ok"

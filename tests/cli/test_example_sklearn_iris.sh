#!/usr/bin/env bash
# examples/sklearn-iris/run.sh runs end to end, and what it claims happened
# did happen: the server's iris@production is the laptop's iris:v2 (same
# manifest digest, same model bytes), signed by the laptop's key and
# verified; the diff showed the changed param and a passing gate; the
# prediction made with the pulled model is the one the trained model makes.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

script="$MLPACK_TESTS_DIR/../examples/sklearn-iris/run.sh"
expect_file "$script"
work="$TMP/work"
log="$TMP/run.out"
errlog="$TMP/run.err"

step "run.sh runs end to end"
rc=0
MLPACK="$MLPACK" MLPACK_EXAMPLE_WORK="$work" bash "$script" >"$log" 2>"$errlog" || rc=$?
if [[ $rc -ne 0 ]]; then
  cat "$log" "$errlog" >&2
  fail "run.sh exited $rc"
fi
expect_contains "$errlog" "trained iris model with C=1.0"
expect_contains "$errlog" "trained iris model with C=10.0"
expect_contains "$log" "sklearn-iris: ok"

# on MACHINE ARGS... : mlpack as that machine of the example runs it.
on() {
  local machine=$1
  shift
  XDG_CONFIG_HOME="$work/$machine/config" MLPACK_DIR="$work/$machine" "$MLPACK" "$@"
}

step "the laptop has both versions, production is v2, moved from v1"
on laptop inspect iris:v1 --json >"$TMP/v1.json"
on laptop inspect iris:v2 --json >"$TMP/v2.json"
v1=$(json "$TMP/v1.json" 'd["digest"]')
v2=$(json "$TMP/v2.json" 'd["digest"]')
expect_ne "$v1" "$v2" "the digests of iris:v1 and iris:v2"
expect_eq "$(json "$TMP/v1.json" 'd["manifest"]["params"]["C"]')" "1.0" "iris:v1 param C"
expect_eq "$(json "$TMP/v2.json" 'd["manifest"]["params"]["C"]')" "10.0" "iris:v2 param C"
on laptop inspect iris@production --json >"$TMP/prod.json"
expect_eq "$(json "$TMP/prod.json" 'd["digest"]')" "$v2" "the laptop's iris@production"
on laptop history iris@production --json >"$TMP/history.json"
expect_eq "$(json "$TMP/history.json" '" ".join(m["to"]["version"] for m in d["moves"])')" \
  "v2 v1" "moves of the laptop's iris@production, newest first"

step "the diff showed the changed param, the metrics and a passing gate"
grep -Eq '^  changed +C +1\.0 +10\.0$' "$log" || fail "the diff does not show C 1.0 -> 10.0"
grep -Eq '^  log_loss +[0-9.]+ +[0-9.]+ +-[0-9.]+ +-[0-9.]+% +min +better$' "$log" ||
  fail "the diff does not show log_loss better"
expect_contains "$log" "fail-on: 0 of 2 held"
expect_contains "$log" "  passed  any-metric-regression  no metric with a goal got worse (3 checked)"

step "the remote holds both versions and production points at v2"
remote="$work/remote"
expect_eq "$(cat "$remote/tags/iris/v1")" "$v1" "the remote's tag iris/v1"
expect_eq "$(cat "$remote/tags/iris/v2")" "$v2" "the remote's tag iris/v2"
expect_eq "$(cat "$remote/stages/iris/production")" "$v2" "the remote's stage iris/production"

step "the server's iris@production is the laptop's iris:v2, verified with the laptop's key only"
on server inspect iris@production --json >"$TMP/server.json"
expect_eq "$(json "$TMP/server.json" 'd["digest"]')" "$v2" "the server's iris@production"
expect_eq "$(json "$TMP/server.json" 'd["manifest"]["version"]')" "v2" "the server's production version"
expect_eq "$(json "$TMP/server.json" 'd["signature"]["valid"]')" "true" "the server's signature check"
expect_eq "$(json "$TMP/server.json" 'd["signature"]["key_id"]')" \
  "$(json "$TMP/v2.json" 'd["signature"]["key_id"]')" "the key that signed the pulled artifact"
# The server only trusts; it never made a key of its own.
expect_no_path "$work/server/config/mlpack/keys/default.key"
ok on server verify iris@production
expect_contains "$OUT" "verified iris:v2 sha256:${v2:7:12}"
server_model=$(on server path iris@production --role model)
expect_eq "$(sha256 "$server_model")" "$(sha256 "$work/laptop/iris-v2/model.joblib")" \
  "the pulled model.joblib against the trained one"
on server list --json >"$TMP/server-list.json"
expect_eq "$(json "$TMP/server-list.json" '[a["version"] for a in d["artifacts"]]')" '["v2"]' \
  "the versions pulled onto the server"

step "the prediction made with the pulled model is the trained model's, and a valid class"
line=$(grep '^prediction for \[5.1, 3.5, 1.4, 0.2\]: class ' "$log") ||
  fail "run.sh printed no prediction"
want=$("$PY" - "$work/laptop/iris-v2/model.joblib" <<'EOF'
import sys
import joblib
from sklearn.datasets import load_iris
model = joblib.load(sys.argv[1])
c = int(model.predict([[5.1, 3.5, 1.4, 0.2]])[0])
print(f"class {c} ({load_iris().target_names[c]})")
EOF
)
expect_eq "${line#*: }" "$want" "the prediction"
[[ $want == "class 0 (setosa)" ]] || fail "a setosa flower was classified as $want"

step "the example keeps to its own folders"
[[ -z $(ls -A "$XDG_CONFIG_HOME") ]] || fail "run.sh wrote to the caller's XDG_CONFIG_HOME"
left=$(find "$TMP" -mindepth 1 -maxdepth 1 ! -name .out ! -name .err ! -name .xdg-config \
  ! -name .home ! -name work ! -name '*.json' ! -name 'run.*')
[[ -z $left ]] || fail "run.sh wrote into the working folder: $left"
echo "example sklearn-iris: ok"

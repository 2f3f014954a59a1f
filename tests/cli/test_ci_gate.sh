#!/usr/bin/env bash
# examples/ci/gate.sh runs end to end and its exit code is the documented
# verdict: 6 when the candidate (C=0.01) is worse than production (C=1.0),
# 0 when it is no worse (C=10).
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

script="$MLPACK_TESTS_DIR/../examples/ci/gate.sh"
expect_file "$script"

# run_gate BASELINE_C CANDIDATE_C : the script's exit code; output in $OUT/$ERR.
run_gate() {
  local rc=0
  MLPACK="$MLPACK" bash "$script" "$@" >"$OUT" 2>"$ERR" || rc=$?
  echo "$rc"
}

step "the default pair: a worse candidate fails the build with exit 6"
rc=$(run_gate)
[[ $rc == 6 ]] || {
  cat "$OUT" "$ERR" >&2
  fail "ci/gate.sh exited $rc, expected 6"
}
expect_contains "$ERR" "trained iris model with C=1.0"
expect_contains "$ERR" "trained iris model with C=0.01"
expect_contains "$OUT" "a  iris:v1"
# Exact metrics depend on the scikit-learn version; the verdicts do not.
expect_contains "$OUT" "  HELD    any-metric-regression  worse: accuracy "
expect_contains "$OUT" "  passed  schema-change          input schema unchanged"
expect_contains "$OUT" "== gate held: iris:v2 is worse than production; failing the build"
expect_contains "$ERR" "mlpack: error: --fail-on: 1 of 2 held: any-metric-regression (worse: "

step "a candidate that is no worse passes with exit 0"
rc=$(run_gate 1.0 10)
[[ $rc == 0 ]] || {
  cat "$OUT" "$ERR" >&2
  fail "ci/gate.sh 1.0 10 exited $rc, expected 0"
}
grep -Eq '^  log_loss +[0-9.]+ +[0-9.]+ +-[0-9.]+ +-[0-9.]+% +min +better$' "$OUT" ||
  fail "log_loss is not better with C=10: $(grep log_loss "$OUT")"
expect_contains "$OUT" "no metric with a goal got worse (3 checked)"
expect_contains "$OUT" "== gate passed: iris:v2 may be promoted"
expect_not_contains "$ERR" "mlpack: error:"

step "the example works in its own folder, repository and config"
[[ -z $(ls -A "$XDG_CONFIG_HOME") ]] || fail "ci/gate.sh wrote to XDG_CONFIG_HOME"
left=$(find "$TMP" -mindepth 1 -maxdepth 1 ! -name .out ! -name .err ! -name .xdg-config ! -name .home)
[[ -z $left ]] || fail "ci/gate.sh wrote into the working folder: $left"
echo "ci-gate: ok"

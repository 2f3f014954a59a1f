#!/usr/bin/env bash
# A CI job that lets a candidate model through only when it is no worse than
# production: `mlpack diff --fail-on` turns the comparison into an exit code.
#
#   examples/ci/gate.sh [BASELINE_C] [CANDIDATE_C]      (defaults: 1.0 0.01)
#
# It trains two real scikit-learn models with examples/sklearn-iris/train.py (C is
# the inverse regularisation strength), packs the first as iris:v1 and
# promotes it to production, packs the second as iris:v2, and gates:
#
#   mlpack diff iris@production iris:v2 \
#       --fail-on any-metric-regression --fail-on schema-change
#
# The job's exit code is the verdict, which is all a CI system reads:
#   0  no metric with a goal (metric_goals in mlpack.yaml) got worse and the
#      input schema is unchanged: the candidate may be promoted
#   6  a gate held: the build fails; the diff printed above says why
#   *  the job itself broke (unknown ref, malformed gate, ...): fail too, so
#      a broken gate never passes a model
#
# With the defaults, C=0.01 underfits: accuracy 0.9111 -> 0.8222, f1_macro
# and log_loss worse too, so the gate holds and the job exits 6. With
# `1.0 10`, accuracy and f1_macro are unchanged and log_loss improves, so the
# job exits 0.
#
# Everything happens in a temporary folder with its own repository and
# XDG_CONFIG_HOME (so its signing key is a throwaway one). The binary is
# $MLPACK, else build/mlpack; the interpreter is Debian's /usr/bin/python3
# with python3-sklearn (scripts/install-deps.sh installs it).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mlpack=$(realpath "${MLPACK:-$root/build/mlpack}")
baseline_c=${1:-1.0}
candidate_c=${2:-0.01}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CONFIG_HOME="$work/config"
export MLPACK_DIR="$work/repo"
mkdir -p "$MLPACK_DIR"
"$mlpack" -q -C "$MLPACK_DIR" init >/dev/null

# train_and_pack C NAME:VERSION : a fresh copy of examples/sklearn-iris, trained with
# C and packed (signed with the job's key, as a release pipeline would).
train_and_pack() {
  local dir="$work/model-$2"
  cp -r "$root/examples/sklearn-iris" "$dir"
  /usr/bin/python3 "$dir/train.py" "$dir" "$1"
  "$mlpack" -q pack "$dir" -t "$2"
}

echo "== production: train with C=$baseline_c, pack, promote"
train_and_pack "$baseline_c" iris:v1
"$mlpack" -q promote iris:v1 production -m "baseline for the CI gate example"

echo "== candidate: train with C=$candidate_c, pack"
train_and_pack "$candidate_c" iris:v2

echo "== gate: the candidate against production"
status=0
"$mlpack" diff iris@production iris:v2 \
  --fail-on any-metric-regression --fail-on schema-change || status=$?

case $status in
  0) echo "== gate passed: iris:v2 may be promoted" ;;
  6) echo "== gate held: iris:v2 is worse than production; failing the build" ;;
  *) echo "== the gate could not run (exit $status); failing the build" ;;
esac
exit "$status"

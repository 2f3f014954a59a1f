# Helpers sourced by every tests/cli/test_*.sh script.
#
# Each script runs in its own temp folder ($TMP, also the working folder),
# removed when the script succeeds and kept (its path printed) when it fails.
# The binary under test is $MLPACK; run a script alone with
#   MLPACK=/path/to/build/mlpack bash tests/cli/test_pack.sh

set -euo pipefail

: "${MLPACK:?set MLPACK to the mlpack binary under test}"
MLPACK=$(realpath "$MLPACK")
[[ -x $MLPACK ]] || { echo "FAIL: MLPACK=$MLPACK is not executable" >&2; exit 1; }
MLPACK_TESTS_DIR=${MLPACK_TESTS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

# Debian's interpreter, standard library only (tarfile, json, hashlib).
PY=/usr/bin/python3

TEST_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mlpack-$TEST_NAME.XXXXXX")
TMP=$(realpath "$TMP")

_on_exit() {
  local rc=$?
  # Background jobs a failed check may have left behind.
  local pids
  pids=$(jobs -pr) || true
  if [[ -n $pids ]]; then
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
    wait 2>/dev/null || true
  fi
  if [[ $rc -eq 0 && -z ${KEEP_TMP:-} ]]; then
    chmod -R u+w "$TMP" 2>/dev/null || true
    rm -rf "$TMP"
  else
    echo "$TEST_NAME: exit $rc; temp folder kept: $TMP" >&2
  fi
}
trap _on_exit EXIT

# Nothing from the caller's environment may change what the tool does.
unset MLPACK_DIR SOURCE_DATE_EPOCH MLPACK_SIGNING_KEY MLPACK_SIGNING_KEY_DATA MLPACK_KEY_PASSWORD
export XDG_CONFIG_HOME="$TMP/.xdg-config"
export HOME="$TMP/.home"
mkdir -p "$XDG_CONFIG_HOME" "$HOME"
export LC_ALL=C
cd "$TMP"

# Files of the last expect_exit run.
OUT="$TMP/.out"
ERR="$TMP/.err"

fail() {
  echo "FAIL [$TEST_NAME]: $*" >&2
  exit 1
}

# A heading for the log, so a failure is easy to place.
step() { echo "-- $*"; }

_show_output() {
  echo "  command: $*" >&2
  echo "  --- stdout ---" >&2
  head -c 4000 "$OUT" >&2 || true
  echo "  --- stderr ---" >&2
  head -c 4000 "$ERR" >&2 || true
}

# expect_exit CODE CMD... : runs CMD with stdout in $OUT and stderr in $ERR;
# fails unless it exits with CODE. For a non-zero CODE, stderr must be exactly
# one line starting with "mlpack: error: " (DESIGN.md §4).
expect_exit() {
  local want=$1
  shift
  local got=0
  "$@" >"$OUT" 2>"$ERR" || got=$?
  if [[ $got -ne $want ]]; then
    _show_output "$@"
    fail "expected exit $want, got $got: $*"
  fi
  if [[ $want -ne 0 ]]; then
    local lines
    lines=$(wc -l <"$ERR")
    if [[ $lines -ne 1 ]] || [[ $(head -c 15 "$ERR") != "mlpack: error: " ]]; then
      _show_output "$@"
      fail "stderr is not one 'mlpack: error: ' line ($lines lines): $*"
    fi
  fi
}

# expect_exit_warned CODE CMD... : expect_exit, except that "mlpack: warning: "
# lines may come before the error line (e.g. the --allow-unsigned warning).
expect_exit_warned() {
  local want=$1
  shift
  local got=0
  "$@" >"$OUT" 2>"$ERR" || got=$?
  if [[ $got -ne $want ]]; then
    _show_output "$@"
    fail "expected exit $want, got $got: $*"
  fi
  if [[ $want -ne 0 ]]; then
    if [[ $(tail -n 1 "$ERR" | head -c 15) != "mlpack: error: " ]] ||
      [[ $(grep -c '^mlpack: error: ' "$ERR") -ne 1 ]] ||
      grep -qv -e '^mlpack: error: ' -e '^mlpack: warning: ' "$ERR"; then
      _show_output "$@"
      fail "stderr is not warnings then one 'mlpack: error: ' line: $*"
    fi
  fi
}

# expect_fail CMD... : any non-zero exit other than a crash, with the one-line
# error; for failures whose exact code the contract leaves open.
expect_fail() {
  local got=0
  "$@" >"$OUT" 2>"$ERR" || got=$?
  if [[ $got -eq 0 || $got -gt 6 ]]; then
    _show_output "$@"
    fail "expected an exit code from 1 to 6, got $got: $*"
  fi
  expect_exit "$got" "$@"
}

# mlp ARGS... : the binary, for brevity.
mlp() { "$MLPACK" "$@"; }

# ok CMD... : expect_exit 0.
ok() { expect_exit 0 "$@"; }

expect_contains() {
  local file=$1 text=$2
  grep -qF -- "$text" "$file" || {
    echo "  --- $file ---" >&2
    head -c 4000 "$file" >&2 || true
    fail "$file does not contain '$text'"
  }
}

expect_not_contains() {
  local file=$1 text=$2
  if grep -qF -- "$text" "$file"; then
    echo "  --- $file ---" >&2
    head -c 4000 "$file" >&2 || true
    fail "$file contains '$text'"
  fi
}

expect_eq() {
  local got=$1 want=$2 what=${3:-value}
  [[ $got == "$want" ]] || fail "$what: expected '$want', got '$got'"
}

expect_ne() {
  local a=$1 b=$2 what=${3:-values}
  [[ $a != "$b" ]] || fail "$what: expected a difference, both are '$a'"
}

expect_file() { [[ -f $1 ]] || fail "expected file $1"; }
expect_no_path() { [[ ! -e $1 && ! -L $1 ]] || fail "$1 should not exist"; }

# json FILE EXPR : evaluates a Python expression over the JSON document `d`
# in FILE and prints the result (strings bare, anything else as JSON).
json() {
  "$PY" - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2], {"d": d, "json": json})
print(v if isinstance(v, str) else json.dumps(v))
EOF
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# A listing of a repository's objects, refs and signatures, with content
# hashes: equal before and after means the store was not touched.
store_state() {
  local repo=$1
  (cd "$repo" && find .mlpack/objects .mlpack/refs -type f -print0 | sort -z |
    xargs -0 -r sha256sum
    if [[ -d .mlpack/signatures ]]; then
      find .mlpack/signatures -printf '%y %p\n' | sort
      find .mlpack/signatures -type f -print0 | sort -z | xargs -0 -r sha256sum
    fi)
}

# Folder listing (every path, any type), for "nothing new was written".
tree_state() { (cd "$1" && find . -print | sort); }

# new_repo DIR : an initialised repository in DIR (created if missing).
new_repo() {
  mkdir -p "$1"
  mlp -C "$1" init >/dev/null
}

# fake_pickle TEXT : a well-formed protocol-4 pickle of the string TEXT
# (under 256 bytes) on stdout: a stand-in model the scan finds clean.
fake_pickle() {
  local text=$1
  printf '\x80\x04\x8c'
  # shellcheck disable=SC2059
  printf "\\$(printf '%03o' "${#text}")"
  printf '%s.' "$text"
}

# make_model DIR [NAME] [VERSION] [SALT] : a small model folder with
# model.joblib (a fake protocol-4 pickle), preprocessing.yaml, metrics.json,
# params.yaml and an mlpack.yaml using them. SALT changes the model's bytes.
make_model() {
  local dir=$1 name=${2:-iris} version=${3:-v1} salt=${4:-}
  mkdir -p "$dir"
  fake_pickle "sklearn fake model $salt" >"$dir/model.joblib"
  cat >"$dir/preprocessing.yaml" <<'EOF'
steps:
  - {op: standard_scale, columns: [sepal_length, sepal_width]}
EOF
  echo '{"accuracy": 0.9, "loss": 0.3}' >"$dir/metrics.json"
  cat >"$dir/params.yaml" <<'EOF'
C: 1.0
max_iter: 200
EOF
  cat >"$dir/mlpack.yaml" <<EOF
name: $name
version: $version
description: a test model
model:
  path: model.joblib
  framework: scikit-learn
preprocessing:
  path: preprocessing.yaml
  input_schema:
    - {name: sepal_length, type: float}
params_file: params.yaml
metrics_file: metrics.json
metric_goals: {accuracy: max, loss: min}
EOF
}

# digest_of FILE : the "digest" field of a --json output, without "sha256:".
digest_of() { json "$1" 'd["digest"].removeprefix("sha256:")'; }

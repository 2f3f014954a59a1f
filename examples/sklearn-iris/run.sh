#!/usr/bin/env bash
# A model's life with mlpack, on a real scikit-learn model, from a laptop to
# a server:
#
#   laptop: train a Pipeline(StandardScaler, LogisticRegression) with C=1.0,
#           pack it as iris:v1 (signed) and promote it to production;
#           retrain with C=10, pack iris:v2, diff it against production with
#           the CI gates, promote it; push everything to a directory remote
#   server: a fresh repository that trusts only the laptop's public key
#           pulls iris@production, verifies it, and loads the model with
#           the code packed beside it to predict one row
#
#   examples/sklearn-iris/run.sh
#
# The binary is $MLPACK, else build/mlpack (scripts/build.sh builds it); the
# interpreter is Debian's /usr/bin/python3 with python3-sklearn
# (scripts/install-deps.sh installs it). Everything happens in a temporary
# folder, removed at the end, with its own XDG_CONFIG_HOME per machine, so
# the signing key is a throwaway one. MLPACK_EXAMPLE_WORK=DIR works in DIR
# instead and keeps it (tests look at both repositories afterwards).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mlpack_bin=$(realpath "${MLPACK:-$root/build/mlpack}")
[[ -x $mlpack_bin ]] || {
  echo "run.sh: no mlpack at $mlpack_bin: build it with scripts/build.sh or set MLPACK" >&2
  exit 1
}
python=/usr/bin/python3

if [[ -n ${MLPACK_EXAMPLE_WORK:-} ]]; then
  work=$(realpath "$MLPACK_EXAMPLE_WORK")
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
unset MLPACK_DIR MLPACK_SIGNING_KEY MLPACK_SIGNING_KEY_DATA

mlpack() { "$mlpack_bin" "$@"; }
bold=''
plain=''
if [[ -t 1 ]]; then
  bold=$'\033[1m'
  plain=$'\033[0m'
fi
# show CMD... : prints the command the way a user would type it, then runs it.
show() {
  local line="" arg
  for arg in "$@"; do
    [[ $arg =~ ^[A-Za-z0-9_./:@=+-]+$ ]] || arg="'$arg'"
    line+=" $arg"
  done
  printf '\n%s%s$%s%s\n' "$bold" "$machine" "$line" "$plain"
  "$@"
}

# train DIR C : a copy of this example in DIR, trained with C.
train() {
  mkdir -p "$1"
  cp "$here/train.py" "$here/mlpack.yaml" "$here/serve.py" "$here/requirements.txt" "$1/"
  show "$python" "$1/train.py" "$1" "$2"
}

echo "== the laptop: train, pack, compare, promote, push"
machine=laptop
export XDG_CONFIG_HOME="$work/laptop/config"
mkdir -p "$work/laptop"
cd "$work/laptop"
show mlpack init
train iris-v1 1.0
show mlpack pack iris-v1                       # name and version from iris-v1/mlpack.yaml
show mlpack promote iris:v1 production -m "first release"

train iris-v2 10                               # weaker regularisation
show mlpack pack iris-v2 -t iris:v2
# What changed, and the gates CI would apply (exit 6 if one held).
show mlpack diff iris@production iris:v2 --fail-on any-metric-regression --fail-on schema-change
show mlpack promote iris:v2 production -m "C=10: lower log loss, same accuracy"
show mlpack history iris@production

# A directory remote: a shared folder, NFS, a mounted bucket. S3, GCS and
# HTTP remotes work the same way (see README.md, Remotes).
show mlpack remote add origin "$work/remote"
show mlpack push iris:v1 iris:v2 iris@production
show mlpack ls-remote

echo
echo "== the server: a fresh repository that trusts the laptop's public key"
machine=server
export XDG_CONFIG_HOME="$work/server/config"
mkdir -p "$work/server"
cd "$work/server"
show mlpack key trust "$work/laptop/config/mlpack/keys/default.key.pub"
show mlpack init
show mlpack remote add origin "$work/remote"
show mlpack pull iris@production              # signature checked before any blob moves
show mlpack verify iris@production
# The files, unpacked once into .mlpack/cache: the model, and the code that
# was packed beside it to load it.
model=$(mlpack path iris@production --role model)
code=$(mlpack path iris@production --role code)
# shellcheck disable=SC2016 # the command as a user types it, not expanded
printf '\n%sserver$ %s%s\n' "$bold" \
  'python3 "$(mlpack path iris@production --role code)" "$(mlpack path iris@production --role model)" 5.1 3.5 1.4 0.2' \
  "$plain"
predicted=$("$python" "$code" "$model" 5.1 3.5 1.4 0.2)
echo "$predicted"
names=$(mlpack inspect iris@production --json |
  "$python" -c 'import json, sys; print(" ".join(json.load(sys.stdin)["manifest"]["metadata"]["target_names"]))')
read -r -a target_names <<<"$names"
echo "prediction for [5.1, 3.5, 1.4, 0.2]: class $predicted (${target_names[$predicted]})"
echo
echo "sklearn-iris: ok"

#!/usr/bin/env bash
# The main job, end to end on examples/sklearn-iris: install, build, train a real
# scikit-learn model, then pack (signed) -> tag -> promote -> pack a second
# candidate -> diff and gate it -> push to a directory remote -> pull on a
# "server" -> verify -> unpack and load the model the way a service would ->
# export -> check with minisign alone -> import (verified). Keys live in a throwaway
# XDG_CONFIG_HOME, so the demo leaves none behind.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build"
mlpack="$root/build/mlpack"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CONFIG_HOME="$work/config"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

cp -r "$root/examples/sklearn-iris" "$work/iris"
/usr/bin/python3 "$work/iris/train.py" "$work/iris"

# A second candidate, trained with stronger regularisation.
cp -r "$work/iris" "$work/iris-v2"
/usr/bin/python3 "$work/iris-v2/train.py" "$work/iris-v2" 0.05

cd "$work"
step "$mlpack" init
step "$mlpack" pack iris
step "$mlpack" tag iris:v1 iris:2025-01-release
step "$mlpack" inspect iris:v1
step "$mlpack" promote iris:v1 production -m "first release"
step "$mlpack" pack iris-v2 -t iris:v2
step "$mlpack" list
step "$mlpack" diff iris@production iris:v2
# The CI gate: exit 6 means the candidate is worse than production.
gate=0
printf '\n\033[1m$ mlpack diff iris@production iris:v2 --fail-on any-metric-regression --fail-on schema-change\033[0m\n'
"$mlpack" diff iris@production iris:v2 --fail-on any-metric-regression \
  --fail-on schema-change >/dev/null || gate=$?
echo "gate exit code: $gate (0 = ship it, 6 = a gate held)"
[[ $gate -eq 0 || $gate -eq 6 ]] || exit "$gate"
step "$mlpack" history iris@production

# Ship it through a directory remote (a shared folder, NFS, a mounted bucket).
step "$mlpack" remote add origin "$work/remote"
step "$mlpack" push iris@production iris:v2
step "$mlpack" ls-remote

mkdir "$work/server" && cd "$work/server"
step "$mlpack" init
step "$mlpack" remote add origin "$work/remote"
step "$mlpack" pull iris@production
step "$mlpack" verify iris@production
step "$mlpack" unpack iris@production -d deployed --role model --role preprocessing
step ls -l deployed
model=$("$mlpack" path iris@production --role model)
step /usr/bin/python3 "$work/iris/serve.py" "$model" 5.1 3.5 1.4 0.2
step "$mlpack" fsck

# One-file transport, for air-gapped machines: an archive plain tar reads.
cd "$work"
step "$mlpack" export iris:v1 -o iris-v1.mlpack
step tar tvf iris-v1.mlpack
mkdir by-hand && tar xf iris-v1.mlpack -C by-hand
step minisign -Vm by-hand/manifest.yaml -x by-hand/manifest.yaml.minisig \
  -p "$XDG_CONFIG_HOME/mlpack/keys/default.key.pub"

mkdir "$work/offline" && cd "$work/offline"
step "$mlpack" init
step "$mlpack" import ../iris-v1.mlpack
step "$mlpack" verify iris:v1
echo
echo "demo: ok"

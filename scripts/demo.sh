#!/usr/bin/env bash
# The main job, end to end on examples/iris: install, build, train a real
# scikit-learn model, then pack -> tag -> inspect -> export -> import ->
# unpack, and load the unpacked model the way a service would.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build"
mlpack="$root/build/mlpack"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

cp -r "$root/examples/iris" "$work/iris"
/usr/bin/python3 "$work/iris/train.py" "$work/iris"

cd "$work"
step "$mlpack" init
step "$mlpack" pack iris
step "$mlpack" tag iris:v1 iris:2025-01-release
step "$mlpack" list
step "$mlpack" inspect iris:v1
step "$mlpack" export iris:v1 -o iris-v1.mlpack
step tar tvf iris-v1.mlpack

mkdir "$work/server" && cd "$work/server"
step "$mlpack" init
step "$mlpack" import ../iris-v1.mlpack
step "$mlpack" unpack iris:v1 -d deployed --role model --role preprocessing
step ls -l deployed
model=$("$mlpack" path iris:v1 --role model)
step /usr/bin/python3 "$work/iris/serve.py" "$model" 5.1 3.5 1.4 0.2
step "$mlpack" fsck
echo
echo "demo: ok"

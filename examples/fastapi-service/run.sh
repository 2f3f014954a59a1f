#!/usr/bin/env bash
# Serves the sklearn-iris model with FastAPI, the way a deployment would:
#
#   setup  on the "laptop": train examples/sklearn-iris, pack it (signed),
#          promote it to production, push it to a directory remote
#   serve  on the "server": a fresh repository that trusts the laptop's
#          public key; app.py pulls iris@production from the remote at
#          start-up (MLPACK_REMOTE), verifies it and serves it with uvicorn
#          on 127.0.0.1:${PORT:-8000}, in the foreground (Ctrl-C stops it)
#
#   examples/fastapi-service/run.sh          # setup, then serve
#   curl -s localhost:8000/health
#   curl -s localhost:8000/predict -H 'content-type: application/json' \
#        -d '{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}'
#
# The binary is $MLPACK, else build/mlpack; the interpreter $PYTHON, else
# Debian's /usr/bin/python3 with python3-sklearn, python3-fastapi and
# python3-uvicorn. Everything happens in a temporary folder, removed when
# the server stops. With MLPACK_EXAMPLE_WORK=DIR it happens in DIR, which
# is kept, and the phases can run one at a time:
#   MLPACK_EXAMPLE_WORK=DIR run.sh setup
#   MLPACK_EXAMPLE_WORK=DIR PORT=8080 MODEL_REF=iris@production run.sh serve
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
example="$root/examples/sklearn-iris"
mlpack_bin=$(realpath "${MLPACK:-$root/build/mlpack}")
[[ -x $mlpack_bin ]] || {
  echo "run.sh: no mlpack at $mlpack_bin: build it with scripts/build.sh or set MLPACK" >&2
  exit 1
}
python=${PYTHON:-/usr/bin/python3}
phase=${1:-all}
case $phase in
  all | setup | serve) ;;
  *)
    echo "usage: run.sh [setup|serve]" >&2
    exit 2
    ;;
esac

if [[ -n ${MLPACK_EXAMPLE_WORK:-} ]]; then
  work=$(realpath "$MLPACK_EXAMPLE_WORK")
  mkdir -p "$work"
elif [[ $phase == all ]]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
else
  echo "run.sh $phase: set MLPACK_EXAMPLE_WORK to the folder the phases share" >&2
  exit 2
fi
unset MLPACK_DIR MLPACK_SIGNING_KEY MLPACK_SIGNING_KEY_DATA

mlpack() {
  echo "+ mlpack $*" >&2
  "$mlpack_bin" "$@"
}

setup() {
  echo "== laptop: train, pack, promote, push to $work/remote" >&2
  export XDG_CONFIG_HOME="$work/laptop/config"
  mkdir -p "$work/laptop/iris"
  cd "$work/laptop"
  mlpack init
  cp "$example/train.py" "$example/mlpack.yaml" "$example/serve.py" \
    "$example/requirements.txt" iris/
  "$python" iris/train.py iris 1.0
  mlpack pack iris -t iris:v1
  mlpack promote iris:v1 production -m "first release"
  mlpack remote add origin "$work/remote"
  mlpack push iris:v1 iris@production
}

serve() {
  echo "== server: a fresh repository; the service pulls ${MODEL_REF:-iris@production} at start-up" >&2
  export XDG_CONFIG_HOME="$work/server/config"
  rm -rf "$work/server"
  mkdir -p "$work/server"
  cd "$work/server"
  mlpack init
  mlpack key trust "$work/laptop/config/mlpack/keys/default.key.pub"
  export MLPACK_BIN="$mlpack_bin" MLPACK_DIR="$work/server" MLPACK_REMOTE="$work/remote"
  export MODEL_REF=${MODEL_REF:-iris@production}
  echo "+ $python -m uvicorn app:app --host 127.0.0.1 --port ${PORT:-8000}" >&2
  "$python" -m uvicorn app:app --app-dir "$here" --host 127.0.0.1 --port "${PORT:-8000}"
}

case $phase in
  all)
    (setup)
    serve
    ;;
  setup) setup ;;
  serve) serve ;;
esac

#!/usr/bin/env bash
# Installs test dependencies, builds from scratch and runs every test
# (unit tests and CLI integration tests, through CTest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build-test}
"$root/scripts/install-deps.sh" --test
rm -rf "$build_dir"
BUILD_TYPE=${BUILD_TYPE:-Debug} "$root/scripts/build.sh" "$build_dir" "$@"
ctest --test-dir "$build_dir" --output-on-failure -j2

#!/usr/bin/env bash
# Installs test dependencies, builds from scratch and runs every test
# (unit tests and CLI integration tests, through CTest), then builds the .deb,
# installs it, uses it and purges it (scripts/test-package.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build-test}
"$root/scripts/install-deps.sh" --test
rm -rf "$build_dir"
BUILD_TYPE=${BUILD_TYPE:-Debug} "$root/scripts/build.sh" "$build_dir" "$@"
ctest --test-dir "$build_dir" --output-on-failure -j2
# Once, on the plain build: sanitize.sh runs this script again on a sanitized
# one, which is not a package anyone ships.
if ! grep -qx 'MLPACK_SANITIZE:BOOL=ON' "$build_dir/CMakeCache.txt"; then
  "$root/scripts/test-package.sh" "$build_dir"
fi

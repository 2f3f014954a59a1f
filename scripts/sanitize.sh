#!/usr/bin/env bash
# Builds with AddressSanitizer and UBSan and runs the unit tests and the CLI
# tests against the sanitized binary; any report fails the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
BUILD_DIR="$root/build-sanitize" "$root/scripts/test.sh" -DMLPACK_SANITIZE=ON

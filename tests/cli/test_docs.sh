#!/usr/bin/env bash
# The man page lints clean and names every subcommand the binary knows.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }

for page in "$root"/man/*.1; do
  lint=$(mandoc -Tlint "$page" 2>&1) || fail "mandoc -Tlint $page: $lint"
  [[ -z "$lint" ]] || fail "mandoc -Tlint $page: $lint"
done
for cmd in $("$MLPACK" __complete '' | cut -f1); do
  grep -q "^\.It Cm $cmd" "$root/man/mlpack.1" || fail "man page lacks $cmd"
  "$MLPACK" "$cmd" --help >/dev/null || fail "$cmd --help"
done
echo "docs: ok"

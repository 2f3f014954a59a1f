#!/usr/bin/env bash
# The man page lints clean and the bash completion offers subcommands and
# the store's own refs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for page in "$root"/man/*.1; do
  lint=$(mandoc -Tlint "$page" 2>&1) || fail "mandoc -Tlint $page: $lint"
  [[ -z "$lint" ]] || fail "mandoc -Tlint $page: $lint"
done

bindir=$(dirname "$MLPACK")
cd "$work"
"$MLPACK" init >/dev/null
printf '\x80\x04\x95x' >m.pkl
"$MLPACK" -q pack --model m.pkl --no-preprocessing -t iris:v1 >/dev/null
"$MLPACK" -q pack --model m.pkl --no-preprocessing -t iris:v2 >/dev/null
out=$(PATH="$bindir:$PATH" bash -c 'source "$1"; COMP_WORDS=(mlpack pa); COMP_CWORD=1; _mlpack
  echo "${COMPREPLY[*]}"; COMP_WORDS=(mlpack inspect ir); COMP_CWORD=2; _mlpack; echo "${COMPREPLY[*]}"' \
  _ "$root/completions/mlpack.bash")
[[ "$out" == $'pack path\niris:v1 iris:v2' ]] || fail "completion gave: $out"
# Every subcommand the binary knows is in the man page.
for cmd in init pack tag list log inspect path export import unpack verify diff key promote rollback history remote push pull ls-remote gc fsck; do
  grep -q "^\.It Cm $cmd" "$root/man/mlpack.1" || fail "man page lacks $cmd"
  "$MLPACK" "$cmd" --help >/dev/null || fail "$cmd --help"
done
echo "docs: ok"

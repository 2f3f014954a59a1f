#!/usr/bin/env bash
# `cmake --install` of the build folder puts everything where it belongs:
# bin/mlpack runs; every man/*.1 and man/*.5 of the source tree is in
# share/man/man1 or man5 (gzipped or not) with the same text; the bash, zsh and
# fish completions are in folders those shells read; the docs are in
# share/doc/mlpack; nothing else lands in bin/ (no test binaries).
# Run alone after a full build: MLPACK=build/mlpack bash tests/cli/test_install.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
: "${MLPACK:?set MLPACK to the built mlpack binary}"
build_dir=$(cd "$(dirname "$MLPACK")" && pwd)
[[ -f $build_dir/cmake_install.cmake ]] || fail "$build_dir is not a CMake build folder"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/usr
log=$work/install.log
cmake --install "$build_dir" --prefix "$prefix" >"$log" 2>&1 ||
  fail "cmake --install $build_dir failed: $(cat "$log")"

# The binary, and nothing else, in bin/.
[[ -x $prefix/bin/mlpack ]] || fail "bin/mlpack missing"
version=$("$prefix/bin/mlpack" --version) || fail "installed mlpack --version failed"
[[ $version == *mlpack* ]] || fail "unexpected --version output: $version"
extra=$(find "$prefix/bin" -mindepth 1 ! -name mlpack)
[[ -z $extra ]] || fail "unexpected files in bin/: $extra"
# Nothing else executable anywhere (a test binary under another folder).
extra=$(find "$prefix" -type f -perm -u+x ! -path "$prefix/bin/mlpack")
[[ -z $extra ]] || fail "unexpected executables installed: $extra"

# Man pages: each page of the source tree, same text, installed plain or gzipped.
mandir=$prefix/share/man
pages=0
for page in "$root"/man/*.1 "$root"/man/*.5; do
  [[ -e $page ]] || continue
  name=$(basename "$page")
  section=${name##*.}
  installed=$mandir/man$section/$name
  if [[ -f $installed.gz ]]; then
    gzip -dc "$installed.gz" | cmp -s - "$page" || fail "man$section/$name.gz differs from man/$name"
  elif [[ -f $installed ]]; then
    cmp -s "$installed" "$page" || fail "man$section/$name differs from man/$name"
  else
    fail "man page $name not installed in share/man/man$section"
  fi
  pages=$((pages + 1))
done
((pages >= 2)) || fail "found only $pages man pages in $root/man"
[[ -e $root/man/mlpack.1 ]] || fail "man/mlpack.1 missing from the source tree"
# And no page installed that the source tree does not have (a stale one).
while IFS= read -r installed; do
  name=$(basename "$installed" .gz)
  [[ -f $root/man/$name ]] || fail "installed man page $name has no man/$name"
done < <(find "$mandir" -type f)
if command -v man >/dev/null; then
  found=$(man -M "$mandir" -w mlpack-diff 2>&1) || fail "man -w mlpack-diff: $found"
  [[ $found == "$mandir/man1/mlpack-diff.1"* ]] || fail "man -w mlpack-diff found $found"
  found=$(man -M "$mandir" -w 1 mlpack 2>&1) || fail "man -w mlpack: $found"
  [[ $found == "$mandir/man1/mlpack.1"* ]] || fail "man -w mlpack found $found"
fi

# Shell completions: all three are required, each in a folder that shell reads
# (under /usr on Debian: checked against each shell itself where installed).
bash_dir=share/bash-completion/completions
zsh_dir=share/zsh/vendor-completions
fish_dir=share/fish/vendor_completions.d
[[ -f $prefix/$bash_dir/mlpack ]] || fail "bash completion not at $bash_dir/mlpack"
[[ -f $prefix/$zsh_dir/_mlpack ]] || fail "zsh completion not at $zsh_dir/_mlpack"
[[ -f $prefix/$fish_dir/mlpack.fish ]] || fail "fish completion not at $fish_dir/mlpack.fish"
cmp -s "$prefix/$bash_dir/mlpack" "$root/completions/mlpack.bash" || fail "bash completion differs"
cmp -s "$prefix/$zsh_dir/_mlpack" "$root/completions/_mlpack" || fail "zsh completion differs"
cmp -s "$prefix/$fish_dir/mlpack.fish" "$root/completions/mlpack.fish" || fail "fish completion differs"
# A shell started with the prefix as its data folder loads them by itself.
shell_env=(env HOME="$work" XDG_CONFIG_HOME="$work/.config" XDG_DATA_HOME="$work/.local"
           XDG_DATA_DIRS="$prefix/share" PATH="$prefix/bin:$PATH")
if [[ -f /usr/share/bash-completion/bash_completion ]]; then
  [[ $(pkg-config --variable completionsdir bash-completion 2>/dev/null || echo "/usr/$bash_dir") == "/usr/$bash_dir" ]] ||
    fail "bash-completion reads $(pkg-config --variable completionsdir bash-completion), not /usr/$bash_dir"
  # shellcheck disable=SC2016
  "${shell_env[@]}" bash --norc --noprofile -c 'source /usr/share/bash-completion/bash_completion
    __load_completion mlpack && complete -p mlpack' >/dev/null 2>&1 ||
    fail "bash-completion did not load a completion for mlpack from $prefix/$bash_dir"
fi
if command -v zsh >/dev/null; then
  zsh -fc 'print -l $fpath' | grep -qx "/usr/$zsh_dir" || fail "/usr/$zsh_dir is not in zsh's fpath"
  # compinit binds _mlpack to the mlpack command (its #compdef line).
  # shellcheck disable=SC2016
  bound=$(cd "$work" && "${shell_env[@]}" ZDOTDIR="$work" zsh -fc \
    'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -d "$2"; print -r -- "${_comps[mlpack]-}"' \
    _ "$prefix/$zsh_dir" "$work/.zcompdump") || fail "zsh compinit failed"
  [[ $bound == _mlpack ]] || fail "zsh's compinit did not bind _mlpack to mlpack (got '$bound')"
fi
if command -v fish >/dev/null; then
  dir=$(pkg-config --variable completionsdir fish 2>/dev/null || echo "/usr/$fish_dir")
  [[ $dir == "/usr/$fish_dir" ]] || fail "fish reads $dir, not /usr/$fish_dir"
  offered=$(cd "$work" && "${shell_env[@]}" fish -c 'complete -C "mlpack "') || fail "fish completion failed"
  grep -q '^pack' <<<"$offered" || fail "fish offers no 'pack' after 'mlpack ': $offered"
fi

# Docs.
for doc in README.md CHANGELOG.md; do
  cmp -s "$prefix/share/doc/mlpack/$doc" "$root/$doc" || fail "share/doc/mlpack/$doc missing or stale"
done
echo "install: ok ($pages man pages)"

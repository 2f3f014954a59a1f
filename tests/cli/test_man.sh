#!/usr/bin/env bash
# The man pages and the binary agree. Every page lints clean; every command
# the binary knows has a page and an entry in mlpack(1), and every page names
# a command the binary knows; every option of a command (and of its
# subcommands) heads an item (.It Fl ...) of its page's OPTIONS section, and
# every .Fl in a page's SYNOPSIS or at the head of an OPTIONS item is an
# option of that command, of its subcommands, or a global one; a .Fl anywhere
# else (a cross-reference to another command's option) must be an option of
# some command. The commands and options come from the binary itself, through the
# hidden `mlpack __complete` the shell completions use, so nothing is
# hard-coded here.
#
# MAN_DIR (default: the repository's man/) is the folder of pages to check.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# Drift is reported in full, one line per problem, before the test fails.
problems=0
problem() {
  echo "FAIL: $*" >&2
  problems=$((problems + 1))
}

[[ -n "${MLPACK:-}" && -x "$MLPACK" ]] || fail "MLPACK must name the mlpack binary"
command -v mandoc >/dev/null || fail "mandoc is not installed"
man_dir=${MAN_DIR:-$root/man}
[[ -d "$man_dir" ]] || fail "no man folder $man_dir"
man_dir=$(cd "$man_dir" && pwd)
shopt -s nullglob

# An empty folder and a throwaway key folder: no repository, so completion
# offers no refs, and the user's own keys and config are never read.
mkdir "$work/empty" "$work/config"
cd "$work/empty"
export XDG_CONFIG_HOME=$work/config
unset MLPACK_DIR

# --- a. every page lints clean ------------------------------------------------
pages=("$man_dir"/*.1 "$man_dir"/*.5)
((${#pages[@]} > 0)) || fail "no man pages in $man_dir"
for page in "${pages[@]}"; do
  name=$(basename "$page")
  # From the man folder: mandoc resolves each .Xr against the pages in the
  # working folder, so a reference to a sibling page lints clean and one to a
  # page that does not exist does not.
  if ! lint=$(cd "$man_dir" && mandoc -Tlint "$name" 2>&1) || [[ -n "$lint" ]]; then
    problem "mandoc -Tlint $name is not clean:"$'\n'"$lint"
  fi
done

# --- what the binary knows ------------------------------------------------------
# complete WORD...: the candidates of `mlpack __complete WORD...` in `words`,
# without descriptions and without a ':directive' line.
words=()
complete() {
  "$MLPACK" __complete "$@" >"$work/complete.out" 2>"$work/complete.err" ||
    fail "mlpack __complete $*: exit $?: $(head -c 400 "$work/complete.err")"
  words=()
  local line
  while IFS= read -r line || [[ -n "$line" ]]; do
    line=${line%%$'\t'*}
    [[ -z "$line" || "$line" == :* ]] && continue
    words+=("$line")
  done <"$work/complete.out"
}

# subcommands PATH...: the subcommands of `mlpack PATH...` in `subs`: the
# candidates for its next word whose --help shows "Usage: mlpack PATH... WORD".
subs=()
subcommands() {
  complete "$@" ''
  subs=()
  local prefix="Usage: mlpack${*:+ $*}" candidate line
  for candidate in "${words[@]}"; do
    [[ "$candidate" == -* ]] && continue
    "$MLPACK" "$@" "$candidate" --help >"$work/help.out" 2>/dev/null || continue
    while IFS= read -r line; do
      if [[ "$line" == "$prefix $candidate" || "$line" == "$prefix $candidate "* ]]; then
        subs+=("$candidate")
        break
      fi
    done <"$work/help.out"
  done
}

# options PATH...: the options of `mlpack PATH...`, long and short forms, in `opts`.
opts=()
options() {
  complete "$@" -
  opts=()
  local w
  for w in "${words[@]}"; do
    [[ "$w" == -* ]] && opts+=("$w")
  done
}

declare -A is_global=()
options
for o in "${opts[@]}"; do is_global[$o]=1; done
[[ -n "${is_global[--help]:-}" ]] || fail "mlpack __complete - does not list --help: $(cat "$work/complete.out")"

subcommands
commands=("${subs[@]}")
((${#commands[@]} > 0)) || fail "mlpack __complete '' lists no commands: $(cat "$work/complete.out")"

# For each top-level command: its options and those of every nested
# subcommand ("OPTION<TAB>mlpack PATH"), and the nested subcommand names.
declare -A tree_options=() nested=() any_option=()
for o in "${!is_global[@]}"; do any_option[$o]=1; done
for cmd in "${commands[@]}"; do
  tree_options[$cmd]=""
  nested[$cmd]=""
  queue=("$cmd")
  while ((${#queue[@]} > 0)); do
    path=${queue[0]}
    queue=("${queue[@]:1}")
    # shellcheck disable=SC2086  # a path is words without spaces
    options $path
    for o in "${opts[@]}"; do
      [[ "$o" == --help || "$o" == -h ]] && continue
      tree_options[$cmd]+="$o"$'\t'"mlpack $path"$'\n'
      any_option[$o]=1
    done
    # shellcheck disable=SC2086
    subcommands $path
    for sub in "${subs[@]}"; do
      nested[$cmd]+="$sub"$'\n'
      queue+=("$path $sub")
    done
  done
done

# --- the .Fl macros of a page -----------------------------------------------------
# "SECTION<TAB>ITEM<TAB>-FLAG" for every flag a .Fl renders, ITEM 1 on an
# .It line: `.Fl -json` is --json, `.Fl r` is -r, and `.Op Fl q | v` is -q
# and -v. A Fl takes the words after it up to the next macro; delimiters stay
# as they are.
flags_of() {
  awk '
    /^[.\047]\\"/ { next }
    /^\.Sh[ \t]/ { section = $0; sub(/^\.Sh[ \t]+/, "", section); gsub(/"/, "", section); next }
    /^[.\047]/ {
      n = split(substr($0, 2), t, /[ \t]+/)
      item = t[1] == "It" ? 1 : 0
      in_fl = 0
      for (i = 1; i <= n; i++) {
        w = t[i]
        if (w == "") continue
        if (w == "Fl") { in_fl = 1; continue }
        if (w ~ /^[A-Z][a-z][a-z]?$/) { in_fl = 0; continue }
        if (!in_fl || w ~ /^[|,.;:?!()\[\]]$/) continue
        print section "\t" item "\t-" w
      }
    }' "$1"
}

# Checks one page against the options it must document (`want`: lines
# "OPTION<TAB>where"), which with the global options are also the only ones
# its SYNOPSIS and its OPTIONS items may show (`allowed` says which, for the
# message).
check_flags() {
  local page=$1 allowed=$2 want=$3
  local name section item flag o where
  name=$(basename "$page")
  declare -A documented=() own=()
  while IFS=$'\t' read -r o where; do
    [[ -n "$o" ]] && own[$o]=1
  done <<<"$want"
  while IFS=$'\t' read -r section item flag; do
    [[ -z "$flag" ]] && continue
    if [[ "$section" == SYNOPSIS || ("$section" == OPTIONS && "$item" == 1) ]]; then
      [[ "$section" == OPTIONS ]] && documented[$flag]=1
      [[ -n "${own[$flag]:-}${is_global[$flag]:-}" ]] ||
        problem "$name ($section) shows $flag, which is not $allowed"
    else
      [[ -n "${any_option[$flag]:-}" ]] ||
        problem "$name ($section) mentions $flag, which no mlpack command has"
    fi
  done < <(flags_of "$page")
  while IFS=$'\t' read -r o where; do
    [[ -z "$o" ]] && continue
    [[ -n "${documented[$o]:-}" ]] ||
      problem "$name does not document $o of '$where' in its OPTIONS section (add .It Fl ${o#-})"
  done <<<"$want"
}

# --- b. a page per command, an entry in mlpack(1), no stale page -----------------
[[ -f "$man_dir/mlpack.1" ]] || fail "no page mlpack.1 in $man_dir"
declare -A known=()
for cmd in "${commands[@]}"; do
  known[$cmd]=1
  [[ -f "$man_dir/mlpack-$cmd.1" ]] || problem "'mlpack $cmd' has no page mlpack-$cmd.1"
  grep -Eq "^\.It Cm $cmd( |$)" "$man_dir/mlpack.1" ||
    problem "mlpack.1 has no '.It Cm $cmd' entry for 'mlpack $cmd'"
done
for page in "$man_dir"/*.1; do
  name=$(basename "$page" .1)
  [[ "$name" == mlpack ]] && continue
  if [[ "$name" != mlpack-* || -z "${known[${name#mlpack-}]:-}" ]]; then
    problem "$name.1 is not the page of a command the binary knows (mlpack __complete '' lists: ${commands[*]})"
  fi
done

# --- c. flag drift, both ways ---------------------------------------------------
global_want=""
for o in "${!is_global[@]}"; do
  [[ "$o" == --help || "$o" == -h ]] && continue
  global_want+="$o"$'\t'"mlpack"$'\n'
done
check_flags "$man_dir/mlpack.1" "a global option" "$global_want"

for cmd in "${commands[@]}"; do
  page=$man_dir/mlpack-$cmd.1
  [[ -f "$page" ]] || continue
  check_flags "$page" "an option of 'mlpack $cmd' or its subcommands, nor a global option" \
    "${tree_options[$cmd]}"
  while IFS= read -r sub; do
    [[ -z "$sub" ]] && continue
    grep -Eq "^\.It Cm $sub( |$)" "$page" ||
      problem "mlpack-$cmd.1 has no '.It Cm $sub' entry for the subcommand '$sub'"
  done <<<"${nested[$cmd]}"
done

# Pages of section 5 document no command: any .Fl must exist somewhere.
for page in "$man_dir"/*.5; do
  check_flags "$page" "a global option" ""
done

((problems == 0)) || fail "$problems problem(s) between the man pages in $man_dir and $MLPACK"
echo "man: ok (${#pages[@]} pages, ${#commands[@]} commands)"

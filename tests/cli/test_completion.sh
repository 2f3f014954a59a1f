#!/usr/bin/env bash
# Shell completion: the hidden `mlpack __complete` (commands, flags, refs,
# stages, remotes, keys from the binary and the store) and the bash, zsh and
# fish scripts in completions/ that call it.
source "$(dirname "$0")/lib.sh"
completions="$MLPACK_TESTS_DIR/../completions"
bindir="$TMP/bin"
mkdir -p "$bindir"
ln -s "$MLPACK" "$bindir/mlpack"
export PATH="$bindir:$PATH"

# candidates WORD... : the values `mlpack __complete` offers, space-separated.
candidates() { mlp __complete "$@" | cut -f1 | paste -sd' ' -; }

step "outside a repository: commands and flags, no refs, no error"
expect_eq "$(candidates pu)" "push pull" "commands for pu"
expect_eq "$(candidates '')" "$(mlp --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NF && !/:$/ {print $1}' | paste -sd' ' -)" \
  "every command of --help, and nothing hidden"
expect_eq "$(candidates inspect '')" ":files" "refs outside a repository"
ok mlp __complete inspect ''
[[ ! -s $ERR ]] || fail "__complete outside a repository wrote to stderr: $(cat "$ERR")"

step "a repository with versions, a stage and a remote"
new_repo repo
cd repo
make_model m iris v1
mlp -q pack m >/dev/null
make_model m2 iris v2 salt2
mlp -q pack m2 >/dev/null
make_model m3 team/wine v1 salt3
mlp -q pack m3 >/dev/null
mlp -q promote iris:v1 production >/dev/null
mlp -q remote add origin "$TMP/remote" >/dev/null
mlp -q remote add backup "$TMP/backup" >/dev/null

expect_eq "$(candidates inspect ir)" "iris:v1 iris:v2 iris@production" "refs for inspect ir"
expect_eq "$(candidates diff iris:v1 iris:)" "iris:v1 iris:v2" "second REF of diff"
expect_eq "$(candidates push iris:v1 team)" "team/wine:v1" "namespaced refs, repeatable REF"
expect_eq "$(candidates log '')" "iris team/wine" "model names"
expect_eq "$(candidates history '')" "iris@production" "stage refs"
expect_eq "$(candidates promote iris:v2 '')" "production staging" "stage names"
expect_eq "$(candidates push -r '')" "origin backup" "remote names after -r"
expect_eq "$(candidates pull --remote=or)" "--remote=origin" "--remote=VALUE"
expect_eq "$(candidates remote set '')" "origin backup" "remote set NAME"
expect_eq "$(candidates remote set origin '')" "url endpoint region path-style ca-file" "remote set KEY"
expect_eq "$(candidates remote '')" "add set remove list" "remote's subcommands"
expect_eq "$(candidates --progress '')" "auto plain none" "--progress values"
expect_eq "$(candidates path iris:v1 --role p)" "preprocessing" "--role values"
expect_eq "$(candidates unpack -d '')" ":dirs" "unpack -d takes a folder"
expect_eq "$(candidates import '')" ":files" "import takes a file"
expect_eq "$(candidates inspect ./)" ":files" "a REF that looks like a path"
expect_eq "$(candidates push --j)" "--jobs --json" "push's long flags"
expect_eq "$(candidates push -- -)" ":files" "no flags after --"
ktrust=$(mlp key list --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["keys"][0]["key_id"])')
expect_eq "$(candidates key untrust '')" "$ktrust" "trusted key ids"
# -C picks the repository the refs come from.
cd "$TMP"
expect_eq "$(candidates -C repo list '')" "iris team/wine" "refs through -C"
expect_eq "$(candidates list '')" "" "no repository here, no names"
cd repo
# Every flag of a command is offered, as its --help lists it.
want=$(mlp push --help | grep -oE '(^|[ ,])--?[a-z][a-z-]*' | tr -d ' ,' | sort -u | paste -sd' ' -)
got=$(mlp __complete push - | cut -f1 | sort | paste -sd' ' -)
expect_eq "$got" "$want" "push's flags against its --help"

step "bash: COMPREPLY from the sourced script"
# bash_complete LINE : COMPREPLY for the cursor at the end of LINE, set the way bash sets it.
bash_complete() {
  bash -c 'source "$1"; COMP_LINE=$2; COMP_POINT=${#2}; COMP_WORDBREAKS=$'"'"' \t\n"'"'"'"'"'"'"'"'"'><=;|&(:'"'"'
    _mlpack; printf "%s\n" "${COMPREPLY[@]}"' _ "$completions/mlpack.bash" "$1" | paste -sd' ' -
}
expect_eq "$(bash_complete 'mlpack pu')" "push pull" "bash: mlpack pu<TAB>"
expect_eq "$(bash_complete 'mlpack inspect ir')" "iris:v1 iris:v2 iris@production" "bash: mlpack inspect ir<TAB>"
# ':' breaks words in bash: only the part after it is replaced.
expect_eq "$(bash_complete 'mlpack inspect iris:v')" "v1 v2" "bash: after a ':'"
expect_eq "$(bash_complete 'mlpack push --remote=b')" "backup" "bash: after a '='"
touch archive.mlpack
expect_eq "$(bash_complete 'mlpack import arch')" "archive.mlpack" "bash: file names"
bash -c 'source "$1"; complete -p mlpack' _ "$completions/mlpack.bash" | grep -q -- '-F _mlpack mlpack' ||
  fail "bash: the script does not register _mlpack"

step "zsh: syntax, registration, and the values handed to _describe"
command -v zsh >/dev/null || fail "zsh is not installed (scripts/install-deps.sh --test installs it)"
zsh -n "$completions/_mlpack" || fail "zsh -n _mlpack"
registered=$(zsh -f -c 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -d "$2/zcompdump"; print -r -- $_comps[mlpack]' \
  _ "$completions" "$TMP")
expect_eq "$registered" "_mlpack" "zsh: compinit registers _mlpack for mlpack"
# _describe and _files stand in for zsh's completion system, printing what they get.
zsh_complete() {
  zsh -f -c '_describe() { print -rl -- "${(@P)4}"; }; _files() { print -r -- "FILES $*"; }; compdef() { :; }
    source "$1"; shift; words=("$@"); CURRENT=$#; PREFIX=${words[-1]}; _mlpack' \
    _ "$completions/_mlpack" "$@" | paste -sd'|' -
}
expect_eq "$(zsh_complete mlpack inspect iris:)" \
  'iris\:v1:sha256:'"$(mlp inspect iris:v1 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"][7:19])')"'|iris\:v2:sha256:'"$(mlp inspect iris:v2 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"][7:19])')" \
  "zsh: refs with ':' escaped, digests as descriptions"
expect_eq "$(zsh_complete mlpack pu)" "push:Send versions (and stages) to a remote|pull:Fetch versions from a remote, verified before use" "zsh: commands"
expect_eq "$(zsh_complete mlpack pack -C '')" "FILES -/" "zsh: folders for -C"

step "fish: syntax and complete -C"
command -v fish >/dev/null || fail "fish is not installed (scripts/install-deps.sh --test installs it)"
fish -n "$completions/mlpack.fish" || fail "fish -n mlpack.fish"
fish_complete() { fish -c 'source $argv[1]; complete -C $argv[2]' "$completions/mlpack.fish" "$1" | cut -f1 | paste -sd' ' -; }
expect_eq "$(fish_complete 'mlpack pu')" "pull push" "fish: mlpack pu<TAB>"
expect_eq "$(fish_complete 'mlpack inspect ir')" "iris:v1 iris:v2 iris@production" "fish: mlpack inspect ir<TAB>"
expect_eq "$(fish_complete 'mlpack push -r ')" "backup origin" "fish: remotes"
echo "completion: ok"

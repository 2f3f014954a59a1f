# Repository discovery (init, walking up, -C, MLPACK_DIR), help texts and
# command-line usage errors.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "init creates .mlpack with its layout"
mkdir work
ok mlp -C work init
for d in objects/sha256 refs/tags tmp; do
  [[ -d work/.mlpack/$d ]] || fail "init did not create .mlpack/$d"
done
expect_file work/.mlpack/config.yaml
expect_contains "$OUT" "$TMP/work/.mlpack"
step "init again keeps what is there"
make_model model
(cd work && ok mlp pack ../model)
before=$(store_state work)
ok mlp -C work init
expect_contains "$OUT" "Reinitialised"
expect_eq "$(store_state work)" "$before" "store after a second init"
step "init --json"
mkdir jsoninit
ok mlp -C jsoninit init --json
expect_eq "$(json "$OUT" 'd["new"]')" "true" "init --json created"
expect_eq "$(json "$OUT" 'd["path"]')" "$TMP/jsoninit/.mlpack" "init --json path"
(cd jsoninit && ok mlp init --json)
expect_eq "$(json "$OUT" 'd["new"]')" "false" "init --json created on re-init"

step "discovery from a subfolder"
mkdir -p work/a/b/c
(cd work/a/b/c && ok mlp list --json)
expect_eq "$(json "$OUT" '[a["name"] + ":" + a["version"] for a in d["artifacts"]]')" '["iris:v1"]' \
  "list from a subfolder"
(cd work/a/b/c && ok mlp inspect iris:v1)
expect_contains "$OUT" "iris:v1"

step "-C DIR names the work folder or the .mlpack folder"
mkdir elsewhere
(cd elsewhere && ok mlp -C ../work inspect iris:v1)
(cd elsewhere && ok mlp -C ../work/.mlpack inspect iris:v1)
(cd elsewhere && expect_exit 4 mlp -C . list)
expect_contains "$ERR" "mlpack init"
(cd elsewhere && expect_exit 4 mlp -C ../does-not-exist list)

step "MLPACK_DIR"
(cd elsewhere && MLPACK_DIR="$TMP/work" ok mlp inspect iris:v1)
(cd elsewhere && MLPACK_DIR="$TMP/work/.mlpack" ok mlp inspect iris:v1)
(cd elsewhere && MLPACK_DIR="$TMP/elsewhere" expect_exit 4 mlp list)
expect_contains "$ERR" "mlpack init"
step "init honours MLPACK_DIR (a work folder or the .mlpack folder itself)"
(cd elsewhere && MLPACK_DIR="$TMP/by-env" ok mlp init)
[[ -d by-env/.mlpack/objects ]] || fail "init with MLPACK_DIR did not create by-env/.mlpack"
[[ ! -e elsewhere/.mlpack ]] || fail "init with MLPACK_DIR wrote into the working folder"
(cd elsewhere && MLPACK_DIR="$TMP/by-env/.mlpack" ok mlp init --json)
expect_eq "$(json "$OUT" 'd["new"]')" "false" "re-init through MLPACK_DIR=.../.mlpack"

step "-C wins over MLPACK_DIR"
new_repo other
(cd elsewhere && MLPACK_DIR="$TMP/work" ok mlp -C ../other list --json)
expect_eq "$(json "$OUT" 'len(d["artifacts"])')" "0" "artifacts in the -C repository"

step "commands outside any repository exit 4 and suggest mlpack init"
# $TMP lies under /tmp, which has no .mlpack unless someone made one there.
outside=$(mktemp -d "$TMP/outside.XXXXXX")
probe=$outside
while [[ $probe != / ]]; do
  [[ -d $probe/.mlpack ]] && fail "a stray repository at $probe/.mlpack breaks this test"
  probe=$(dirname "$probe")
done
for cmd in "list" "log iris" "inspect iris:v1" "path iris:v1" "export iris:v1 -o x.mlpack" \
  "import $TMP/nothing.mlpack" "unpack iris:v1 -d out" "gc" "fsck" "tag iris:v1 iris:v2" \
  "pack $TMP/model"; do
  # shellcheck disable=SC2086
  (cd "$outside" && expect_exit 4 mlp $cmd)
  expect_contains "$ERR" "mlpack init"
done
[[ -z $(ls -A "$outside") ]] || fail "a failed command wrote into $outside: $(ls -A "$outside")"

step "--help of every command exits 0 and shows an example"
for cmd in init pack tag list log inspect path export import unpack gc fsck; do
  ok mlp "$cmd" --help
  expect_contains "$OUT" "Example"
  expect_contains "$OUT" "mlpack $cmd"
done
ok mlp --help
expect_contains "$OUT" "Example"
for cmd in init pack tag list log inspect path export import unpack gc fsck; do
  expect_contains "$OUT" "$cmd"
done
ok mlp --version
expect_eq "$(head -n 1 "$OUT")" "mlpack $(sed -n 's/^project(mlpack VERSION \([0-9.]*\).*/\1/p' "$MLPACK_TESTS_DIR/../CMakeLists.txt")" "first line of --version"
expect_contains "$OUT" "libcurl "
expect_contains "$OUT" "libarchive "
expect_contains "$OUT" "OpenSSL "

step "usage errors exit 2"
(cd work && expect_exit 2 mlp list --bogus)
expect_contains "$ERR" "--bogus"
(cd work && expect_exit 2 mlp --bogus list)
expect_contains "$ERR" "--bogus"
(cd work && expect_exit 2 mlp bogus)
expect_contains "$ERR" "bogus"
(cd work && expect_exit 2 mlp)
(cd work && expect_exit 2 mlp inspect)
expect_contains "$ERR" "REF"
(cd work && expect_exit 2 mlp inspect iris:v1 extra)
(cd work && expect_exit 2 mlp unpack iris:v1)
(cd work && expect_exit 2 mlp unpack iris:v1 -d out --role nonsense)
expect_contains "$ERR" "nonsense"
(cd work && expect_exit 2 mlp path iris:v1 --role nonsense)
(cd work && expect_exit 2 mlp list 'Bad/Name')
(cd work && expect_exit 2 mlp log 'Bad Name')
# Usage errors are found before anything is written.
expect_no_path work/out

step "-q silences hints (before or after the command); stdout is unchanged"
new_repo quiet
export XDG_CONFIG_HOME="$TMP/no-keys"
for cmd in "list" "remote list" "key list"; do
  # shellcheck disable=SC2086
  ok mlp -C quiet $cmd
  [[ -s $ERR ]] || fail "'$cmd' in an empty repository gave no hint"
  # shellcheck disable=SC2086
  ok mlp -C quiet $cmd -q
  [[ ! -s $ERR ]] || fail "'$cmd -q' wrote to stderr: $(cat "$ERR")"
  # shellcheck disable=SC2086
  ok mlp -q -C quiet $cmd
  [[ ! -s $ERR ]] || fail "'-q $cmd' wrote to stderr: $(cat "$ERR")"
done
expect_no_path "$TMP/no-keys/mlpack/keys"

#!/usr/bin/env bash
# push / pull / ls-remote through directory remotes: the backend behaviour
# suite (remote_suite.sh) run with a file:///abs/path URL and with a plain
# path, each on its own empty folder.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$MLPACK_TESTS_DIR/cli/remote_suite.sh"

# --- hooks: the remote is the folder $REMOTE_DIR ---------------------------
# Partial uploads are the backend's ".tmp-*" files.
source "$MLPACK_TESTS_DIR/cli/remote_dir_hooks.sh"
remote_partial_uploads() { _remote_tmp_count; }

REMOTE_DIR=$TMP/remote-url
run_remote_suite "file://$REMOTE_DIR"
rm -rf "$REMOTE_DIR"

# A plain path names the same kind of remote; this folder does not exist yet.
REMOTE_DIR=$TMP/remote-path/models
run_remote_suite "$REMOTE_DIR"
# --- progress on stderr ---------------------------------------------------------
step "progress: plain lines, a bar on a terminal, nothing with -q or off a terminal"
new_repo "$TMP/p"
make_model "$TMP/pm" prog v1 "progress"
{ printf 'RAND' && head -c 3M /dev/urandom; } >"$TMP/pm/model.joblib"
expect_exit 0 mlp -C "$TMP/p" pack "$TMP/pm"
expect_exit 0 mlp -C "$TMP/p" remote add origin "$TMP/prog-remote"
expect_exit 0 mlp -C "$TMP/p" --progress plain push prog:v1
# The last line reports the whole transfer.
grep -Eq '^mlpack: push prog:v1: 3\.[0-9] MiB / 3\.[0-9] MiB  100%.* in [0-9]+:[0-9]{2}$' "$ERR" ||
  fail "no final progress line: $(cat "$ERR")"
new_repo "$TMP/p2"
expect_exit 0 mlp -C "$TMP/p2" remote add origin "$TMP/prog-remote"
expect_exit 0 mlp -C "$TMP/p2" -q --progress plain pull --allow-unsigned prog:v1
expect_eq "$(cat "$ERR")" "" "stderr of pull -q --progress plain"
expect_exit 0 mlp -C "$TMP/p2" gc
rm -rf "$TMP/p2"
new_repo "$TMP/p2"
expect_exit 0 mlp -C "$TMP/p2" remote add origin "$TMP/prog-remote"
expect_exit 0 mlp -C "$TMP/p2" pull prog:v1
expect_eq "$(cat "$ERR")" "" "stderr of pull (progress auto, stderr not a terminal)"
# On a terminal (script(1) gives it one): a bar redrawn with carriage returns.
rm -rf "$TMP/p3"
new_repo "$TMP/p3"
expect_exit 0 mlp -C "$TMP/p3" remote add origin "$TMP/prog-remote"
script -qec "$MLPACK -C $TMP/p3 pull prog:v1" /dev/null >"$TMP/tty.out" </dev/null ||
  fail "pull on a terminal failed: $(cat "$TMP/tty.out")"
grep -q $'\r\x1b\[K\[#' "$TMP/tty.out" || fail "no progress bar on a terminal: $(cat -v "$TMP/tty.out")"
grep -q 'pull prog:v1: 3\.[0-9] MiB / 3\.[0-9] MiB  100%' "$TMP/tty.out" || fail "no final bar: $(cat -v "$TMP/tty.out")"
expect_exit 2 mlp -C "$TMP/p3" --progress fancy pull prog:v1
expect_exit 2 mlp -C "$TMP/p3" pull --jobs 0 prog:v1
expect_exit 2 mlp -C "$TMP/p3" push --jobs 65 prog:v1

echo "remote (file): ok"

#!/usr/bin/env bash
# push / pull / ls-remote through directory remotes: the backend behaviour
# suite (remote_suite.sh) run with a file:///abs/path URL and with a plain
# path, each on its own empty folder.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$MLPACK_TESTS_DIR/cli/remote_suite.sh"

# --- hooks: the remote is the folder $REMOTE_DIR ---------------------------
# Partial uploads are the backend's ".tmp-*" files; ".mlpack-remote.lock" is
# its compare-and-swap lock. Neither is an object.

_remote_find() {
  [[ -d $REMOTE_DIR ]] || return 0
  (cd "$REMOTE_DIR" && find . -type f ! -name '.tmp-*' ! -name .mlpack-remote.lock -printf '%P\n' | sort)
}
remote_keys() { _remote_find; }
remote_cat() { cat "$REMOTE_DIR/$1" 2>/dev/null; }
remote_put() {
  mkdir -p "$(dirname "$REMOTE_DIR/$1")"
  cp "$2" "$REMOTE_DIR/$1.hook-tmp"
  mv -f "$REMOTE_DIR/$1.hook-tmp" "$REMOTE_DIR/$1"
}
remote_delete() { rm -f "$REMOTE_DIR/$1"; }
# Inode, size and content: a rewrite with the same bytes shows too (every
# write of the backend renames a new file into place).
remote_state() {
  local key
  _remote_find | while IFS= read -r key; do
    printf '%s %s %s\n' "$(stat -c '%i/%s' "$REMOTE_DIR/$key")" \
      "$(sha256sum <"$REMOTE_DIR/$key" | cut -c1-64)" "$key"
  done
}
remote_partial_uploads() {
  if [[ -d $REMOTE_DIR ]]; then find "$REMOTE_DIR" -type f -name '.tmp-*' | wc -l; else echo 0; fi
}

REMOTE_DIR=$TMP/remote-url
run_remote_suite "file://$REMOTE_DIR"
rm -rf "$REMOTE_DIR"

# A plain path names the same kind of remote; this folder does not exist yet.
REMOTE_DIR=$TMP/remote-path/models
run_remote_suite "$REMOTE_DIR"
echo "remote (file): ok"

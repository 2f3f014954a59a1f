# remote_suite.sh hooks for remotes whose objects are files under a folder
# the test can read: a directory remote, or the folder a WebDAV server
# serves. Set REMOTE_DIR to the remote's folder. Temp files of in-flight or
# abandoned writes (".tmp-*") and the directory backend's compare-and-swap
# lock are not objects.

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
# Inode, size and content: a rewrite with the same bytes shows too (both the
# directory backend and nginx rename every write into place).
remote_state() {
  local key
  _remote_find | while IFS= read -r key; do
    printf '%s %s %s\n' "$(stat -c '%i/%s' "$REMOTE_DIR/$key")" \
      "$(sha256sum <"$REMOTE_DIR/$key" | cut -c1-64)" "$key"
  done
}
# The ".tmp-*" files partial writes left behind.
_remote_tmp_count() {
  if [[ -d $REMOTE_DIR ]]; then find "$REMOTE_DIR" -type f -name '.tmp-*' | wc -l; else echo 0; fi
}

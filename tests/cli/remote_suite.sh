# The behaviour suite for push, pull and ls-remote, written once for every
# kind of remote (issue 5, item 6; DESIGN §3 remote layout, §4 exit codes).
# Source it after lib.sh, define the hooks below, then call
#   run_remote_suite URL
# once per URL, each time with an empty remote behind it.
#
# Hooks: how the test reads and tampers with the remote behind mlpack's back.
# Keys are relative to the remote's prefix (tags/iris/v1, blobs/sha256/<hex>).
#   remote_keys             every object key, one a line, sorted; never a
#                           partial upload or a backend's own bookkeeping
#   remote_cat KEY          the object's bytes on stdout; non-zero if missing
#   remote_put KEY FILE     creates or replaces the object with FILE's bytes
#   remote_delete KEY       deletes the object
# Optional hooks (a default is used when the caller defines none):
#   remote_corrupt KEY      flips one byte in the middle of the object
#                           (default: remote_cat, flip, remote_put)
#   remote_state            a listing that changes whenever anything is
#                           written, even the same bytes again; last field of
#                           each line is the key (default: "<sha256> <key>")
#   remote_partial_uploads  how many partial uploads killed pushes left
#                           behind, when the backend can tell (default: 0)
#
# Options for `remote add` (an endpoint, say): the array RS_REMOTE_OPTIONS.
#
# Every check is written so that it can fail: exact sets of keys, exact
# counts and exit codes, and store listings compared before and after.

# Delays for the kill -9 checks, as fractions of a calibrated full run.
RS_FRACTIONS=(0.3 0.5 0.15 0.7 0.4 0.6 0.85 0.05 0.25 0.45)
RS_RUN=0
RS_REMOTE_OPTIONS=()

# --- helpers -----------------------------------------------------------------

_rs_default_hooks() {
  local hook
  for hook in remote_keys remote_cat remote_put remote_delete; do
    declare -F "$hook" >/dev/null || fail "remote_suite: the caller must define $hook"
  done
  declare -F remote_corrupt >/dev/null || remote_corrupt() {
    local key=$1 f="$RS_W/.corrupt"
    remote_cat "$key" >"$f" || fail "remote_corrupt: cannot read $key"
    "$PY" - "$f" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x01
open(p, "wb").write(b)
EOF
    remote_put "$key" "$f"
  }
  declare -F remote_state >/dev/null || remote_state() {
    local key
    remote_keys | while IFS= read -r key; do
      printf '%s %s\n' "$(remote_cat "$key" | sha256sum | cut -c1-64)" "$key"
    done
  }
  declare -F remote_partial_uploads >/dev/null || remote_partial_uploads() { echo 0; }
  return 0
}

# Repositories of the suite. The laptop packs and pushes, the server pulls;
# both (and the rival) share the script's XDG_CONFIG_HOME, so they trust the
# same signing key. The stranger has its own XDG_CONFIG_HOME: it trusts no key.
rs_laptop() { mlp -C "$RS_W/laptop" "$@"; }
rs_server() { mlp -C "$RS_W/server" "$@"; }
rs_rival() { mlp -C "$RS_W/rival" "$@"; }
rs_stranger() { XDG_CONFIG_HOME="$RS_W/xdg-stranger" "$MLPACK" -C "$RS_W/stranger" "$@"; }

# rs_pack REPO ARGS... : `pack ARGS --json` in REPO; sets RS_DIGEST (hex).
rs_pack() {
  local repo=$1
  shift
  expect_exit 0 mlp -C "$repo" pack "$@" --json
  RS_DIGEST=$(digest_of "$OUT")
}

# rs_files REPO REF : "sha256 size path" per file of REF, in manifest order.
# (Its own output files: it runs inside process substitutions.)
rs_files() {
  local f
  f=$(mktemp "$RS_W/.files.XXXXXX")
  mlp -C "$1" inspect "$2" --json >"$f" 2>"$f.err" || fail "inspect $2 in $1: $(cat "$f.err")"
  json "$f" '"\n".join(" ".join([f["sha256"], str(f["size"]), f["path"]]) for f in d["manifest"]["files"])'
  rm -f "$f" "$f.err"
}

# rs_blob_keys REPO REF : the remote keys of REF's blobs, sorted, unique.
rs_blob_keys() { rs_files "$1" "$2" | awk '{print "blobs/sha256/" $1}' | sort -u; }

# rs_blob_of REPO REF PATH : the blob key of one file of REF.
rs_blob_of() {
  local key
  key=$(rs_files "$1" "$2" | awk -v p="$3" '$3 == p {print "blobs/sha256/" $1}')
  [[ -n $key ]] || fail "$2 has no file $3"
  echo "$key"
}

# rs_ref_content KEY : a remote ref's content, one trailing newline allowed.
rs_ref_content() {
  local f="$RS_W/.ref"
  remote_cat "$1" >"$f" || fail "remote object $1 is missing"
  "$PY" - "$f" <<'EOF'
import sys
b = open(sys.argv[1], "rb").read()
if b.endswith(b"\n"):
    b = b[:-1]
if b"\n" in b or b"\r" in b:
    sys.exit("ref has more than one line: %r" % b)
print(b.decode())
EOF
}

# (Not `remote_keys | grep -q`: grep stops reading at the first match, and
# pipefail turns the writer's SIGPIPE into a failure.)
rs_has_key() {
  local keys
  keys=$(remote_keys)
  grep -qxF -- "$1" <<<"$keys"
}
rs_expect_key() { rs_has_key "$1" || fail "the remote lacks $1"; }
rs_expect_no_key() { ! rs_has_key "$1" || fail "the remote has $1, it should not"; }

# rs_save KEY : keeps the object's bytes so rs_restore can put them back.
rs_save() {
  mkdir -p "$RS_W/saved"
  remote_cat "$1" >"$RS_W/saved/${1//\//_}" || fail "cannot read $1 to save it"
}
rs_restore() { remote_put "$1" "$RS_W/saved/${1//\//_}"; }

# rs_hide_blobs REPO REF : saves and deletes every blob of REF on the remote;
# rs_unhide_blobs puts them back.
rs_hide_blobs() {
  RS_HIDDEN=$(rs_blob_keys "$1" "$2")
  local key
  for key in $RS_HIDDEN; do
    rs_save "$key"
    remote_delete "$key"
    rs_expect_no_key "$key"
  done
}
rs_unhide_blobs() {
  local key
  for key in $RS_HIDDEN; do rs_restore "$key"; done
}

# rs_tmp_count REPO : files left in the repository's temp folder.
rs_tmp_count() { find "$1/.mlpack/tmp" -mindepth 1 2>/dev/null | wc -l; }

rs_object_count() { find "$1/.mlpack/objects" -type f | wc -l; }

# rs_unchanged REPO STATE WHAT : the store (store_state) is as it was, and no
# temp file was left behind.
rs_unchanged() {
  [[ $(store_state "$1") == "$2" ]] || fail "$3: the store of $(basename "$1") changed"
  expect_eq "$(rs_tmp_count "$1")" 0 "$3: temp files left in $(basename "$1")/.mlpack/tmp"
}

# rs_listing [ARGS...] : ls-remote --json (and the human table, which must
# agree) from the server, as sorted "V name version hex" and
# "S name stage hex" lines.
rs_listing() {
  expect_exit 0 rs_server ls-remote --json "$@"
  local from_json
  from_json=$(json "$OUT" '"\n".join(sorted(
      [" ".join(["V", v["name"], v["version"], v["digest"]]) for v in d["versions"]] +
      [" ".join(["S", s["name"], s["stage"], s["digest"]]) for s in d["stages"]]))')
  # Digests in the table are short: compare the first 12 hex digits.
  local short_json from_table
  short_json=$(awk 'NF {print $1, $2, $3, substr($4, 1, 19)}' <<<"$from_json")
  expect_exit 0 rs_server ls-remote "$@"
  from_table=$(awk 'NR > 1 && NF {
      if (substr($2, 1, 1) == "@") print "S", $1, substr($2, 2), $3; else print "V", $1, $2, $3 }' \
    "$OUT" | sort)
  expect_eq "$from_table" "$(sort <<<"$short_json")" "ls-remote table vs --json"
  echo "${from_json// sha256:/ }"
}

# rs_new_keys BEFORE AFTER : keys in AFTER that are not in BEFORE.
rs_new_keys() { comm -13 <(echo "$1") <(echo "$2") | sed '/^$/d'; }

# rs_state_of_keys STATE KEYS : the lines of STATE whose key is in KEYS.
rs_state_of_keys() {
  awk 'NR == FNR { want[$0] = 1; next } ($NF in want)' <(echo "$2") <(echo "$1")
}

# rs_run_killed_when CHECK TIMEOUT ARGS... : runs the binary with ARGS in
# the background (directly, so the pid is mlpack's own) and kill -9s it as
# soon as the shell function CHECK succeeds (polled), or after TIMEOUT
# seconds; sets RS_KILL_RC (0: it finished first, 137: killed).
rs_run_killed_when() {
  local check=$1 timeout=$2
  shift 2
  "$MLPACK" "$@" >"$RS_W/.bg.out" 2>"$RS_W/.bg.err" &
  local pid=$! t0=$EPOCHREALTIME
  while kill -0 "$pid" 2>/dev/null &&
    awk -v s="$t0" -v e="$EPOCHREALTIME" -v t="$timeout" 'BEGIN { exit !(e - s < t) }'; do
    if "$check"; then break; fi
    sleep 0.01
  done
  kill -9 "$pid" 2>/dev/null || true
  RS_KILL_RC=0
  wait "$pid" 2>/dev/null || RS_KILL_RC=$?
  [[ $RS_KILL_RC -eq 0 || $RS_KILL_RC -eq 137 ]] ||
    fail "the operation failed by itself (exit $RS_KILL_RC): $(cat "$RS_W/.bg.err")"
}

# rs_run_killed DELAY ARGS... : the kill comes after DELAY seconds.
rs_run_killed() {
  local delay=$1
  shift
  rs_run_killed_when false "$delay" "$@"
}

# rs_seconds CMD... : runs CMD (which must succeed) and prints its wall time.
rs_seconds() {
  local t0=$EPOCHREALTIME
  "$@" >/dev/null 2>&1 || fail "calibration run failed: $*"
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}

rs_delay() { awk -v t="$1" -v f="$2" 'BEGIN { d = t * f; if (d < 0.005) d = 0.005; printf "%.3f", d }'; }

# rs_big_sources : two 200 MiB model folders of random bytes (two files of
# 100 MiB each, so a kill can land between them), made once per script.
rs_big_sources() {
  RS_BIG=$TMP/.remote-suite-big
  if [[ -d $RS_BIG ]]; then return 0; fi
  local v
  for v in 1 2; do
    mkdir -p "$RS_BIG/v$v/weights"
    { printf 'RAND' && head -c 100M /dev/urandom; } >"$RS_BIG/v$v/weights/a.bin"
    { printf 'RAND' && head -c 100M /dev/urandom; } >"$RS_BIG/v$v/weights/b.bin"
  done
}

# --- the checks ----------------------------------------------------------------

rs_setup() {
  RS_URL=$1
  RS_RUN=$((RS_RUN + 1))
  RS_W=$TMP/remote-suite-$RS_RUN
  mkdir -p "$RS_W/xdg-stranger"
  local r
  for r in laptop server rival stranger lonely; do new_repo "$RS_W/$r"; done
  for r in laptop server rival stranger; do
    expect_exit 0 mlp -C "$RS_W/$r" remote add origin "$RS_URL" "${RS_REMOTE_OPTIONS[@]}"
  done
  [[ -z $(remote_keys) ]] || fail "run_remote_suite needs an empty remote: $RS_URL"
}

rs_check_round_trip() {
  step "remote suite ($RS_URL): round trip"
  make_model "$RS_W/m1" iris v1 one
  rs_pack "$RS_W/laptop" "$RS_W/m1"
  D1=$RS_DIGEST
  local nfiles nbytes
  nfiles=$(rs_files "$RS_W/laptop" iris:v1 | awk '{print $1}' | sort -u | wc -l)
  nbytes=$(rs_files "$RS_W/laptop" iris:v1 | awk '{s += $2} END {print s}')
  [[ $nfiles -ge 3 ]] || fail "the test model should have at least 3 files, has $nfiles"

  expect_exit 0 rs_laptop push iris:v1 --json
  expect_eq "$(json "$OUT" 'd["remote"]')" origin "push --json remote"
  expect_eq "$(json "$OUT" 'len(d["pushed"])')" 1 "push --json entries"
  expect_eq "$(json "$OUT" '[d["pushed"][0][k] for k in ("ref", "name", "version", "digest", "new", "stage")]')" \
    "[\"iris:v1\", \"iris\", \"v1\", \"sha256:$D1\", true, null]" "push --json"
  expect_eq "$(json "$OUT" 'd["pushed"][0]["blobs_uploaded"]')" "$nfiles" "blobs uploaded"
  expect_eq "$(json "$OUT" 'd["pushed"][0]["bytes_uploaded"]')" "$nbytes" "bytes uploaded"
  expect_eq "$(json "$OUT" 'd["pushed"][0]["blobs_present"]')" 0 "blobs already there"

  local before
  before=$(store_state "$RS_W/server")
  expect_exit 0 rs_server pull iris:v1 --json
  expect_eq "$(json "$OUT" '[d["pulled"][0][k] for k in ("ref", "name", "version", "digest", "new", "stage")]')" \
    "[\"iris:v1\", \"iris\", \"v1\", \"sha256:$D1\", true, null]" "pull --json"
  expect_eq "$(json "$OUT" 'd["pulled"][0]["blobs_fetched"]')" "$nfiles" "blobs fetched"
  expect_eq "$(json "$OUT" 'd["pulled"][0]["bytes_fetched"]')" "$nbytes" "bytes fetched"
  [[ $(store_state "$RS_W/server") != "$before" ]] || fail "pull wrote nothing"
  expect_exit 0 rs_server verify iris:v1
  expect_exit 0 rs_server inspect iris:v1 --json
  expect_eq "$(digest_of "$OUT")" "$D1" "the server's iris:v1"
  expect_eq "$(rs_files "$RS_W/server" iris:v1)" "$(rs_files "$RS_W/laptop" iris:v1)" "files of iris:v1"

  expect_exit 0 rs_laptop unpack iris:v1 -d "$RS_W/out-laptop"
  expect_exit 0 rs_server unpack iris:v1 -d "$RS_W/out-server"
  diff -r "$RS_W/out-laptop" "$RS_W/out-server" >/dev/null || fail "unpacked trees differ"
  local f
  for f in model.joblib preprocessing.yaml metrics.json; do
    cmp -s "$RS_W/m1/$f" "$RS_W/out-server/$f" || fail "$f is not byte-identical after the round trip"
  done

  # Pulling what is already here fetches nothing and changes nothing.
  before=$(store_state "$RS_W/server")
  expect_exit 0 rs_server pull iris:v1 --json
  expect_eq "$(json "$OUT" '[d["pulled"][0][k] for k in ("new", "blobs_fetched", "bytes_fetched")]')" \
    "[false, 0, 0]" "pull of a version already here"
  rs_unchanged "$RS_W/server" "$before" "pull of a version already here"

  expect_eq "$(rs_listing)" "V iris v1 $D1" "ls-remote after the first push"
  expect_exit 0 rs_server ls-remote --json
  expect_eq "$(json "$OUT" '[d["remote"], d["url"]]')" \
    "$(json <(rs_server remote list --json) '[[r["name"], r["url"]] for r in d["remotes"]][0]')" \
    "ls-remote --json remote and url"
  expect_eq "$(rs_listing nosuchmodel)" "" "ls-remote of a model that is not there"
}

rs_check_layout() {
  step "remote suite ($RS_URL): layout (DESIGN §3)"
  local want
  want=$({
    echo mlpack-remote.yaml
    rs_blob_keys "$RS_W/laptop" iris:v1
    echo "manifests/sha256/$D1"
    echo "manifests/sha256/$D1.minisig"
    echo tags/iris/v1
  } | sort)
  expect_eq "$(remote_keys)" "$want" "keys on the remote after pushing iris:v1"

  remote_cat mlpack-remote.yaml >"$RS_W/layout.yaml"
  grep -Eq '^layout: [0-9]+$' "$RS_W/layout.yaml" || fail "mlpack-remote.yaml names no layout version"
  expect_eq "$(rs_ref_content tags/iris/v1)" "sha256:$D1" "content of tags/iris/v1"

  remote_cat "manifests/sha256/$D1" >"$RS_W/manifest.yaml"
  expect_eq "$(sha256 "$RS_W/manifest.yaml")" "$D1" "sha256 of the remote manifest"
  cmp -s "$RS_W/manifest.yaml" "$RS_W/laptop/.mlpack/objects/sha256/${D1:0:2}/$D1" ||
    fail "the remote manifest differs from the laptop's"
  local key
  while IFS= read -r key; do
    expect_eq "$(remote_cat "$key" | sha256sum | cut -c1-64)" "${key##*/}" "sha256 of $key"
  done < <(rs_blob_keys "$RS_W/laptop" iris:v1)

  remote_cat "manifests/sha256/$D1.minisig" >"$RS_W/manifest.yaml.minisig"
  expect_contains "$RS_W/manifest.yaml.minisig" "artifact:iris:v1"
  expect_contains "$RS_W/manifest.yaml.minisig" "digest:sha256:$D1"
  if command -v minisign >/dev/null; then
    # Anyone with minisign and the public key can check what is on the remote.
    expect_exit 0 rs_laptop key list --json
    local pub
    pub=$(json "$OUT" '[k["file"] for k in d["keys"] if k["default"]][0]')
    minisign -Vq -m "$RS_W/manifest.yaml" -x "$RS_W/manifest.yaml.minisig" -p "$pub" ||
      fail "minisign rejects the remote signature"
  fi
}

rs_check_dedup() {
  step "remote suite ($RS_URL): dedup"
  cp -r "$RS_W/m1" "$RS_W/m2"
  echo '{"accuracy": 0.95, "loss": 0.25}' >"$RS_W/m2/metrics.json"
  rs_pack "$RS_W/laptop" "$RS_W/m2" -t iris:v2
  D2=$RS_DIGEST
  local new_blobs nfiles
  new_blobs=$(comm -13 <(rs_blob_keys "$RS_W/laptop" iris:v1) <(rs_blob_keys "$RS_W/laptop" iris:v2))
  expect_eq "$new_blobs" "blobs/sha256/$(sha256 "$RS_W/m2/metrics.json")" "v2's only new blob"
  nfiles=$(rs_blob_keys "$RS_W/laptop" iris:v2 | wc -l)

  local keys_before state_before
  keys_before=$(remote_keys)
  state_before=$(remote_state)
  expect_exit 0 rs_laptop push iris:v2 --json
  expect_eq "$(json "$OUT" '[d["pushed"][0][k] for k in ("new", "blobs_uploaded", "bytes_uploaded", "blobs_present")]')" \
    "[true, 1, $(stat -c %s "$RS_W/m2/metrics.json"), $((nfiles - 1))]" "push --json of iris:v2"
  local want
  want=$(printf '%s\n' "$new_blobs" "manifests/sha256/$D2" "manifests/sha256/$D2.minisig" tags/iris/v2 | sort)
  expect_eq "$(rs_new_keys "$keys_before" "$(remote_keys)")" "$want" "keys the push of iris:v2 added"
  expect_eq "$(comm -23 <(echo "$keys_before") <(remote_keys) | sed '/^$/d')" "" "keys the push removed"
  # What was there is left alone: not even rewritten with the same bytes.
  expect_eq "$(rs_state_of_keys "$(remote_state)" "$keys_before")" "$state_before" \
    "objects that were on the remote before pushing iris:v2"
}

rs_check_push_again_and_conflict() {
  step "remote suite ($RS_URL): pushing again is a no-op; another digest is a conflict"
  local state
  state=$(remote_state)
  expect_exit 0 rs_laptop push iris:v1 iris:v2 --json
  expect_eq "$(json "$OUT" '[[p["new"], p["blobs_uploaded"], p["bytes_uploaded"], p["stage"]] for p in d["pushed"]]')" \
    "[[false, 0, 0, null], [false, 0, 0, null]]" "push --json of versions already there"
  expect_exit 0 rs_laptop push iris:v1
  expect_contains "$OUT" "up to date"
  expect_eq "$(remote_state)" "$state" "the remote after pushing versions it has"

  # The rival packs the same NAME:VERSION with other content.
  make_model "$RS_W/mr" iris v1 rival
  rs_pack "$RS_W/rival" "$RS_W/mr"
  local dr=$RS_DIGEST rival_model
  expect_ne "$dr" "$D1" "the rival's iris:v1"
  rival_model=$(rs_blob_of "$RS_W/rival" iris:v1 model.joblib)
  local rival_store
  rival_store=$(store_state "$RS_W/rival")
  expect_exit 5 rs_rival push iris:v1
  expect_contains "$ERR" "iris:v1"
  expect_eq "$(remote_state)" "$state" "the remote after a conflicting push"
  rs_expect_no_key "$rival_model"
  expect_eq "$(rs_ref_content tags/iris/v1)" "sha256:$D1" "tags/iris/v1 after a conflicting push"
  # And the other way round: pulling a version that exists here with other content.
  expect_exit 5 rs_rival pull iris:v1
  rs_unchanged "$RS_W/rival" "$rival_store" "conflicting push and pull"
}

rs_check_local_corruption() {
  step "remote suite ($RS_URL): a corrupt local object is never pushed"
  make_model "$RS_W/m4" iris v4 four
  rs_pack "$RS_W/laptop" "$RS_W/m4"
  local key hex obj state
  key=$(rs_blob_of "$RS_W/laptop" iris:v4 model.joblib)
  hex=${key##*/}
  obj=$RS_W/laptop/.mlpack/objects/sha256/${hex:0:2}/$hex
  expect_file "$obj"
  cp -p "$obj" "$RS_W/object.saved"
  chmod u+w "$obj"
  "$PY" -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[-1] ^= 1; open(p, "wb").write(b)' "$obj"
  state=$(remote_state)
  expect_exit 3 rs_laptop push iris:v4
  expect_eq "$(remote_state)" "$state" "the remote after pushing a corrupt local object"
  cp -p "$RS_W/object.saved" "$obj"
}

rs_check_stages() {
  step "remote suite ($RS_URL): stages"
  expect_exit 0 rs_laptop promote iris:v1 production
  local keys state
  keys=$(remote_keys)
  expect_exit 0 rs_laptop push iris@production --json
  expect_eq "$(json "$OUT" '[d["pushed"][0][k] for k in ("ref", "version", "digest", "new", "blobs_uploaded", "stage")]')" \
    "[\"iris@production\", \"v1\", \"sha256:$D1\", false, 0, \"production\"]" "push --json of iris@production"
  expect_eq "$(rs_new_keys "$keys" "$(remote_keys)")" stages/iris/production "keys a stage push added"
  expect_eq "$(rs_ref_content stages/iris/production)" "sha256:$D1" "content of stages/iris/production"

  # The remote stage already points there: nothing is written.
  state=$(remote_state)
  expect_exit 0 rs_laptop push iris@production --json
  expect_eq "$(json "$OUT" '[d["pushed"][0][k] for k in ("new", "blobs_uploaded", "stage")]')" \
    "[false, 0, null]" "push --json of a stage already in place"
  expect_eq "$(remote_state)" "$state" "the remote after pushing a stage already in place"

  # Moving it.
  expect_exit 0 rs_laptop promote iris:v2 production
  expect_exit 0 rs_laptop push iris@production --json
  expect_eq "$(json "$OUT" 'd["pushed"][0]["stage"]')" production "stage moved"
  expect_eq "$(rs_ref_content stages/iris/production)" "sha256:$D2" "stages/iris/production after the move"

  # A stage whose version is not on the remote yet takes the version along.
  make_model "$RS_W/m3" iris v3 three
  echo '{"accuracy": 0.97, "loss": 0.2}' >"$RS_W/m3/metrics.json"
  echo '  - {op: clip, columns: [sepal_width]}' >>"$RS_W/m3/preprocessing.yaml"
  rs_pack "$RS_W/laptop" "$RS_W/m3"
  D3=$RS_DIGEST
  expect_exit 0 rs_laptop promote iris:v3 staging
  keys=$(remote_keys)
  expect_exit 0 rs_laptop push iris@staging --json
  expect_eq "$(json "$OUT" '[d["pushed"][0][k] for k in ("version", "digest", "new", "stage")]')" \
    "[\"v3\", \"sha256:$D3\", true, \"staging\"]" "push --json of iris@staging"
  local want
  want=$({
    comm -13 <(rs_blob_keys "$RS_W/laptop" iris:v2) <(rs_blob_keys "$RS_W/laptop" iris:v3)
    printf '%s\n' "manifests/sha256/$D3" "manifests/sha256/$D3.minisig" tags/iris/v3 stages/iris/staging
  } | sort)
  expect_eq "$(rs_new_keys "$keys" "$(remote_keys)")" "$want" "keys the push of iris@staging added"
  expect_eq "$(rs_listing iris)" "$(printf '%s\n' "S iris production $D2" "S iris staging $D3" \
    "V iris v1 $D1" "V iris v2 $D2" "V iris v3 $D3" | sort)" "ls-remote iris"

  # Pulling a stage brings its version and a local stage with its history.
  # (The server has only iris:v1 so far.)
  expect_exit 0 rs_server pull iris@production --json
  expect_eq "$(json "$OUT" '[d["pulled"][0][k] for k in ("ref", "name", "version", "digest", "new", "stage")]')" \
    "[\"iris@production\", \"iris\", \"v2\", \"sha256:$D2\", true, \"production\"]" "pull --json of iris@production"
  expect_exit 0 rs_server verify iris:v2
  expect_exit 0 rs_server inspect iris@production --json
  expect_eq "$(digest_of "$OUT")" "$D2" "the server's iris@production"
  expect_exit 0 rs_server history iris@production --json
  expect_eq "$(json "$OUT" '[[m["to"]["version"], m["to"]["digest"], m["reason"]] for m in d["moves"]]')" \
    "[[\"v2\", \"sha256:$D2\", \"pulled from origin\"]]" "history of the pulled stage"
  # Pulling it again records no new move.
  local before
  before=$(store_state "$RS_W/server")
  expect_exit 0 rs_server pull iris@production
  rs_unchanged "$RS_W/server" "$before" "pulling a stage already in place"
  expect_exit 0 rs_server history iris@production --json
  expect_eq "$(json "$OUT" 'len(d["moves"])')" 1 "moves after pulling the stage again"

  # The remote stage moves back; pulling it moves the local one, on record.
  expect_exit 0 rs_laptop promote iris:v1 production
  expect_exit 0 rs_laptop push iris@production
  expect_exit 0 rs_server pull iris@production --json
  expect_eq "$(json "$OUT" '[d["pulled"][0][k] for k in ("version", "new", "blobs_fetched", "stage")]')" \
    '["v1", false, 0, "production"]' "pull --json of a stage that moved to a version already here"
  expect_exit 0 rs_server history iris@production --json
  expect_eq "$(json "$OUT" 'd["current"]')" "sha256:$D1" "the server's iris@production after it moved"
  expect_eq "$(json "$OUT" 'sorted([m["to"]["version"], m["reason"]] for m in d["moves"])')" \
    '[["v1", "pulled from origin"], ["v2", "pulled from origin"]]' "history after the stage moved"
  expect_exit 0 rs_laptop promote iris:v2 production
  expect_exit 0 rs_laptop push iris@production

  # A stage moved by someone else since is never silently undone: a second
  # laptop that saw production at v2 cannot push its own move after the first
  # laptop moved it to v3, until it pulls what is there.
  local second=$RS_W/second
  new_repo "$second"
  expect_exit 0 mlp -C "$second" remote add origin "$RS_URL" "${RS_REMOTE_OPTIONS[@]}"
  expect_exit 0 mlp -C "$second" pull iris@production iris:v1
  expect_exit 0 rs_laptop promote iris:v3 production
  expect_exit 0 rs_laptop push iris@production
  expect_exit 0 mlp -C "$second" promote iris:v1 production
  state=$(remote_state)
  expect_exit 5 mlp -C "$second" push iris@production
  expect_contains "$ERR" "someone else moved it"
  expect_eq "$(remote_state)" "$state" "the remote after a push over someone else's stage move"
  expect_exit 0 mlp -C "$second" pull iris@production
  expect_exit 0 mlp -C "$second" promote iris:v2 production
  expect_exit 0 mlp -C "$second" push iris@production
  expect_eq "$(rs_ref_content stages/iris/production)" "sha256:$D2" "stages/iris/production after pull, promote, push"
  expect_exit 0 rs_laptop promote iris:v2 production
}

rs_check_namespaces() {
  step "remote suite ($RS_URL): namespaced names"
  rs_pack "$RS_W/laptop" "$RS_W/m1" -t team/iris:v1
  local dt=$RS_DIGEST keys
  expect_exit 0 rs_laptop promote team/iris:v1 prod
  keys=$(remote_keys)
  expect_exit 0 rs_laptop push team/iris@prod --json
  expect_eq "$(json "$OUT" '[d["pushed"][0][k] for k in ("name", "version", "new", "blobs_uploaded", "stage")]')" \
    '["team/iris", "v1", true, 0, "prod"]' "push --json of team/iris@prod"
  expect_eq "$(rs_new_keys "$keys" "$(remote_keys)")" "$(printf '%s\n' "manifests/sha256/$dt" \
    "manifests/sha256/$dt.minisig" stages/team/iris/prod tags/team/iris/v1 | sort)" "keys of team/iris"
  expect_eq "$(rs_listing team/iris)" "$(printf '%s\n' "S team/iris prod $dt" "V team/iris v1 $dt")" \
    "ls-remote team/iris"
  [[ $(rs_listing iris) != *team/* ]] || fail "ls-remote iris lists team/iris"
  expect_exit 0 rs_server pull team/iris@prod
  expect_exit 0 rs_server verify team/iris:v1
  expect_exit 0 rs_server inspect team/iris@prod --json
  expect_eq "$(digest_of "$OUT")" "$dt" "the server's team/iris@prod"

  # A name cannot also be a namespace: the clash is a conflict, found before
  # anything is uploaded, either way round.
  make_model "$RS_W/mns" ns inner "namespace clash"
  rs_pack "$RS_W/rival" "$RS_W/mns" -t team:iris
  local state
  state=$(remote_state)
  expect_exit 5 rs_rival push team:iris
  expect_contains "$ERR" "namespace"
  expect_eq "$(remote_state)" "$state" "the remote after a clashing push of team:iris"
  rs_pack "$RS_W/rival" "$RS_W/mns" -t ns:inner
  expect_exit 0 rs_rival push ns:inner
  make_model "$RS_W/mns2" ns inner "namespace clash 2"
  rs_pack "$RS_W/laptop" "$RS_W/mns2" -t ns/inner:v1
  state=$(remote_state)
  expect_exit 5 rs_laptop push ns/inner:v1
  expect_contains "$ERR" "namespace"
  expect_eq "$(remote_state)" "$state" "the remote after a clashing push of ns/inner:v1"

  # Pull by a digest's first 12+ hex digits; unknown or ambiguous prefixes.
  expect_exit 0 rs_server pull "sha256:${dt:0:12}" --json
  expect_eq "$(json "$OUT" '[d["pulled"][0][k] for k in ("digest", "new")]')" "[\"sha256:$dt\", false]" \
    "pull by a digest prefix"
  expect_exit 4 rs_server pull sha256:000000000000
}

rs_check_missing() {
  step "remote suite ($RS_URL): missing objects, versions and remotes (exit 4)"
  local srv=$RS_W/server before key
  before=$(store_state "$srv")
  # iris:v3 has three blobs the server lacks; the one fetched last is gone.
  key=$(rs_blob_of "$RS_W/laptop" iris:v3 preprocessing.yaml)
  rs_save "$key"
  remote_delete "$key"
  rs_expect_no_key "$key"
  expect_exit 4 rs_server pull iris:v3
  rs_unchanged "$srv" "$before" "pull with a blob missing on the remote"
  expect_exit 4 rs_server pull iris@staging
  rs_unchanged "$srv" "$before" "pull of a stage with a blob missing"
  rs_restore "$key"

  key=manifests/sha256/$D3
  rs_save "$key"
  remote_delete "$key"
  expect_exit 4 rs_server pull iris:v3
  rs_unchanged "$srv" "$before" "pull with the manifest missing on the remote"
  rs_restore "$key"

  local ref
  for ref in iris:v99 iris@nostage ghost:v1 "sha256:$(printf '0%.0s' {1..64})"; do
    expect_exit 4 rs_server pull "$ref"
  done
  expect_exit 4 rs_laptop push iris:v99
  expect_exit 2 rs_laptop push "sha256:$D1"
  # An unknown ref among several: nothing is sent, not even the good ones.
  make_model "$RS_W/mtypo" typo v1 "typo"
  rs_pack "$RS_W/laptop" "$RS_W/mtypo"
  local typo_state
  typo_state=$(remote_state)
  expect_exit 4 rs_laptop push typo:v1 iris:v99
  expect_eq "$(remote_state)" "$typo_state" "the remote after a push with an unknown ref"
  # Both repositories have iris:v1: what is missing is the remote.
  expect_exit 0 rs_laptop export iris:v1 -o "$RS_W/iris-v1.mlpack"
  expect_exit 0 mlp -C "$RS_W/lonely" import "$RS_W/iris-v1.mlpack"
  for ref in push pull ls-remote; do
    local args=(iris:v1)
    [[ $ref != ls-remote ]] || args=()
    expect_exit 4 rs_laptop "$ref" -r nope "${args[@]}"
    expect_contains "$ERR" nope
    expect_exit 4 mlp -C "$RS_W/lonely" "$ref" "${args[@]}"
    expect_contains "$ERR" remote
  done
  rs_unchanged "$srv" "$before" "pulls of what is not there"

  # Which remote: -r, else origin, else the only one; two others is a usage error.
  local lonely=$RS_W/lonely
  expect_exit 0 mlp -C "$lonely" remote add backup "$RS_URL" "${RS_REMOTE_OPTIONS[@]}"
  expect_exit 0 mlp -C "$lonely" ls-remote --json
  expect_eq "$(json "$OUT" '[d["remote"], len(d["versions"]) > 0]')" '["backup", true]' "the only remote"
  expect_exit 0 mlp -C "$lonely" remote add elsewhere "$RS_W/no-such-remote"
  expect_exit 2 mlp -C "$lonely" push iris:v1
  expect_exit 2 mlp -C "$lonely" pull iris:v2
  expect_exit 0 mlp -C "$lonely" pull -r backup iris:v2
  expect_exit 0 mlp -C "$lonely" remote add origin "$RS_URL" "${RS_REMOTE_OPTIONS[@]}"
  expect_exit 0 mlp -C "$lonely" pull iris:v3 --json
  expect_eq "$(json "$OUT" 'd["remote"]')" origin "the remote named origin"
  [[ ! -e $RS_W/no-such-remote ]] || fail "a remote that was not chosen was written to"
}

rs_check_corrupt() {
  step "remote suite ($RS_URL): corrupt objects on the remote (exit 3)"
  local srv=$RS_W/server before key
  before=$(store_state "$srv")

  key=$(rs_blob_of "$RS_W/laptop" iris:v3 model.joblib)
  rs_save "$key"
  remote_corrupt "$key"
  [[ $(remote_cat "$key" | sha256sum | cut -c1-64) != "${key##*/}" ]] || fail "remote_corrupt changed nothing"
  expect_exit 3 rs_server pull iris:v3
  rs_unchanged "$srv" "$before" "pull of a flipped blob"
  # Cut short, and one byte too many.
  head -c -1 "$RS_W/saved/${key//\//_}" >"$RS_W/short"
  remote_put "$key" "$RS_W/short"
  expect_exit 3 rs_server pull iris:v3
  rs_unchanged "$srv" "$before" "pull of a truncated blob"
  { cat "$RS_W/saved/${key//\//_}"; printf x; } >"$RS_W/long"
  remote_put "$key" "$RS_W/long"
  expect_exit 3 rs_server pull iris:v3
  rs_unchanged "$srv" "$before" "pull of a blob that is too long"
  rs_restore "$key"

  key=manifests/sha256/$D3
  rs_save "$key"
  remote_corrupt "$key"
  expect_exit 3 rs_server pull iris:v3
  rs_unchanged "$srv" "$before" "pull of a corrupt manifest"
  # The manifest's digest is checked whatever the signature policy: the
  # stranger, who trusts no key, takes the signature on trust here.
  local st_before
  st_before=$(store_state "$RS_W/stranger")
  expect_exit_warned 3 rs_stranger pull --allow-unsigned iris:v3
  rs_unchanged "$RS_W/stranger" "$st_before" "pull --allow-unsigned of a corrupt manifest"
  rs_restore "$key"

  key=tags/iris/v3
  rs_save "$key"
  echo "garbage, not a digest" >"$RS_W/garbage"
  remote_put "$key" "$RS_W/garbage"
  expect_exit 3 rs_server pull iris:v3
  rs_unchanged "$srv" "$before" "pull through a garbage tag"
  rs_restore "$key"

  key=manifests/sha256/$D3.minisig
  rs_save "$key"
  remote_corrupt "$key"
  expect_exit 3 rs_server pull iris:v3
  rs_unchanged "$srv" "$before" "pull with a corrupt signature"
  # A valid signature, of another artifact.
  remote_cat "manifests/sha256/$D1.minisig" >"$RS_W/other.minisig"
  remote_put "$key" "$RS_W/other.minisig"
  expect_exit 3 rs_server pull iris:v3
  rs_unchanged "$srv" "$before" "pull with another artifact's signature"
  # Stripped: an unsigned artifact is refused.
  remote_delete "$key"
  expect_exit 3 rs_server pull iris:v3
  rs_unchanged "$srv" "$before" "pull with the signature stripped"
  rs_restore "$key"

  # Every object is back as it was: the pull works now.
  expect_exit 0 rs_server pull iris:v3
  expect_exit 0 rs_server verify iris:v3
  expect_eq "$(rs_tmp_count "$srv")" 0 "temp files after the pull of iris:v3"
}

rs_check_signatures() {
  step "remote suite ($RS_URL): signatures and trust"
  local st=$RS_W/stranger before
  before=$(store_state "$st")
  # With its blobs gone, a pull that fetched any blob before checking the
  # signature would fail with 4 instead of 3.
  rs_hide_blobs "$RS_W/laptop" iris:v1
  expect_exit 3 rs_stranger pull iris:v1
  expect_contains "$ERR" "trust"
  expect_eq "$(rs_object_count "$st")" 0 "objects in the untrusting repository"
  rs_unchanged "$st" "$before" "pull by a repository that does not trust the key"
  rs_unhide_blobs
  expect_exit 3 rs_stranger pull iris:v1
  rs_unchanged "$st" "$before" "pull by a repository that does not trust the key"

  expect_exit 0 rs_stranger pull --allow-unsigned iris:v1 --json
  expect_eq "$(json "$OUT" 'd["pulled"][0]["digest"]')" "sha256:$D1" "digest pulled with --allow-unsigned"
  grep -q '^mlpack: warning: .*allow-unsigned' "$ERR" || {
    cat "$ERR" >&2
    fail "--allow-unsigned accepted an untrusted artifact without a warning"
  }
  expect_exit 0 rs_stranger verify --allow-unsigned iris:v1

  # An unsigned artifact travels, but is refused where it lands.
  make_model "$RS_W/mu" plain v1 unsigned
  rs_pack "$RS_W/laptop" "$RS_W/mu" --no-sign
  local du=$RS_DIGEST
  expect_exit 0 rs_laptop push plain:v1
  rs_expect_key "manifests/sha256/$du"
  rs_expect_no_key "manifests/sha256/$du.minisig"
  local srv=$RS_W/server
  before=$(store_state "$srv")
  rs_hide_blobs "$RS_W/laptop" plain:v1
  expect_exit 3 rs_server pull plain:v1
  expect_contains "$ERR" "unsigned"
  rs_unchanged "$srv" "$before" "pull of an unsigned artifact"
  rs_unhide_blobs
  expect_exit 3 rs_server pull plain:v1
  rs_unchanged "$srv" "$before" "pull of an unsigned artifact"
  expect_exit 0 rs_server pull --allow-unsigned plain:v1
  grep -q '^mlpack: warning: .*unsigned' "$ERR" || fail "no warning for an unsigned pull"
  expect_exit 0 rs_server inspect plain:v1 --json
  expect_eq "$(digest_of "$OUT")" "$du" "the server's plain:v1"
}

rs_check_interrupted_pull() {
  step "remote suite ($RS_URL): pull killed mid-way, then again"
  rs_big_sources
  rs_pack "$RS_W/laptop" "$RS_BIG/v1" --model weights --no-preprocessing -t big:v1
  BIG1=$RS_DIGEST
  RS_T_PUSH=$(rs_seconds rs_laptop push --jobs 1 big:v1)

  # Calibrate: a full pull into a fresh repository, twice, keeping the faster.
  local t t_pull=999 i
  for i in 1 2; do
    rm -rf "$RS_W/calib"
    new_repo "$RS_W/calib"
    expect_exit 0 mlp -C "$RS_W/calib" remote add origin "$RS_URL" "${RS_REMOTE_OPTIONS[@]}"
    t=$(rs_seconds mlp -C "$RS_W/calib" pull big:v1)
    t_pull=$(awk -v a="$t" -v b="$t_pull" 'BEGIN { print (a < b ? a : b) }')
  done
  rm -rf "$RS_W/calib"

  local landed=0 f p=$RS_W/puller
  for f in "${RS_FRACTIONS[@]}"; do
    rm -rf "$p"
    new_repo "$p"
    expect_exit 0 mlp -C "$p" remote add origin "$RS_URL" "${RS_REMOTE_OPTIONS[@]}"
    rs_run_killed "$(rs_delay "$t_pull" "$f")" -C "$p" pull big:v1
    # A kill can land after the work is done (while the process exits): the
    # version is then whole, which the checks after this block verify.
    if [[ $RS_KILL_RC -eq 137 ]] && mlp -C "$p" inspect big:v1 >/dev/null 2>&1; then RS_KILL_RC=0; fi
    if [[ $RS_KILL_RC -eq 137 ]]; then
      # No version, no stage, nothing half-made among the refs.
      expect_exit 4 mlp -C "$p" inspect big:v1
      [[ -z $(find "$p/.mlpack/refs" -type f) ]] || fail "a killed pull left refs: $(find "$p/.mlpack/refs" -type f)"
      expect_exit 0 mlp -C "$p" fsck
      if [[ $(rs_tmp_count "$p") -gt 0 ]]; then
        landed=$((landed + 1))
        echo "   pull killed mid-way at ${f} of ${t_pull}s"
      fi
      expect_exit 0 mlp -C "$p" pull big:v1 --json
      expect_eq "$(json "$OUT" '[d["pulled"][0][k] for k in ("digest", "new")]')" \
        "[\"sha256:$BIG1\", true]" "pull of big:v1 after a kill"
    fi
    expect_exit 0 mlp -C "$p" verify big:v1
    expect_exit 0 mlp -C "$p" fsck
    expect_exit 0 mlp -C "$p" gc
    expect_eq "$(rs_tmp_count "$p")" 0 "temp files after gc"
    if [[ $landed -ge 2 ]]; then break; fi
  done
  [[ $landed -ge 1 ]] || fail "no kill landed in the middle of a pull (full pull: ${t_pull}s)"
  rm -rf "$p"
}

rs_check_interrupted_push() {
  step "remote suite ($RS_URL): push killed mid-way, then again"
  rs_pack "$RS_W/laptop" "$RS_BIG/v2" --model weights --no-preprocessing -t big:v2
  BIG2=$RS_DIGEST
  local blobs nblobs
  blobs=$(rs_blob_keys "$RS_W/laptop" big:v2)
  nblobs=$(wc -l <<<"$blobs")
  expect_eq "$nblobs" 2 "blobs of big:v2"
  [[ -z $(comm -12 <(echo "$blobs") <(remote_keys)) ]] || fail "big:v2's blobs are on the remote already"

  local landed=0 f present partial srv_before key
  srv_before=$(store_state "$RS_W/server")
  # First a kill the moment the first blob is whole on the remote; then, if
  # the push outran the polling, kills at fractions of a calibrated push.
  _rs_one_blob_there() { [[ $(comm -12 <(echo "$blobs") <(remote_keys) | sed '/^$/d' | wc -l) -eq 1 ]]; }
  for f in poll "${RS_FRACTIONS[@]}"; do
    # One blob at a time, so that a kill can fall between the two.
    if [[ $f == poll ]]; then
      rs_run_killed_when _rs_one_blob_there "$(rs_delay "$RS_T_PUSH" 3)" -C "$RS_W/laptop" push --jobs 1 big:v2
    else
      rs_run_killed "$(rs_delay "$RS_T_PUSH" "$f")" -C "$RS_W/laptop" push --jobs 1 big:v2
    fi
    # A kill after the tag was written (while the process exits) is too late too.
    if [[ $RS_KILL_RC -eq 137 ]] && rs_has_key tags/big/v2; then RS_KILL_RC=0; fi
    if [[ $RS_KILL_RC -eq 0 ]]; then
      # Too late: start again from a remote without big:v2.
      for key in $blobs tags/big/v2 "manifests/sha256/$BIG2" "manifests/sha256/$BIG2.minisig"; do
        remote_delete "$key"
      done
      continue
    fi
    # Readers never see a half-pushed version.
    rs_expect_no_key tags/big/v2
    rs_expect_no_key "manifests/sha256/$BIG2"
    [[ $(rs_listing big) != *v2* ]] || fail "ls-remote lists big:v2 after a killed push"
    expect_exit 4 rs_server pull big:v2
    rs_unchanged "$RS_W/server" "$srv_before" "pull of a half-pushed version"
    present=$(comm -12 <(echo "$blobs") <(remote_keys) | sed '/^$/d' | wc -l)
    # An object is there whole or not at all.
    for key in $(comm -12 <(echo "$blobs") <(remote_keys)); do
      expect_eq "$(remote_cat "$key" | sha256sum | cut -c1-64)" "${key##*/}" "sha256 of $key after a killed push"
    done
    partial=$(remote_partial_uploads)
    if [[ $partial -gt 0 || ($present -gt 0 && $present -lt $nblobs) ]]; then
      landed=1
      echo "   push killed mid-way at ${f} of ${RS_T_PUSH}s ($present of $nblobs blobs there, $partial partial uploads)"
      # Blobs that made it are not sent again.
      expect_exit 0 rs_laptop push big:v2 --json
      expect_eq "$(json "$OUT" '[d["pushed"][0][k] for k in ("new", "blobs_uploaded", "blobs_present")]')" \
        "[true, $((nblobs - present)), $present]" "push --json of big:v2 after a kill"
      break
    fi
    # Too early or too late to tell: start again from a remote without big:v2.
    for key in $blobs; do remote_delete "$key"; done
  done
  [[ $landed -eq 1 ]] || fail "no kill landed in the middle of a push (full push: ${RS_T_PUSH}s)"
  expect_eq "$(rs_ref_content tags/big/v2)" "sha256:$BIG2" "tags/big/v2 after the push was rerun"
  expect_exit 0 rs_server pull big:v2
  expect_exit 0 rs_server verify big:v2
  expect_exit 0 rs_server fsck
}

rs_check_concurrent() {
  step "remote suite ($RS_URL): concurrent pushers"
  local i pids=() rc partial_before
  partial_before=$(remote_partial_uploads)
  declare -A digest
  for i in 1 2 3 4 5 6; do
    make_model "$RS_W/c$i" fleet "v$i" "fleet $i"
    if [[ $i -le 4 ]]; then
      rs_pack "$RS_W/laptop" "$RS_W/c$i"
    else
      rs_pack "$RS_W/rival" "$RS_W/c$i"
    fi
    digest[$i]=$RS_DIGEST
  done
  # Four from one repository and two from another, all at once.
  for i in 1 2 3 4 5 6; do
    local who=laptop
    [[ $i -le 4 ]] || who=rival
    mlp -C "$RS_W/$who" push "fleet:v$i" >"$RS_W/push$i.out" 2>"$RS_W/push$i.err" &
    pids+=($!)
  done
  for i in 1 2 3 4 5 6; do
    rc=0
    wait "${pids[$((i - 1))]}" || rc=$?
    [[ $rc -eq 0 ]] || fail "parallel push of fleet:v$i exited $rc: $(cat "$RS_W/push$i.err")"
  done
  local want=""
  for i in 1 2 3 4 5 6; do want+="V fleet v$i ${digest[$i]}"$'\n'; done
  expect_eq "$(rs_listing fleet)" "$(sort <<<"$want" | sed '/^$/d')" "ls-remote after parallel pushes"
  expect_exit 0 rs_server pull fleet:v1 fleet:v2 fleet:v3 fleet:v4 fleet:v5 fleet:v6
  for i in 1 2 3 4 5 6; do expect_exit 0 rs_server verify "fleet:v$i"; done

  # The same NAME:VERSION with other content from two repositories at once:
  # exactly one wins, the other gets 5, and the tag names the winner. Models
  # of a few MiB so that both uploads overlap.
  local round
  for round in 1 2 3; do
    make_model "$RS_W/ra$round" race "v$round" "laptop $round"
    make_model "$RS_W/rb$round" race "v$round" "rival $round"
    # Random weights behind a fixed first byte: never taken for a pickle.
    { printf 'RAND' && head -c 8M /dev/urandom; } >"$RS_W/ra$round/model.joblib"
    { printf 'RAND' && head -c 8M /dev/urandom; } >"$RS_W/rb$round/model.joblib"
    rs_pack "$RS_W/laptop" "$RS_W/ra$round"
    local da=$RS_DIGEST
    rs_pack "$RS_W/rival" "$RS_W/rb$round"
    local db=$RS_DIGEST
    rs_laptop push "race:v$round" >"$RS_W/ra.out" 2>"$RS_W/ra.err" &
    local pa=$!
    rs_rival push "race:v$round" >"$RS_W/rb.out" 2>"$RS_W/rb.err" &
    local pb=$!
    local rca=0 rcb=0
    wait "$pa" || rca=$?
    wait "$pb" || rcb=$?
    local winner loser_err
    if [[ $rca -eq 0 && $rcb -eq 5 ]]; then
      winner=$da loser_err=$RS_W/rb.err
    elif [[ $rca -eq 5 && $rcb -eq 0 ]]; then
      winner=$db loser_err=$RS_W/ra.err
    else
      fail "racing pushes of race:v$round exited $rca and $rcb, want 0 and 5: $(cat "$RS_W/ra.err" "$RS_W/rb.err")"
    fi
    [[ $(wc -l <"$loser_err") -eq 1 && $(head -c 15 "$loser_err") == "mlpack: error: " ]] ||
      fail "the losing push's stderr is not one error line: $(cat "$loser_err")"
    expect_eq "$(rs_ref_content "tags/race/v$round")" "sha256:$winner" "tags/race/v$round after the race"
    expect_exit 0 rs_server pull "race:v$round" --json
    expect_eq "$(json "$OUT" 'd["pulled"][0]["digest"]')" "sha256:$winner" "the server's race:v$round"
    expect_exit 0 rs_server verify "race:v$round"
  done

  # Two repositories move the same remote stage at once: each push either
  # moves it or is told it moved (5), and the stage ends where a winner put it.
  expect_exit 0 rs_rival pull fleet:v1 fleet:v2 fleet:v3 fleet:v4
  for round in 1 2 3; do
    expect_exit 0 rs_laptop promote "fleet:v$round" prod
    expect_exit 0 rs_rival promote "fleet:v$((round + 1))" prod
    rs_laptop push fleet@prod >"$RS_W/sa.out" 2>"$RS_W/sa.err" &
    local pa=$!
    rs_rival push fleet@prod >"$RS_W/sb.out" 2>"$RS_W/sb.err" &
    local pb=$!
    local rca=0 rcb=0
    wait "$pa" || rca=$?
    wait "$pb" || rcb=$?
    [[ ($rca -eq 0 || $rca -eq 5) && ($rcb -eq 0 || $rcb -eq 5) && ($rca -eq 0 || $rcb -eq 0) ]] ||
      fail "racing stage pushes exited $rca and $rcb: $(cat "$RS_W/sa.err" "$RS_W/sb.err")"
    local now
    now=$(rs_ref_content stages/fleet/prod)
    case $now in
      "sha256:${digest[$round]}") [[ $rca -eq 0 ]] || fail "fleet@prod names the laptop's version, whose push failed" ;;
      "sha256:${digest[$((round + 1))]}") [[ $rcb -eq 0 ]] || fail "fleet@prod names the rival's version, whose push failed" ;;
      *) fail "fleet@prod is '$now' after racing pushes" ;;
    esac
  done
  expect_eq "$(remote_partial_uploads)" "$partial_before" "partial uploads left by concurrent pushes"
}

rs_check_clean() {
  step "remote suite ($RS_URL): every repository is consistent"
  local r
  for r in laptop server rival stranger lonely; do
    expect_exit 0 mlp -C "$RS_W/$r" fsck
    expect_eq "$(rs_tmp_count "$RS_W/$r")" 0 "temp files left in $r"
  done
  # Every ref on the remote names a manifest that is there.
  local key hex
  while IFS= read -r key; do
    hex=$(rs_ref_content "$key")
    hex=${hex#sha256:}
    rs_expect_key "manifests/sha256/$hex"
  done < <(remote_keys | grep -E '^(tags|stages)/')
}

# run_remote_suite URL : every check, against the (empty) remote at URL.
run_remote_suite() {
  _rs_default_hooks
  rs_setup "$1"
  rs_check_round_trip
  rs_check_layout
  rs_check_dedup
  rs_check_push_again_and_conflict
  rs_check_local_corruption
  rs_check_stages
  rs_check_namespaces
  rs_check_missing
  rs_check_corrupt
  rs_check_signatures
  rs_check_interrupted_pull
  rs_check_interrupted_push
  rs_check_concurrent
  rs_check_clean
  rm -rf "$RS_W"
}

# Archives mlpack did not make (DESIGN §5): every hostile or damaged archive
# is refused with exit 3 by import and by unpack, nothing is written outside
# the target folder, the target gets no new files, and the store is unchanged.
#
# Since artifacts are signed, an archive can be refused just for lacking a
# valid signature; that must not hide the structural checks. So forgeries in
# the file entries keep the legit manifest and its valid signature (the
# signature check passes and the entry check has to fire), forgeries of the
# manifest itself are unsigned and are also tried with --allow-unsigned, and
# every refusal must name the real problem, never the signature.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

new_repo repo
export MLPACK_DIR="$TMP/repo"

# The artifact the hostile archives are forged from: a model big enough that
# cutting the archive in half cuts into file data, and a file in a sub-folder.
make_model m hostile v1
{ printf 'RAND' && head -c 199996 /dev/urandom; } >m/model.joblib
mkdir -p m/sub
printf 'inner file\n' >m/sub/x
cat >>m/mlpack.yaml <<'EOF'
files:
  - {path: sub/x, role: data}
EOF
ok mlp pack m --json
legit_digest=$(digest_of "$OUT")
ok mlp export hostile:v1 -o legit.mlpack
tar xOf legit.mlpack manifest.yaml >legit-manifest.yaml
cmp -s legit-manifest.yaml "repo/.mlpack/objects/sha256/${legit_digest:0:2}/$legit_digest" ||
  fail "tar xOf did not give the stored manifest"
tar xOf legit.mlpack manifest.yaml.minisig >legit-manifest.yaml.minisig
[[ -s legit-manifest.yaml.minisig ]] || fail "the legit archive is not signed"

# A second repository, without hostile:v1, receives the imports.
new_repo target-repo
make_model other other v1
ok mlp -C target-repo pack other

mkdir -p hostile outside
EVIL="$TMP/evil"
"$PY" - legit.mlpack legit-manifest.yaml hostile "$EVIL" "$TMP/outside" <<'EOF'
import io, os, random, sys, tarfile

legit, manifest_path, out, evil, outside = sys.argv[1:]
manifest = open(manifest_path, "rb").read()
with tarfile.open(legit) as t:
    names = t.getnames()
    data = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isreg()}
files = [n for n in names if n.startswith("files/")]
assert names[:2] == ["manifest.yaml", "manifest.yaml.minisig"], names
assert "files/sub/x" in files and "files/model.joblib" in files, names
signature = data["manifest.yaml.minisig"]

def reg(name, body, size=None):
    ti = tarfile.TarInfo(name)
    ti.size = len(body) if size is None else size
    ti.mode = 0o644
    ti.mtime = 1700000000
    return ti, io.BytesIO(body)

def special(name, kind, linkname=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = linkname
    if kind == tarfile.CHRTYPE:
        ti.devmajor, ti.devminor = 1, 3
    return ti, None

def write(name, entries, fmt=tarfile.PAX_FORMAT):
    with tarfile.open(os.path.join(out, name), "w", format=fmt) as t:
        for ti, body in entries:
            t.addfile(ti, body)

def head():
    """The legit manifest and its valid signature."""
    return [reg("manifest.yaml", manifest), reg("manifest.yaml.minisig", signature)]

def file_entries(skip=(), replace=None):
    entries = []
    for n in files:
        if n in skip:
            continue
        if replace and n in replace:
            entries.extend(replace[n])
        else:
            entries.append(reg(n, data[n]))
    return entries

def legit_entries(skip=(), replace=None):
    """The legit archive's entries (signed), with some files left out or replaced."""
    return head() + file_entries(skip, replace)

model = data["files/model.joblib"]
# Path tricks.
write("dotdot", legit_entries() + [reg("files/../evil", b"evil")])
write("dotdot-first", head() + [reg("files/../../evil", b"evil")] + file_entries())
write("absolute", head() + [reg(evil, b"evil")] + file_entries())
write("absolute-in-files", legit_entries(replace={"files/sub/x": [reg("files/" + evil, b"evil")]}))
# pax 'path' records override the ustar name; the effective name must be checked.
ti, body = reg("files/sub/x", data["files/sub/x"])
ti.pax_headers = {"path": "files/../../evil"}
write("pax-path", legit_entries(replace={"files/sub/x": [(ti, body)]}))
# Links and special files.
write("symlink", legit_entries(replace={"files/sub/x": [special("files/sub/x", tarfile.SYMTYPE, evil)]}))
write("symlink-dir", legit_entries(replace={"files/sub/x": [
    special("files/sub", tarfile.SYMTYPE, outside), reg("files/sub/x", data["files/sub/x"])]}))
write("hardlink", legit_entries(replace={"files/sub/x": [special("files/sub/x", tarfile.LNKTYPE, evil)]}))
write("hardlink-internal", legit_entries(replace={"files/sub/x": [
    special("files/sub/x", tarfile.LNKTYPE, "files/model.joblib")]}))
write("chardev", legit_entries(replace={"files/sub/x": [special("files/sub/x", tarfile.CHRTYPE)]}))
write("fifo", legit_entries(replace={"files/sub/x": [special("files/sub/x", tarfile.FIFOTYPE)]}))
# Content and size lies.
tampered = bytes([model[0] ^ 0xFF]) + model[1:]
write("tampered", legit_entries(replace={"files/model.joblib": [reg("files/model.joblib", tampered)]}))
bigger = model + b"\0" * 4096
write("bigger", legit_entries(replace={"files/model.joblib": [reg("files/model.joblib", bigger)]}))
write("smaller", legit_entries(replace={"files/model.joblib": [reg("files/model.joblib", model[:-1000])]}))
# Entries the manifest does not list, twice, or not at all.
write("extra", legit_entries() + [reg("files/extra.txt", b"not in the manifest")])
write("extra-outside-files", legit_entries() + [reg("notes.txt", b"not in the manifest")])
write("extra-folder", legit_entries() + [special("evil-dir", tarfile.DIRTYPE)])
write("duplicate", legit_entries() + [reg("files/sub/x", data["files/sub/x"])])
write("missing", legit_entries(skip=("files/sub/x",)))
write("manifest-not-first", file_entries() + head())
write("signature-first", head()[::-1] + file_entries())
write("no-manifest", file_entries())
write("two-manifests", head() + [reg("manifest.yaml", manifest)] + file_entries())
write("empty-tar", [])
# The signature entry itself misplaced or forged in shape.
write("two-signatures", head() + [reg("manifest.yaml.minisig", signature)] + file_entries())
write("signature-huge", [reg("manifest.yaml", manifest),
                         reg("manifest.yaml.minisig", signature + b"#" * (1 << 20))] + file_entries())
write("signature-symlink", [reg("manifest.yaml", manifest),
                            special("manifest.yaml.minisig", tarfile.SYMTYPE, evil)] + file_entries())
write("signature-after-files", [reg("manifest.yaml", manifest)] + file_entries() +
      [reg("manifest.yaml.minisig", signature)])
# A manifest that itself names an unsafe path (so unsigned: no key signs that).
bad = manifest.replace(b"path: sub/x", b"path: ../evil")
assert bad != manifest
write("manifest-unsafe-path", [reg("manifest.yaml", bad)] + file_entries()[:-1] + [reg("files/../evil", b"evil")])
bad_abs = manifest.replace(b"path: sub/x", b"path: " + evil.encode())
write("manifest-absolute-path", [reg("manifest.yaml", bad_abs)] + file_entries()[:-1] + [reg("files" + evil, b"evil")])
write("manifest-garbage", [reg("manifest.yaml", b"\x00\xff not yaml: [")] + file_entries())
# Damaged files.
raw = open(legit, "rb").read()
open(os.path.join(out, "truncated"), "wb").write(raw[: len(raw) // 2])
random.seed(7)
open(os.path.join(out, "random"), "wb").write(bytes(random.getrandbits(8) for _ in range(20000)))
open(os.path.join(out, "zero-length"), "wb").write(b"")
EOF
# The same lie behind zstd compression, and a truncated zstd stream.
zstd -q -c hostile/bigger >hostile/bigger-zstd
zstd -q -c legit.mlpack >legit.mlpack.zst
head -c 30000 legit.mlpack.zst >hostile/truncated-zstd

made=$(find hostile -type f | wc -l)
((made >= 30)) || fail "the generator made only $made archives"
# Check the forgeries say what they should (absolute names survive tarfile).
tar tPf hostile/absolute >listing
grep -qx "$EVIL" listing || fail "the absolute archive has no absolute entry"
tar tvf hostile/chardev >listing
[[ $(grep -c '^c' listing) -eq 1 ]] || fail "the chardev archive has no device entry"

store_before=$(store_state target-repo)
repo_before=$(store_state repo)

# expect_reason WHAT PATTERN : the last refusal ($ERR) names the structural
# problem (extended regex, any case), not the signature: a refusal for being
# unsigned or untrusted would pass these tests for the wrong reason.
expect_reason() {
  local what=$1 pattern=$2
  grep -qiE -- "$pattern" "$ERR" || fail "$what: stderr does not match /$pattern/: $(cat "$ERR")"
  if grep -qiE -- 'unsigned|do not trust|signature verification|signed by' "$ERR"; then
    fail "$what: refused because of the signature, not the forgery: $(cat "$ERR")"
  fi
}

# check_refused NAME PATTERN : import, unpack, verify and path of hostile/NAME all exit
# 3 naming PATTERN, with and without --allow-unsigned, and leave no trace.
check_refused() {
  local name=$1 pattern=$2 archive="$TMP/hostile/$1"
  step "refused: $name"
  local dir="$TMP/unpack-$name"
  mkdir -p "$dir"
  echo keep >"$dir/keep.txt"
  local before flag
  before=$(find "$dir" ! -type d | sort)
  for flag in "" --allow-unsigned; do
    local args=(${flag:+"$flag"})
    expect_exit 3 mlp -C target-repo import "$archive" "${args[@]}"
    expect_reason "import $flag of $name" "$pattern"
    expect_eq "$(store_state target-repo)" "$store_before" "store after importing $name $flag"
    [[ -z $(ls -A target-repo/.mlpack/tmp) ]] || fail "import of $name left temp files"
    expect_exit 4 mlp -C target-repo inspect hostile:v1

    expect_exit 3 mlp unpack "$archive" -d "$dir" "${args[@]}"
    expect_reason "unpack $flag of $name" "$pattern"
    expect_eq "$(find "$dir" ! -type d | sort)" "$before" "files in the target after unpacking $name $flag"
    # Also refused when the artifact is only named by the archive through the
    # store-less path, and when --role skips the bad entry's file.
    expect_exit 3 mlp unpack "$archive" -d "$dir" --role preprocessing "${args[@]}"
    expect_reason "unpack --role $flag of $name" "$pattern"
    expect_eq "$(find "$dir" ! -type d | sort)" "$before" "files in the target after unpack --role of $name $flag"

    expect_exit 3 mlp verify "$archive" "${args[@]}"
    expect_reason "verify $flag of $name" "$pattern"

    # path materializes the archive into the repository's cache.
    expect_exit 3 mlp -C target-repo path "$archive" "${args[@]}"
    expect_reason "path $flag of $name" "$pattern"
    [[ -z $(ls -A target-repo/.mlpack/cache 2>/dev/null) ]] ||
      fail "path of $name left files in the cache: $(ls -A target-repo/.mlpack/cache)"
    expect_eq "$(store_state target-repo)" "$store_before" "store after path of $name $flag"
  done

  expect_no_path "$EVIL"
  expect_no_path "$TMP/files"
  [[ -z $(ls -A "$TMP/outside") ]] || fail "$name wrote into $TMP/outside: $(ls -A "$TMP/outside")"
  expect_eq "$(store_state repo)" "$repo_before" "source repository after $name"
}

# NAME and what its refusal must say. Forgeries of entries carry the legit,
# valid signature; manifest forgeries are unsigned.
cases=(
  "dotdot|unsafe archive.*path 'files/\.\./evil'"
  "dotdot-first|unsafe archive.*path 'files/\.\./\.\./evil'"
  "absolute|unsafe archive.*path '/"
  "absolute-in-files|unsafe archive.*path 'files//"
  "pax-path|unsafe archive.*path 'files/\.\./\.\./evil'"
  "symlink|symlink entry 'files/sub/x'"
  "symlink-dir|symlink entry 'files/sub'"
  "hardlink|hardlink entry"
  "hardlink-internal|hardlink entry"
  "chardev|not a regular file or folder"
  "fifo|not a regular file or folder"
  "tampered|digest mismatch for 'model\.joblib'"
  "bigger|'model\.joblib' has size 204096, the manifest says 200000|larger than the manifest"
  "smaller|'model\.joblib' has size 199000, the manifest says 200000|truncated"
  "extra|'extra\.txt' is not listed in its manifest"
  "extra-outside-files|unexpected entry 'notes\.txt'"
  "extra-folder|unexpected folder 'evil-dir'"
  "duplicate|'sub/x' appears twice"
  "missing|'sub/x' is missing"
  "manifest-not-first|the first entry is 'files/metrics\.json', not manifest\.yaml"
  "signature-first|the first entry is 'manifest\.yaml\.minisig', not manifest\.yaml"
  "no-manifest|the first entry is 'files/metrics\.json', not manifest\.yaml"
  "two-manifests|unexpected entry 'manifest\.yaml'"
  "empty-tar|no manifest\.yaml"
  "two-signatures|must follow manifest\.yaml once"
  "signature-huge|unsafe archive: manifest\.yaml\.minisig is larger than 64 KiB"
  "signature-symlink|symlink entry 'manifest\.yaml\.minisig'"
  "manifest-unsafe-path|malformed manifest.*unsafe file path '\.\./evil'"
  "manifest-absolute-path|malformed manifest.*unsafe file path '/"
  "manifest-garbage|malformed manifest"
  "truncated|truncated"
  "random|Unrecognized archive format"
  "zero-length|Unrecognized archive format|empty|no manifest"
  "bigger-zstd|'model\.joblib' has size 204096, the manifest says 200000|larger than the manifest"
  "truncated-zstd|truncated"
)
for c in "${cases[@]}"; do
  name=${c%%|*}
  [[ -f hostile/$name ]] || fail "no hostile archive $name"
  check_refused "$name" "${c#*|}"
done
# Every forgery is checked: the table, plus signature-after-files below.
expect_eq "$((${#cases[@]} + 1))" "$(find hostile -type f | wc -l)" "hostile archives checked"

step "a signature after the files is no signature: unsigned, and misplaced with --allow-unsigned"
dir="$TMP/unpack-signature-after-files"
mkdir -p "$dir"
expect_exit 3 mlp -C target-repo import hostile/signature-after-files
expect_contains "$ERR" "unsigned"
expect_exit_warned 3 mlp -C target-repo import hostile/signature-after-files --allow-unsigned
expect_contains "$ERR" "must follow manifest.yaml once"
expect_exit_warned 3 mlp unpack hostile/signature-after-files -d "$dir" --allow-unsigned
expect_contains "$ERR" "must follow manifest.yaml once"
[[ -z $(ls -A "$dir") ]] || fail "unpack of signature-after-files wrote $(ls -A "$dir")"
expect_eq "$(store_state target-repo)" "$store_before" "store after signature-after-files"

step "inspect of a damaged archive is refused too"
for name in random truncated-zstd manifest-unsafe-path manifest-not-first; do
  expect_exit 3 mlp inspect "$TMP/hostile/$name"
done

step "the legit archive still imports and unpacks (the forgeries are the only problem)"
ok mlp -C target-repo import legit.mlpack
expect_eq "$(digest_of <(mlp -C target-repo inspect hostile:v1 --json))" "$legit_digest" "legit import"
ok mlp unpack legit.mlpack -d legit-out
cmp legit-out/model.joblib m/model.joblib || fail "legit unpack"
step "a tampered archive of an artifact already in the store is still refused"
before=$(store_state target-repo)
expect_exit 3 mlp -C target-repo import hostile/tampered
expect_reason "re-import of tampered" "digest mismatch"
expect_eq "$(store_state target-repo)" "$before" "store after a tampered re-import"
ok mlp -C target-repo fsck

step "unpack refuses to write through a symlink in the target folder"
for src in hostile:v1 "$TMP/legit.mlpack"; do
  dir=$(mktemp -d "$TMP/linked.XXXXXX")
  ln -s "$TMP/outside" "$dir/sub"
  expect_exit 3 mlp unpack "$src" -d "$dir"
  expect_contains "$ERR" "symlink"
  [[ -z $(ls -A "$TMP/outside") ]] || fail "unpack of $src wrote through the symlink: $(ls -A "$TMP/outside")"
  expect_eq "$(cd "$dir" && find . ! -type d | sort | tr '\n' ' ')" "./sub " \
    "files in the target after refusing $src"
done

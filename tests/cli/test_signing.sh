# Signing and trust (issue 3; DESIGN §3 Signature, §5): the default key made
# on first use, interop with the real minisign binary both ways (its keys,
# with and without a password, and its signatures), tamper tests that must
# all exit 3 and leave the store alone, unsigned and untrusted artifacts,
# permissions of secret keys, key management, tag signatures, and no secret
# key material in any output.
#
# Every derivation from a password costs minisign's scrypt (1 GiB, seconds),
# so only five happen here: minisign -G with a password, mlpack signing with
# that key twice (MLPACK_KEY_PASSWORD, --password-stdin), mlpack key generate
# --password-stdin, and minisign -S with that key.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v minisign >/dev/null ||
  fail "minisign is not installed (Debian package minisign): the interop tests need it"

# Every output of mlpack and minisign also goes to $LOG, which the last step
# searches for secret key material and passwords.
LOG="$TMP/all-output.log"
: >"$LOG"
mlp() {
  local rc=0
  "$MLPACK" "$@" >"$TMP/.mlp-out" 2>"$TMP/.mlp-err" || rc=$?
  cat "$TMP/.mlp-out" "$TMP/.mlp-err" >>"$LOG"
  cat "$TMP/.mlp-out"
  cat "$TMP/.mlp-err" >&2
  return "$rc"
}
ms() {
  local rc=0
  minisign "$@" >"$TMP/.ms-out" 2>&1 || rc=$?
  cat "$TMP/.ms-out" >>"$LOG"
  cat "$TMP/.ms-out"
  return "$rc"
}

# key_id FILE.pub : the id in a public key's comment line, as 16 hex digits
# (minisign drops leading zeros there, mlpack does not).
key_id() {
  local id
  id=$(sed -n '1s/^untrusted comment: minisign public key //p' "$1")
  [[ -n $id ]] || fail "no key id in $1"
  printf '%16s' "$id" | tr ' ' 0
}
# sig_key_id FILE.minisig : the id of the key that made a signature (bytes
# 2..9 of line 2, little-endian, printed as minisign prints ids).
sig_key_id() {
  "$PY" -c 'import base64, sys
raw = base64.b64decode(open(sys.argv[1]).read().splitlines()[1])
print(raw[2:10][::-1].hex().upper())' "$1"
}
trusted_comment() { sed -n '3s/^trusted comment: //p' "$1"; }

# retar SRC OUT [NAME=FILE]... : SRC's regular entries in SRC's order, each
# NAME's bytes taken from FILE instead; a manifest.yaml.minisig that SRC lacks
# goes right after manifest.yaml, where mlpack export puts it.
retar() {
  "$PY" - "$@" <<'EOF'
import io, sys, tarfile
src, out, *subs = sys.argv[1:]
repl = dict(s.split("=", 1) for s in subs)
with tarfile.open(src) as t:
    entries = [(m.name, t.extractfile(m).read()) for m in t.getmembers() if m.isreg()]
names = [n for n, _ in entries]
if "manifest.yaml.minisig" in repl and "manifest.yaml.minisig" not in names:
    entries.insert(names.index("manifest.yaml") + 1, ("manifest.yaml.minisig", b""))
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for name, body in entries:
        if name in repl:
            body = open(repl[name], "rb").read()
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode, ti.mtime = len(body), 0o644, 1700000000
        t.addfile(ti, io.BytesIO(body))
EOF
}

manifest_obj() { echo "$1/.mlpack/objects/sha256/${2:0:2}/$2"; }
sig_path() { echo "$1/.mlpack/signatures/$2/$3.minisig"; }  # REPO HEX NAME/VERSION

new_repo repo
export MLPACK_DIR="$TMP/repo"
KEYS=$XDG_CONFIG_HOME/mlpack/keys
TRUSTED=$XDG_CONFIG_HOME/mlpack/trusted
PW1='enc-minisign-5f1c27d9e3b4a068'
PW2='enc-mlpack-9a7e31c04bd2f615'
tab=$'\t'

###############################################################################
step "the first pack creates the default key, trusts it and says so once"
make_model m iris v1
expect_no_path "$KEYS"
ok mlp pack m --json
d1=$(digest_of "$OUT")
blob=$(json "$OUT" '[f["sha256"] for f in d["files"] if f["path"] == "model.joblib"][0]')
expect_eq "$(json "$OUT" 'd["signed"]')" "true" "pack --json signed"
expect_eq "$(grep -c 'created your signing key' "$ERR")" "1" "notes about the new key"
expect_not_contains "$OUT" "created"
expect_file "$KEYS/default.key"
expect_file "$KEYS/default.key.pub"
default_id=$(key_id "$KEYS/default.key.pub")
[[ $default_id =~ ^[0-9A-F]{16}$ ]] || fail "default key id '$default_id'"
expect_contains "$ERR" "$default_id"
expect_contains "$ERR" "trusted"
expect_eq "$(stat -c %a "$KEYS/default.key")" "600" "mode of the default secret key"
expect_eq "$(stat -c %a "$KEYS")" "700" "mode of the keys folder"
cmp -s "$TRUSTED/$default_id.pub" "$KEYS/default.key.pub" || fail "the default key is not trusted"
default_sha=$(sha256 "$KEYS/default.key")
sig1=$(sig_path repo "$d1" iris/v1)
expect_file "$sig1"
expect_eq "$(sig_key_id "$sig1")" "$default_id" "key of iris:v1's signature"
[[ $(trusted_comment "$sig1") =~ ^timestamp:[0-9]+${tab}artifact:iris:v1${tab}digest:sha256:$d1$ ]] ||
  fail "trusted comment of iris:v1: $(trusted_comment "$sig1")"

make_model m2 iris v2 second
ok mlp pack m2 --json
d2=$(digest_of "$OUT")
expect_not_contains "$ERR" "created"
expect_eq "$(sha256 "$KEYS/default.key")" "$default_sha" "default key after the second pack"
expect_eq "$(ls "$TRUSTED")" "$default_id.pub" "trusted keys after two packs"

step "verify prints the key id and the trusted comment"
ok mlp verify iris:v1
expect_contains "$OUT" "signed by key $default_id"
expect_contains "$OUT" "trusted comment: $(trusted_comment "$sig1")"
ok mlp verify iris:v1 --json
expect_eq "$(json "$OUT" 'd["signed"], d["verified"], d["key_id"]')" "[true, true, \"$default_id\"]" "verify --json"
expect_eq "$(json "$OUT" 'd["trusted_comment"]')" "$(trusted_comment "$sig1")" "verify --json trusted comment"

###############################################################################
step "minisign -V accepts what mlpack signs (from an export)"
ok mlp export iris:v1 -o v1.mlpack
ok mlp export iris:v2 -o v2.mlpack
expect_eq "$(tar tf v1.mlpack | head -n 2 | tr '\n' ' ')" "manifest.yaml manifest.yaml.minisig " "head of the export"
mkdir x1
tar xf v1.mlpack -C x1 manifest.yaml manifest.yaml.minisig
ms -Vm x1/manifest.yaml -x x1/manifest.yaml.minisig -p "$KEYS/default.key.pub" >ms.out ||
  fail "minisign -V refused mlpack's signature: $(cat ms.out)"
expect_contains ms.out "artifact:iris:v1"
# The form DESIGN.md documents: the signature found next to the file.
(cd x1 && ms -Vm manifest.yaml -p "$KEYS/default.key.pub") >ms.out ||
  fail "minisign -Vm manifest.yaml -p KEY refused: $(cat ms.out)"
# And minisign really checks: one more byte and it refuses.
cp x1/manifest.yaml x1/changed.yaml && echo >>x1/changed.yaml
if ms -Vm x1/changed.yaml -x x1/manifest.yaml.minisig -p "$KEYS/default.key.pub" >/dev/null; then
  fail "minisign accepted a changed manifest"
fi

step "tag signs the new binding; minisign accepts it; export and import carry it"
ok mlp tag iris:v1 team/iris:release-1
sig_rel=$(sig_path repo "$d1" team/iris/release-1)
expect_file "$sig_rel"
[[ $(trusted_comment "$sig_rel") =~ ^timestamp:[0-9]+${tab}artifact:team/iris:release-1${tab}digest:sha256:$d1$ ]] ||
  fail "trusted comment of the tag: $(trusted_comment "$sig_rel")"
ms -Vm "$(manifest_obj repo "$d1")" -x "$sig_rel" -p "$KEYS/default.key.pub" >ms.out ||
  fail "minisign -V refused the tag's signature: $(cat ms.out)"
expect_contains ms.out "artifact:team/iris:release-1"
cmp -s "$sig1" x1/manifest.yaml.minisig || fail "tag changed iris:v1's own signature"
ok mlp verify team/iris:release-1 --json
expect_eq "$(json "$OUT" 'd["trusted_comment"]')" "$(trusted_comment "$sig_rel")" "verify of the tag"
ok mlp export team/iris:release-1 -o rel.mlpack
tar xOf rel.mlpack manifest.yaml.minisig | cmp -s - "$sig_rel" || fail "export of the tag lacks its signature"
new_repo other
ok mlp -C other import rel.mlpack --json
expect_eq "$(json "$OUT" 'd["name"] + ":" + d["version"]')" "team/iris:release-1" "import of the tag's export"
expect_eq "$(json "$OUT" 'd["signed"]')" "true" "import --json signed"
ok mlp -C other verify team/iris:release-1
expect_contains "$OUT" "artifact:team/iris:release-1"
expect_exit 4 mlp -C other inspect iris:v1
cmp -s "$(sig_path other "$d1" team/iris/release-1)" "$sig_rel" || fail "import did not keep the signature"

###############################################################################
step "mlpack signs with a key minisign -G made without a password"
ms -G -W -p mw.pub -s mw.key >ms.out || fail "minisign -G -W: $(cat ms.out)"
mw_id=$(key_id mw.pub)
ok mlp pack m --key mw.key -t plain:v1 --json
dp=$(digest_of "$OUT")
sig_p=$(sig_path repo "$dp" plain/v1)
expect_eq "$(sig_key_id "$sig_p")" "$mw_id" "key of plain:v1's signature"
ms -Vm "$(manifest_obj repo "$dp")" -x "$sig_p" -p mw.pub >ms.out || fail "minisign -V: $(cat ms.out)"
expect_exit 3 mlp verify plain:v1
expect_contains "$ERR" "do not trust"
ok mlp key trust mw.pub
expect_contains "$OUT" "$mw_id"
ok mlp verify plain:v1
expect_contains "$OUT" "signed by key $mw_id"

step "mlpack signs with a key minisign -G made with a password (env, then stdin)"
printf '%s\n%s\n' "$PW1" "$PW1" | ms -G -p me.pub -s me.key >ms.out || fail "minisign -G: $(cat ms.out)"
me_id=$(key_id me.pub)
# No password source and no terminal: refused before anything is written.
before=$(store_state repo)
expect_exit 2 mlp tag iris:v1 enc:nopw --key me.key </dev/null
expect_contains "$ERR" "MLPACK_KEY_PASSWORD"
expect_eq "$(store_state repo)" "$before" "store after a tag without a password"
MLPACK_KEY_PASSWORD=$PW1 ok mlp -v pack m --key me.key -t enc:v1 --json
de=$(digest_of "$OUT")
sig_e=$(sig_path repo "$de" enc/v1)
expect_eq "$(sig_key_id "$sig_e")" "$me_id" "key of enc:v1's signature"
ms -Vm "$(manifest_obj repo "$de")" -x "$sig_e" -p me.pub >ms.out || fail "minisign -V: $(cat ms.out)"
printf '%s\n' "$PW1" | ok mlp -v tag enc:v1 enc:v1-stdin --key me.key --password-stdin
sig_es=$(sig_path repo "$de" enc/v1-stdin)
ms -Vm "$(manifest_obj repo "$de")" -x "$sig_es" -p me.pub >ms.out || fail "minisign -V: $(cat ms.out)"
expect_contains ms.out "artifact:enc:v1-stdin"
expect_exit 3 mlp verify enc:v1
ok mlp key trust me.pub
ok mlp verify enc:v1
expect_contains "$OUT" "signed by key $me_id"
ok mlp verify enc:v1-stdin --json
expect_eq "$(json "$OUT" 'd["key_id"]')" "$me_id" "key of enc:v1-stdin"

###############################################################################
step "mlpack verifies what minisign -S signs"
ms -G -W -p mk.pub -s mk.key >ms.out || fail "minisign -G -W: $(cat ms.out)"
mk_id=$(key_id mk.pub)
make_model m3 handmade v1 third
ok mlp pack m3 --no-sign --json
dh=$(digest_of "$OUT")
expect_contains "$ERR" "not signing"
expect_eq "$(json "$OUT" 'd["signed"]')" "false" "pack --no-sign --json signed"
ok mlp export handmade:v1 -o unsigned.mlpack --json
expect_eq "$(json "$OUT" 'd["signed"]')" "false" "export --json signed"
expect_contains "$ERR" "unsigned"
expect_eq "$(tar tf unsigned.mlpack | grep -c minisig || true)" "0" "signature entries of an unsigned export"
mkdir hx
tar xf unsigned.mlpack -C hx manifest.yaml
(cd hx && ms -S -s ../mk.key -m manifest.yaml) >ms.out || fail "minisign -S: $(cat ms.out)"
retar unsigned.mlpack handmade.mlpack manifest.yaml.minisig=hx/manifest.yaml.minisig
expect_eq "$(tar tf handmade.mlpack | tr '\n' ' ')" "$(tar tf unsigned.mlpack | sed '1a manifest.yaml.minisig' | tr '\n' ' ')" \
  "entries of the archive minisign signed"
new_repo r-ms
before=$(store_state r-ms)
expect_exit 3 mlp -C r-ms import handmade.mlpack
expect_contains "$ERR" "$mk_id"
expect_contains "$ERR" "do not trust"
expect_eq "$(store_state r-ms)" "$before" "store after importing an untrusted archive"
expect_exit 3 mlp verify handmade.mlpack
ok mlp key trust mk.pub
ok mlp verify handmade.mlpack --json
expect_eq "$(json "$OUT" 'd["key_id"]')" "$mk_id" "key of minisign's signature"
expect_eq "$(json "$OUT" 'd["trusted_comment"]')" "$(trusted_comment hx/manifest.yaml.minisig)" "minisign's trusted comment"
expect_contains "$OUT" "file:manifest.yaml"
ok mlp -C r-ms import handmade.mlpack --json
expect_eq "$(json "$OUT" 'd["name"] + ":" + d["version"] + " " + d["digest"]')" "handmade:v1 sha256:$dh" \
  "import of minisign's archive"
ok mlp -C r-ms verify handmade:v1
expect_contains "$OUT" "signed by key $mk_id"
ok mlp unpack handmade.mlpack -d handmade-out
cmp handmade-out/model.joblib m3/model.joblib || fail "unpack of minisign's archive"

step "minisign's trusted comments are kept byte for byte (spaces included)"
(cd hx && ms -S -s ../mk.key -m manifest.yaml -x padded.minisig -t "  made by hand, spaced  ") >ms.out ||
  fail "minisign -S -t: $(cat ms.out)"
retar unsigned.mlpack padded.mlpack manifest.yaml.minisig=hx/padded.minisig
ok mlp verify padded.mlpack --json
expect_eq "$(json "$OUT" 'repr(d["trusted_comment"])')" "'  made by hand, spaced  '" "a spaced trusted comment"

step "a trusted signature's binding must be a valid NAME:VERSION of this manifest"
(cd hx && ms -S -s ../mk.key -m manifest.yaml -x escape.minisig \
  -t "timestamp:1${tab}artifact:../../escape:v1${tab}digest:sha256:$dh") >ms.out || fail "minisign -S: $(cat ms.out)"
(cd hx && ms -S -s ../mk.key -m manifest.yaml -x other.minisig \
  -t "timestamp:1${tab}artifact:handmade:v9${tab}digest:sha256:$d1") >ms.out || fail "minisign -S: $(cat ms.out)"
retar unsigned.mlpack escape.mlpack manifest.yaml.minisig=hx/escape.minisig
retar unsigned.mlpack other-digest.mlpack manifest.yaml.minisig=hx/other.minisig
new_repo r-bind
before=$(store_state r-bind)
expect_exit 3 mlp -C r-bind import escape.mlpack
expect_contains "$ERR" "invalid"
expect_exit 3 mlp -C r-bind import other-digest.mlpack
expect_contains "$ERR" "not this manifest"
expect_eq "$(store_state r-bind)" "$before" "store after refused bindings"
expect_no_path "$TMP/escape"
expect_no_path r-bind/escape
expect_no_path r-bind/.mlpack/escape

###############################################################################
step "keys mlpack generates work with minisign -S and -V"
ok mlp key generate --output gen-plain.key --no-password --json
gp_id=$(json "$OUT" 'd["key_id"]')
expect_eq "$(json "$OUT" 'd["encrypted"], d["trusted"]')" "[false, false]" "key generate --no-password --json"
expect_eq "$(key_id gen-plain.key.pub)" "$gp_id" "id in gen-plain.key.pub"
expect_eq "$(stat -c %a gen-plain.key)" "600" "mode of a generated secret key"
echo "a document" >doc.txt
ms -S -s gen-plain.key -m doc.txt </dev/null >ms.out || fail "minisign -S with mlpack's key: $(cat ms.out)"
ms -Vm doc.txt -p gen-plain.key.pub >ms.out || fail "minisign -V with mlpack's key: $(cat ms.out)"
printf '%s\n' "$PW2" | ok mlp -v key generate --output gen-enc.key --password-stdin --json
expect_eq "$(json "$OUT" 'd["encrypted"]')" "true" "key generate --password-stdin --json"
expect_eq "$(stat -c %a gen-enc.key)" "600" "mode of a generated encrypted key"
echo "another document" >doc2.txt
printf '%s\n' "$PW2" | ms -S -s gen-enc.key -m doc2.txt >ms.out ||
  fail "minisign -S with mlpack's encrypted key: $(cat ms.out)"
ms -Vm doc2.txt -p gen-enc.key.pub >ms.out || fail "minisign -V: $(cat ms.out)"

###############################################################################
# check_tampered ARCHIVE PATTERN : import, verify, unpack and path all exit 3,
# with and without --allow-unsigned (a signature that does not verify is
# never let through), naming PATTERN; nothing changes anywhere.
new_repo tgt
check_tampered() {
  local archive=$1 pattern=$2 flag
  local before
  before=$(store_state tgt)
  for flag in "" --allow-unsigned; do
    local args=(${flag:+"$flag"})
    expect_exit 3 mlp -C tgt import "$archive" "${args[@]}"
    grep -qiE -- "$pattern" "$ERR" || fail "import $flag of $archive: not /$pattern/: $(cat "$ERR")"
    expect_eq "$(store_state tgt)" "$before" "store after importing $archive $flag"
    [[ -z $(ls -A tgt/.mlpack/tmp) ]] || fail "import of $archive left temp files"
    expect_exit 3 mlp verify "$archive" "${args[@]}"
    grep -qiE -- "$pattern" "$ERR" || fail "verify $flag of $archive: not /$pattern/: $(cat "$ERR")"
    expect_exit 3 mlp unpack "$archive" -d "$TMP/unpacked" "${args[@]}"
    expect_no_path "$TMP/unpacked"
    expect_exit 3 mlp -C tgt path "$archive" "${args[@]}"
    [[ -z $(ls -A tgt/.mlpack/cache 2>/dev/null) ]] || fail "path of $archive filled the cache"
  done
  expect_exit 4 mlp -C tgt inspect iris:v1
}

step "tampered archives are refused (exit 3) and change nothing"
mkdir tx
tar xf v1.mlpack -C tx
tar xOf v2.mlpack manifest.yaml.minisig >tx/v2.minisig
"$PY" - tx <<'EOF'
import os, sys
d = sys.argv[1]
def rd(n): return open(os.path.join(d, n), "rb").read()
def wr(n, b): open(os.path.join(d, n), "wb").write(b)
m = rd("manifest.yaml")
i = m.index(b"a test model") + len(b"a test mode")
wr("manifest-byte", m[:i] + b"m" + m[i + 1:])
b = rd("files/model.joblib")
wr("blob-byte", b[:-1] + bytes([b[-1] ^ 1]))
s = rd("manifest.yaml.minisig")
assert s.count(b"artifact:iris:v1") == 1
wr("comment", s.replace(b"artifact:iris:v1", b"artifact:iris:v7"))
wr("comment-timestamp", s.replace(b"trusted comment: timestamp:1", b"trusted comment: timestamp:2"))
lines = s.splitlines(keepends=True)
wr("sig-two-lines", b"".join(lines[:2]))
wr("sig-cut", s[:-11])
wr("sig-empty", b"")
EOF
expect_eq "$(cmp -l tx/manifest.yaml tx/manifest-byte | wc -l)" "1" "bytes changed in the manifest"
expect_eq "$(cmp -l tx/files/model.joblib tx/blob-byte | wc -l)" "1" "bytes changed in the blob"
cmp -s tx/manifest.yaml.minisig tx/comment-timestamp && fail "the timestamp edit changed nothing"
retar v1.mlpack t-manifest.mlpack manifest.yaml=tx/manifest-byte
retar v1.mlpack t-blob.mlpack files/model.joblib=tx/blob-byte
retar v1.mlpack t-comment.mlpack manifest.yaml.minisig=tx/comment
retar v1.mlpack t-timestamp.mlpack manifest.yaml.minisig=tx/comment-timestamp
retar v1.mlpack t-swapped.mlpack manifest.yaml.minisig=tx/v2.minisig
retar v1.mlpack t-sig-two-lines.mlpack manifest.yaml.minisig=tx/sig-two-lines
retar v1.mlpack t-sig-cut.mlpack manifest.yaml.minisig=tx/sig-cut
retar v1.mlpack t-sig-empty.mlpack manifest.yaml.minisig=tx/sig-empty
# The untouched rebuild is accepted: only the tampering is refused.
retar v1.mlpack t-none.mlpack
ok mlp verify t-none.mlpack
check_tampered t-manifest.mlpack "signature verification failed"
check_tampered t-blob.mlpack "digest mismatch"
check_tampered t-comment.mlpack "trusted comment"
check_tampered t-timestamp.mlpack "trusted comment"
check_tampered t-swapped.mlpack "signature verification failed"
check_tampered t-sig-two-lines.mlpack "truncated|malformed"
check_tampered t-sig-cut.mlpack "truncated|malformed"
check_tampered t-sig-empty.mlpack "truncated|malformed"
ms -Vm tx/manifest.yaml -x tx/comment -p "$KEYS/default.key.pub" >/dev/null &&
  fail "minisign accepted the edited trusted comment"

step "tampering in the store: verify REF exits 3 and changes nothing"
# check_store_tamper NAME PATTERN : the copy repo-NAME is already tampered.
check_store_tamper() {
  local r="$TMP/repo-$1" pattern=$2 before
  before=$(store_state "$r")
  expect_exit 3 mlp -C "$r" verify iris:v1
  grep -qiE -- "$pattern" "$ERR" || fail "verify in repo-$1: not /$pattern/: $(cat "$ERR")"
  expect_exit 3 mlp -C "$r" verify iris:v1 --allow-unsigned
  expect_eq "$(store_state "$r")" "$before" "repo-$1 after verify"
  ok mlp -C "$r" verify iris:v2
}
for t in blob manifest comment swapped truncated; do cp -a repo "repo-$t"; done
obj=$(manifest_obj repo-blob "$blob")
chmod u+w "$obj"
"$PY" -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[0] ^= 1; open(p, "wb").write(b)' "$obj"
obj=$(manifest_obj repo-manifest "$d1")
chmod u+w "$obj"
"$PY" -c 'import sys; p = sys.argv[1]; b = open(p, "rb").read(); open(p, "wb").write(b.replace(b"a test model", b"a test modem", 1))' "$obj"
cp tx/comment "$(sig_path repo-comment "$d1" iris/v1)"
cp "$(sig_path repo "$d2" iris/v2)" "$(sig_path repo-swapped "$d1" iris/v1)"
cp tx/sig-two-lines "$(sig_path repo-truncated "$d1" iris/v1)"
check_store_tamper blob "corrupt in the store \(digest mismatch\)"
# A manifest is addressed by its digest: the change is caught before the signature.
check_store_tamper manifest "manifest sha256:[0-9a-f]+ is corrupt \(digest mismatch\)"
check_store_tamper comment "trusted comment"
check_store_tamper swapped "signature verification failed"
check_store_tamper truncated "truncated|malformed"

step "an unsigned archive is refused, and let in with --allow-unsigned and a warning"
new_repo r-unsigned
before=$(store_state r-unsigned)
expect_exit 3 mlp -C r-unsigned import unsigned.mlpack
expect_contains "$ERR" "unsigned"
expect_contains "$ERR" "--allow-unsigned"
expect_eq "$(store_state r-unsigned)" "$before" "store after refusing an unsigned archive"
expect_exit 3 mlp verify unsigned.mlpack
expect_exit 3 mlp unpack unsigned.mlpack -d "$TMP/unpacked"
expect_no_path "$TMP/unpacked"
expect_exit 3 mlp -C r-unsigned path unsigned.mlpack
ok mlp -C r-unsigned import unsigned.mlpack --allow-unsigned --json
expect_contains "$ERR" "warning"
expect_contains "$ERR" "--allow-unsigned"
expect_eq "$(json "$OUT" 'd["name"] + ":" + d["version"] + " " + str(d["signed"])')" "handmade:v1 False" \
  "import --allow-unsigned --json"
ok mlp verify unsigned.mlpack --allow-unsigned --json
expect_contains "$ERR" "warning"
expect_eq "$(json "$OUT" 'd["signed"], d["verified"]')" "[false, true]" "verify --allow-unsigned --json"
ok mlp unpack unsigned.mlpack -d unsigned-out --allow-unsigned
expect_contains "$ERR" "warning"
cmp unsigned-out/model.joblib m3/model.joblib || fail "unpack --allow-unsigned"
ok mlp -C r-unsigned path unsigned.mlpack --allow-unsigned
expect_contains "$ERR" "warning"
cmp "$(cat "$OUT")/model.joblib" m3/model.joblib || fail "path --allow-unsigned"
# Once cached, the archive is still refused without the flag: never silent.
expect_exit 3 mlp -C r-unsigned path unsigned.mlpack
expect_contains "$ERR" "unsigned"

step "an untrusted key: import, verify and unpack refuse (exit 3), nothing changes"
new_repo r-cache
ok mlp -C r-cache path v1.mlpack
ok mlp key untrust "$default_id"
expect_no_path "$TRUSTED/$default_id.pub"
before=$(store_state tgt)
expect_exit 3 mlp -C tgt import v1.mlpack
expect_contains "$ERR" "do not trust"
expect_contains "$ERR" "$default_id"
expect_eq "$(store_state tgt)" "$before" "store after importing with an untrusted key"
expect_exit 3 mlp verify v1.mlpack
expect_exit 3 mlp unpack v1.mlpack -d "$TMP/unpacked"
expect_no_path "$TMP/unpacked"
expect_exit 3 mlp -C tgt path v1.mlpack
[[ -z $(ls -A tgt/.mlpack/cache 2>/dev/null) ]] || fail "path of an untrusted archive filled the cache"
# Also when its files are already cached from when the key was trusted.
expect_exit 3 mlp -C r-cache path v1.mlpack
expect_contains "$ERR" "do not trust"
repo_before=$(store_state repo)
expect_exit 3 mlp verify iris:v1
expect_contains "$ERR" "do not trust"
expect_eq "$(store_state repo)" "$repo_before" "store after verify with an untrusted key"
# --allow-unsigned lets it through, out loud.
ok mlp verify v1.mlpack --allow-unsigned --json
expect_contains "$ERR" "do not trust"
expect_eq "$(json "$OUT" 'd["signed"]')" "false" "verify --allow-unsigned of an untrusted archive"
# Trusting it again restores everything.
ok mlp key trust "$KEYS/default.key.pub"
ok mlp -C tgt import v1.mlpack
ok mlp verify iris:v1
ok mlp -C r-cache path v1.mlpack
# A cached artifact does not excuse a bad signature on another copy of it.
for t in t-comment t-swapped t-sig-empty; do
  expect_exit 3 mlp -C r-cache path "$t.mlpack"
done

###############################################################################
step "secret keys readable by group or others are refused (--key and MLPACK_SIGNING_KEY)"
cp mw.key perm.key
before=$(store_state repo)
for mode in 644 640 604; do
  chmod "$mode" perm.key
  expect_exit 2 mlp pack m --key perm.key -t perm:v1
  expect_contains "$ERR" "chmod 600"
  expect_contains "$ERR" "perm.key"
  MLPACK_SIGNING_KEY=$TMP/perm.key expect_exit 2 mlp pack m -t perm:v1
  expect_contains "$ERR" "chmod 600"
  MLPACK_SIGNING_KEY=$TMP/perm.key expect_exit 2 mlp tag iris:v1 perm:t1
  expect_contains "$ERR" "chmod 600"
done
expect_exit 2 mlp pack m --key mw.key --no-sign -t perm:v1
expect_eq "$(store_state repo)" "$before" "store after refused keys"
chmod 644 "$KEYS/default.key"
expect_exit 2 mlp pack m -t perm:v1
expect_contains "$ERR" "chmod 600"
chmod 600 "$KEYS/default.key"
expect_eq "$(store_state repo)" "$before" "store after a refused default key"
for mode in 600 400; do
  chmod "$mode" perm.key
  ok mlp pack m --key perm.key -t "perm:flag-$mode" --json
  expect_eq "$(sig_key_id "$(sig_path repo "$(digest_of "$OUT")" "perm/flag-$mode")")" "$mw_id" "key of perm:flag-$mode"
  MLPACK_SIGNING_KEY=$TMP/perm.key ok mlp pack m -t "perm:env-$mode" --json
  expect_eq "$(sig_key_id "$(sig_path repo "$(digest_of "$OUT")" "perm/env-$mode")")" "$mw_id" "key of perm:env-$mode"
done

step "MLPACK_SIGNING_KEY_DATA signs with a key that is in no file"
ok mlp key generate -o data.key --no-password --json
data_id=$(json "$OUT" 'd["key_id"]')
data=$(cat data.key)
rm data.key
MLPACK_SIGNING_KEY_DATA=$data ok mlp -v pack m -t data:v1 --json
dd=$(digest_of "$OUT")
expect_contains "$ERR" "MLPACK_SIGNING_KEY_DATA"
expect_eq "$(sig_key_id "$(sig_path repo "$dd" data/v1)")" "$data_id" "key of data:v1"
ms -Vm "$(manifest_obj repo "$dd")" -x "$(sig_path repo "$dd" data/v1)" -p data.key.pub >ms.out ||
  fail "minisign -V of data:v1: $(cat ms.out)"
step "--key wins over MLPACK_SIGNING_KEY, which wins over MLPACK_SIGNING_KEY_DATA"
MLPACK_SIGNING_KEY=$TMP/mw.key MLPACK_SIGNING_KEY_DATA=$data ok mlp pack m --key gen-plain.key -t prec:v1 --json
expect_eq "$(sig_key_id "$(sig_path repo "$(digest_of "$OUT")" prec/v1)")" "$gp_id" "key with --key"
MLPACK_SIGNING_KEY=$TMP/mw.key MLPACK_SIGNING_KEY_DATA=$data ok mlp pack m -t prec:v2 --json
expect_eq "$(sig_key_id "$(sig_path repo "$(digest_of "$OUT")" prec/v2)")" "$mw_id" "key with MLPACK_SIGNING_KEY"
step "a key's contents where its path belongs are refused without being echoed"
before=$(store_state repo)
MLPACK_SIGNING_KEY=$data expect_exit 2 mlp pack m -t prec:v3
expect_contains "$ERR" "MLPACK_SIGNING_KEY_DATA"
expect_exit 2 mlp pack m -t prec:v3 --key "$(sed -n 2p mw.key)"
expect_eq "$(store_state repo)" "$before" "store after key contents given as a path"

###############################################################################
step "key generate refuses to overwrite (exit 5) and keeps the old key byte for byte"
gp_sha=$(sha256 gen-plain.key)
gp_pub_sha=$(sha256 gen-plain.key.pub)
expect_exit 5 mlp key generate --output gen-plain.key --no-password
expect_eq "$(sha256 gen-plain.key) $(sha256 gen-plain.key.pub)" "$gp_sha $gp_pub_sha" "gen-plain.key after a refused generate"
expect_exit 5 mlp key generate --no-password
expect_eq "$(sha256 "$KEYS/default.key")" "$default_sha" "default key after a refused generate"
# key generate without --output makes the default key, private and trusted,
# like the first pack does.
XDG_CONFIG_HOME=$TMP/fresh ok mlp key generate --no-password --json
fresh_id=$(json "$OUT" 'd["key_id"]')
expect_eq "$(json "$OUT" 'd["trusted"], d["encrypted"]')" "[true, false]" "key generate of the default key"
expect_eq "$(stat -c %a "$TMP/fresh/mlpack/keys") $(stat -c %a "$TMP/fresh/mlpack/keys/default.key")" "700 600"   "modes of a generated default key and its folder"
expect_file "$TMP/fresh/mlpack/trusted/$fresh_id.pub"
# Only the public half in the way is enough to refuse.
cp mk.pub lonely.key.pub
expect_exit 5 mlp key generate --output lonely.key --no-password
expect_no_path lonely.key
expect_exit 2 mlp key generate --output both.key --password-stdin --no-password </dev/null
expect_no_path both.key
expect_no_path both.key.pub
expect_exit 2 mlp key generate --output nopw.key </dev/null
expect_no_path nopw.key

step "key list --json, key untrust"
ok mlp key list --json
"$PY" - "$OUT" "$default_id" "$mw_id" "$me_id" "$mk_id" <<'EOF' || fail "key list --json: $(cat "$OUT")"
import json, sys
d = json.load(open(sys.argv[1]))
keys = {k["key_id"]: k for k in d["keys"]}
default, *others = sys.argv[2:]
assert set(keys) == {default, *others}, keys
assert keys[default]["trusted"] is True and keys[default]["default"] is True, keys[default]
for k in others:
    assert keys[k]["trusted"] is True and keys[k]["default"] is False, keys[k]
EOF
ok mlp key list
expect_contains "$OUT" "$mk_id"
expect_exit 4 mlp key untrust 0123456789ABCDEF
expect_contains "$ERR" "not trusted"
expect_exit 2 mlp key untrust not-a-key-id
expect_exit 4 mlp key untrust "${mk_id:0:15}"  # read as a short id (minisign drops leading zeros): not trusted
expect_exit 2 mlp key untrust "${mk_id}00"
ok mlp key untrust "${mk_id,,}"
expect_no_path "$TRUSTED/$mk_id.pub"
expect_exit 4 mlp key untrust "$mk_id"
ok mlp key list --json
expect_eq "$(json "$OUT" 'sorted(k["key_id"] for k in d["keys"])')" \
  "$("$PY" -c 'import json, sys; print(json.dumps(sorted(sys.argv[1:])))' "$default_id" "$mw_id" "$me_id")" \
  "trusted keys after untrust"
expect_exit 3 mlp verify handmade.mlpack
expect_exit 2 mlp key trust mw.key
expect_exit 4 mlp key trust nothing.pub

###############################################################################
step "no secret key material and no password in any output (verbose included)"
ok mlp -v verify iris:v1
ok mlp -v export iris:v1 -o verbose.mlpack
ok mlp -v -C tgt import verbose.mlpack
ok mlp -v pack m --key mw.key -t verbose:v1
MLPACK_SIGNING_KEY_DATA=$data ok mlp -v tag verbose:v1 verbose:v2
ok mlp -v key list --json
printf '%s\n' "$data" >data-copy.key
[[ $(wc -c <"$LOG") -gt 10000 ]] || fail "the log is too small to mean anything: $(wc -c <"$LOG") bytes"
expect_contains "$LOG" "$default_id"
# find_secrets LOG... : every 24-character stretch of each secret key line
# that covers secret bytes (the seed and checksum; all of keynum_sk when
# encrypted), the whole line, and the passwords, searched for in the logs.
# The public key and the constant header are in the line too and may appear
# (key list --json prints the public key).
find_secrets() {
  "$PY" - "$PW1" "$PW2" "$@" -- "$KEYS/default.key" mw.key me.key mk.key perm.key gen-plain.key \
    gen-enc.key data-copy.key "$TMP/fresh/mlpack/keys/default.key" <<'EOF'
import base64, sys
args = sys.argv[1:]
sep = args.index("--")
passwords, logs, keys = args[:2], args[2:sep], args[sep + 1:]
text = "".join(open(p, encoding="latin-1").read() for p in logs)
found = []
for key in keys:
    line = open(key).read().splitlines()[1].strip()
    raw = base64.b64decode(line)
    assert len(raw) == 158, (key, len(raw))
    encrypted = raw[2:4] == b"Sc"
    secret = set(range(54, 158)) if encrypted else set(range(62, 94)) | set(range(126, 158))
    # The public key line ("Ed", key id, public key): a stretch that is also
    # in it is public, whatever secret bits its edge characters straddle.
    public = "" if encrypted else base64.b64encode(b"Ed" + raw[54:62] + raw[94:126]).decode()
    if line in text:
        found.append(f"{key}: the whole secret key line")
    for s in range(len(line) - 23):
        covered = set(range(6 * s // 8, (6 * (s + 24) - 1) // 8 + 1))
        window = line[s:s + 24]
        if covered & secret and window not in public and window in text:
            found.append(f"{key}: characters {s}..{s + 23} of its secret line")
            break
for pw in passwords:
    if pw in text:
        found.append(f"password {pw[:3]}...")
if found:
    print("\n".join(found))
    sys.exit(1)
EOF
}
# The check finds what it looks for.
sed -n 2p mk.key | cut -c 90-113 >planted.log
if find_secrets planted.log >/dev/null; then fail "find_secrets misses a planted secret"; fi
printf '%s\n' "$PW2" >planted.log
if find_secrets planted.log >/dev/null; then fail "find_secrets misses a planted password"; fi
find_secrets "$LOG" >leaks.txt || fail "secret material in the output: $(cat leaks.txt)"
# Nor in any repository: signatures and config hold only public material.
find "$TMP" -path '*/.mlpack/*' -type f -print0 | xargs -0 cat >stores.bin
find_secrets stores.bin >leaks.txt || fail "secret material in a repository: $(cat leaks.txt)"

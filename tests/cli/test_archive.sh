# export, import and unpack of well-formed archives: determinism, plain-tar
# readability, round trips, conflicts and role filters.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

new_repo repo
export MLPACK_DIR="$TMP/repo"
make_model m1 iris v1
mkdir -p m1/assets/nested
printf 'vocab\n' >m1/assets/nested/vocab.txt
printf 'print("serve")\n' >m1/serve.py
cat >>m1/mlpack.yaml <<'EOF'
files:
  - {path: serve.py, role: code}
  - {path: assets, role: data}
EOF
SOURCE_DATE_EPOCH=1700000000 ok mlp pack m1 --json
d1=$(digest_of "$OUT")
manifest_obj="repo/.mlpack/objects/sha256/${d1:0:2}/$d1"
files=(assets/nested/vocab.txt metrics.json model.joblib params.yaml preprocessing.yaml serve.py)

step "export is deterministic"
ok mlp export iris:v1 -o a1.mlpack --json
expect_eq "$(json "$OUT" 'd["digest"]')" "sha256:$d1" "export --json digest"
expect_eq "$(json "$OUT" 'd["compression"]')" "none" "export --json compression"
expect_eq "$(json "$OUT" 'd["signed"]')" "true" "export --json signed"
expect_eq "$(json "$OUT" 'd["size"]')" "$(stat -c %s a1.mlpack)" "export --json size"
sleep 1.1  # nothing of the wall clock may leak into the archive
ok mlp export "sha256:${d1:0:12}" -o a2.mlpack
cmp a1.mlpack a2.mlpack || fail "two exports differ"
step "export --zstd is deterministic and holds the same tar"
ok mlp export iris:v1 -o z1.mlpack --zstd --json
expect_eq "$(json "$OUT" 'd["compression"]')" "zstd" "export --json compression"
ok mlp export iris:v1 -o z2.mlpack --zstd
cmp z1.mlpack z2.mlpack || fail "two zstd exports differ"
[[ $(head -c 4 z1.mlpack | od -An -tx1 | tr -d ' ') == 28b52ffd ]] || fail "z1.mlpack is not zstd"
zstd -dcq z1.mlpack | cmp - a1.mlpack || fail "the zstd export does not hold the plain export's bytes"
step "exporting over an existing file replaces it"
echo junk >a3.mlpack
ok mlp export iris:v1 -o a3.mlpack
cmp a1.mlpack a3.mlpack || fail "export over an existing file"
[[ -z $(find . -maxdepth 1 -name '.a*.tmp-*') ]] || fail "export left a temp file"

step "plain tar lists manifest.yaml, then its signature, then files/ in manifest order"
tar tf a1.mlpack >listing
expect_eq "$(sed -n 2p listing)" "manifest.yaml.minisig" "second tar entry"
expected=manifest.yaml$'\n'manifest.yaml.minisig$'\n'
for f in "${files[@]}"; do expected+="files/$f"$'\n'; done
expect_eq "$(cat listing)" "${expected%$'\n'}" "tar listing"
tar --zstd -tf z1.mlpack | cmp - listing || fail "tar listing of the zstd export differs"
step "plain tar extracts the manifest and files byte for byte"
mkdir x && tar xf a1.mlpack -C x
cmp x/manifest.yaml "$manifest_obj" || fail "manifest.yaml in the archive is not the manifest"
cmp x/manifest.yaml.minisig "repo/.mlpack/signatures/$d1/iris/v1.minisig" ||
  fail "manifest.yaml.minisig in the archive is not the stored signature"
for f in "${files[@]}"; do
  src=m1/$f
  cmp "x/files/$f" "$src" || fail "files/$f differs from $src"
done
step "tar headers: regular files, uid/gid 0, fixed mode, mtime = created"
"$PY" - a1.mlpack <<'EOF' || fail "tar headers are not normalised"
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        assert m.isreg(), (m.name, m.type)
        assert (m.uid, m.gid) == (0, 0), (m.name, m.uid, m.gid)
        assert m.mode == 0o644, (m.name, oct(m.mode))
        assert m.mtime == 1700000000, (m.name, m.mtime)
        assert m.uname in ("", "root") and m.gname in ("", "root"), (m.uname, m.gname)
EOF

step "import into a fresh repo gives the same digest, and exports the same bytes"
new_repo r2
ok mlp -C r2 import a1.mlpack --json
expect_eq "$(digest_of "$OUT")" "$d1" "import --json digest"
expect_eq "$(json "$OUT" 'd["name"] + ":" + d["version"]')" "iris:v1" "import --json name"
expect_eq "$(json "$OUT" 'd["new"]')" "true" "import --json created"
ok mlp -C r2 inspect iris:v1 --json
expect_eq "$(digest_of "$OUT")" "$d1" "digest after import"
cmp "r2/.mlpack/objects/sha256/${d1:0:2}/$d1" "$manifest_obj" || fail "imported manifest differs"
ok mlp -C r2 fsck
ok mlp -C r2 export iris:v1 -o b1.mlpack
cmp a1.mlpack b1.mlpack || fail "export from another repository differs"
[[ -z $(ls -A r2/.mlpack/tmp) ]] || fail "import left temp files: $(ls -A r2/.mlpack/tmp)"
step "importing again is a no-op"
before=$(store_state r2)
ok mlp -C r2 import a1.mlpack --json
expect_eq "$(json "$OUT" 'd["new"]')" "false" "import --json created on a repeat"
expect_eq "$(store_state r2)" "$before" "store after a repeated import"
step "import of a zstd archive"
new_repo r3
ok mlp -C r3 import z1.mlpack --json
expect_eq "$(digest_of "$OUT")" "$d1" "digest of a zstd import"
ok mlp -C r3 fsck

step "import of a version that exists with other content exits 5, store unchanged"
new_repo r4
make_model other iris v1 different
ok mlp -C r4 pack other
before=$(store_state r4)
expect_exit 5 mlp -C r4 import a1.mlpack
expect_contains "$ERR" "iris:v1"
expect_eq "$(store_state r4)" "$before" "store after a refused import"
[[ -z $(ls -A r4/.mlpack/tmp) ]] || fail "a refused import left temp files"

step "unpack writes every file, byte for byte"
ok mlp unpack iris:v1 -d out --json
expect_eq "$(json "$OUT" 'd["files"]')" "$(printf '%s\n' "${files[@]}" | "$PY" -c 'import json,sys; print(json.dumps(sys.stdin.read().split()))')" \
  "unpack --json files"
(cd m1 && sha256sum "${files[@]}") >want.sha
(cd out && sha256sum -c --quiet ../want.sha) || fail "unpacked files do not match"
expect_eq "$(cd out && find . -type f | sort | sed 's|^\./||' | tr '\n' ' ')" "${files[*]} " \
  "unpacked file list"
[[ -z $(find out -name '.mlpack-tmp-*') ]] || fail "unpack left temp files"
step "unpack --role model writes only the model"
ok mlp unpack iris:v1 -d only-model --role model
expect_eq "$(cd only-model && find . -type f | sort | tr '\n' ' ')" "./model.joblib " "unpack --role model"
cmp only-model/model.joblib m1/model.joblib || fail "model differs"
ok mlp unpack iris:v1 -d two-roles --role model --role code
expect_eq "$(cd two-roles && find . -type f | sort | tr '\n' ' ')" "./model.joblib ./serve.py " \
  "unpack --role model --role code"
step "unpack directly from an archive file, plain and zstd"
for a in a1.mlpack z1.mlpack; do
  ok mlp unpack "$TMP/$a" -d "from-$a"
  (cd "from-$a" && sha256sum -c --quiet ../want.sha) || fail "files unpacked from $a do not match"
done
ok mlp unpack a1.mlpack -d from-archive-model --role model
expect_eq "$(cd from-archive-model && find . -type f | tr '\n' ' ')" "./model.joblib " \
  "unpack --role model from an archive"
step "unpack from an archive needs no repository"
mkdir norepo
(cd norepo && env -u MLPACK_DIR "$MLPACK" unpack ../a1.mlpack -d out >/dev/null 2>"$ERR") ||
  fail "unpack of an archive outside a repository: $(cat "$ERR")"
(cd norepo/out && sha256sum -c --quiet ../../want.sha) || fail "files unpacked outside a repository"
step "unpack into a folder that already has other files keeps them"
mkdir keep && echo mine >keep/mine.txt
ok mlp unpack iris:v1 -d keep --role model
expect_eq "$(cat keep/mine.txt)" "mine" "an unrelated file in the target"
expect_file keep/model.joblib
step "unpack refuses a folder where a file goes"
mkdir -p clash/model.joblib
expect_exit 3 mlp unpack iris:v1 -d clash
[[ -d clash/model.joblib ]] || fail "the folder in the way was replaced"

step "non-ASCII names, spaces, leading dashes and empty files survive the round trip"
mkdir -p "odd/sub dir/ü"
printf 'x' >"odd/sub dir/ü/wé ird.txt"
: >odd/empty.bin
printf 'y' >odd/-dash.bin
ok mlp pack --model odd --no-preprocessing -t odd:v1 --json
dodd=$(digest_of "$OUT")
expect_eq "$(json "$OUT" '[f["path"] for f in d["files"]]')" \
  '["odd/-dash.bin", "odd/empty.bin", "odd/sub dir/\u00fc/w\u00e9 ird.txt"]' "odd paths"
LC_ALL=C ok mlp export odd:v1 -o odd1.mlpack
LC_ALL=C.UTF-8 ok mlp export odd:v1 -o odd2.mlpack
cmp odd1.mlpack odd2.mlpack || fail "the export depends on the locale"
"$PY" - odd1.mlpack <<'EOF2' || fail "tar names of odd paths"
import sys, tarfile
with tarfile.open(sys.argv[1], encoding="utf-8") as t:
    names = t.getnames()
assert names == ["manifest.yaml", "manifest.yaml.minisig", "files/odd/-dash.bin", "files/odd/empty.bin",
                 "files/odd/sub dir/\u00fc/w\u00e9 ird.txt"], names
EOF2
new_repo r5
ok mlp -C r5 import odd1.mlpack --json
expect_eq "$(digest_of "$OUT")" "$dodd" "digest of the odd import"
ok mlp -C r5 fsck
ok mlp -C r5 unpack odd:v1 -d odd-out1
ok mlp unpack odd1.mlpack -d odd-out2
for o in odd-out1 odd-out2; do
  diff -r odd "$o/odd" || fail "$o differs from the packed folder"
  [[ -f $o/odd/empty.bin && ! -s $o/odd/empty.bin ]] || fail "$o lost the empty file"
done

step "export and import errors"
expect_exit 2 mlp export a1.mlpack -o again.mlpack
expect_exit 4 mlp import nothing.mlpack
expect_exit 4 mlp -C r2 import "$TMP/nothing.mlpack"
expect_exit 2 mlp export iris:v1

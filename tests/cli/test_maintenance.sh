# gc and fsck: what gc removes and keeps, --dry-run, and every kind of damage
# fsck must report.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

new_repo repo
export MLPACK_DIR="$TMP/repo"
objects=repo/.mlpack/objects/sha256
obj() { echo "$objects/${1:0:2}/$1"; }

make_model m1 iris v1
make_model m2 iris v2 second   # shares every file but the model with v1
ok mlp pack m1 --json
d1=$(digest_of "$OUT")
ok mlp pack m2 --json
d2=$(digest_of "$OUT")
model1=$(sha256 m1/model.joblib)
model2=$(sha256 m2/model.joblib)
pre=$(sha256 m1/preprocessing.yaml)
# 2 manifests + 2 models + preprocessing, metrics, params shared.
reachable=7
expect_eq "$(find "$objects" -type f | wc -l)" "$reachable" "objects after two packs"

step "fsck on a clean repository"
ok mlp fsck
expect_contains "$OUT" "ok"
ok mlp fsck --json
expect_eq "$(json "$OUT" 'd["ok"]')" "true" "fsck --json ok"
expect_eq "$(json "$OUT" 'd["objects_checked"]')" "$reachable" "fsck --json objects_checked"
expect_eq "$(json "$OUT" 'd["refs_checked"]')" "2" "fsck --json refs_checked"
expect_eq "$(json "$OUT" 'd["problems"]')" "[]" "fsck --json problems"

step "gc on a clean repository removes nothing"
before=$(store_state repo)
ok mlp gc --json
expect_eq "$(json "$OUT" 'd["objects_removed"]')" "0" "gc objects_removed"
expect_eq "$(json "$OUT" 'd["objects_kept"]')" "$reachable" "gc objects_kept"
expect_eq "$(store_state repo)" "$before" "store after a gc with nothing to do"

# Garbage: an object no ref reaches (named by its true digest), a stray temp
# file, and an unpacked cache of an artifact that is gone.
plant_garbage() {
  printf 'garbage %s' "$1" >garbage
  garbage=$(sha256 garbage)
  mkdir -p "$objects/${garbage:0:2}"
  cp garbage "$(obj "$garbage")"
  echo partial >repo/.mlpack/tmp/obj-stray
  mkdir -p "repo/.mlpack/cache/$garbage"
  echo x >"repo/.mlpack/cache/$garbage/file"
}

step "gc --dry-run reports but removes nothing"
plant_garbage 1
before=$(store_state repo)
ok mlp gc --dry-run --json
expect_eq "$(json "$OUT" 'd["dry_run"]')" "true" "gc --json dry_run"
expect_eq "$(json "$OUT" 'd["objects_removed"]')" "1" "gc --dry-run objects_removed"
expect_eq "$(json "$OUT" 'd["bytes_removed"]')" "$(stat -c %s garbage)" "gc --dry-run bytes_removed"
expect_eq "$(json "$OUT" 'd["temp_files_removed"]')" "1" "gc --dry-run temp_files_removed"
expect_eq "$(store_state repo)" "$before" "store after gc --dry-run"
expect_file "$(obj "$garbage")"
expect_file repo/.mlpack/tmp/obj-stray
expect_file "repo/.mlpack/cache/$garbage/file"
ok mlp gc -n
expect_contains "$OUT" "would remove 1 objects"
expect_file "$(obj "$garbage")"

step "gc removes the unreachable object, the temp file and the stale cache"
ok mlp path iris:v1 --role model   # a live cache entry, which gc keeps
live_cache=$(dirname "$(cat "$OUT")")
ok mlp gc --json
expect_eq "$(json "$OUT" 'd["dry_run"]')" "false" "gc --json dry_run"
expect_eq "$(json "$OUT" 'd["objects_removed"]')" "1" "gc objects_removed"
expect_eq "$(json "$OUT" 'd["objects_kept"]')" "$reachable" "gc objects_kept"
expect_no_path "$(obj "$garbage")"
expect_no_path repo/.mlpack/tmp/obj-stray
expect_no_path "repo/.mlpack/cache/$garbage"
[[ -d $live_cache ]] || fail "gc removed the cache of a live artifact"
step "gc keeps every reachable object"
for h in "$d1" "$d2" "$model1" "$model2" "$pre"; do expect_file "$(obj "$h")"; done
expect_eq "$(find "$objects" -type f | wc -l)" "$reachable" "objects after gc"
ok mlp fsck
for v in v1 v2; do
  ok mlp unpack "iris:$v" -d "out-$v"
  cmp "out-$v/model.joblib" "m${v#v}/model.joblib" || fail "iris:$v unpacks wrong after gc"
done
step "gc keeps what a tag made with mlpack tag reaches"
ok mlp tag iris:v1 other:v1
ok mlp gc --json
expect_eq "$(json "$OUT" 'd["objects_removed"]')" "0" "gc after a tag"
ok mlp fsck
step "a second gc has nothing to do"
ok mlp gc --json
expect_eq "$(json "$OUT" 'd["objects_removed"]') $(json "$OUT" 'd["temp_files_removed"]')" "0 0" "second gc"

# flip_byte FILE OFFSET : XOR one byte in place.
flip_byte() {
  chmod u+w "$1"
  "$PY" - "$1" "$2" <<'EOF'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0x01]))
EOF
}

# fsck_kinds : the problem kinds and objects of the last fsck --json, sorted.
fsck_problems() { json "$OUT" '" ".join(sorted(p["kind"] + ":" + p["object"] for p in d["problems"]))'; }

step "fsck finds a corrupted blob (one flipped byte)"
cp "$(obj "$model1")" model1.bak
flip_byte "$(obj "$model1")" 5
expect_exit 3 mlp fsck
expect_contains "$OUT" "corrupt-object"
expect_exit 3 mlp fsck --json
expect_eq "$(json "$OUT" 'd["ok"]')" "false" "fsck --json ok with a corrupt blob"
expect_eq "$(fsck_problems)" "corrupt-object:$model1" "fsck problems with a corrupt blob"
step "a corrupted blob is never handed out"
expect_exit 3 mlp unpack iris:v1 -d corrupt-out
expect_no_path corrupt-out/model.joblib
expect_exit 3 mlp export iris:v1 -o corrupt.mlpack
expect_no_path corrupt.mlpack
ok mlp unpack iris:v2 -d v2-ok   # the other version does not share the model
step "gc does not remove a corrupt but reachable blob"
ok mlp gc
expect_file "$(obj "$model1")"
cp model1.bak "$(obj "$model1")"
ok mlp fsck

step "fsck finds a truncated blob"
truncate -s 10 "$(obj "$pre")"
expect_exit 3 mlp fsck --json
expect_contains "$OUT" "corrupt-object"
expect_contains "$OUT" "$pre"
cp m1/preprocessing.yaml "$(obj "$pre")"
ok mlp fsck

step "fsck finds a deleted blob"
rm "$(obj "$model2")"
expect_exit 3 mlp fsck --json
expect_eq "$(fsck_problems)" "missing-object:$model2" "fsck problems with a missing blob"
expect_contains "$OUT" "iris:v2"
expect_fail mlp unpack iris:v2 -d missing-out
expect_no_path missing-out/model.joblib
cp m2/model.joblib "$(obj "$model2")"
ok mlp fsck

step "fsck finds a corrupted manifest"
cp "$(obj "$d2")" manifest2.bak
flip_byte "$(obj "$d2")" 20
expect_exit 3 mlp fsck --json
expect_contains "$OUT" "corrupt-object"
expect_contains "$OUT" "$d2"
expect_exit 3 mlp inspect iris:v2
before=$(store_state repo)
expect_fail mlp gc   # gc must not guess which blobs a damaged manifest needs
expect_eq "$(store_state repo)" "$before" "store after gc with a damaged manifest"
cp manifest2.bak "$(obj "$d2")"
ok mlp fsck

step "fsck finds a deleted manifest"
rm "$(obj "$d2")"
expect_exit 3 mlp fsck --json
expect_contains "$OUT" "missing-object"
expect_contains "$OUT" "$d2"
expect_exit 4 mlp inspect iris:v2
before=$(store_state repo)
expect_fail mlp gc
expect_eq "$(store_state repo)" "$before" "store after gc with a missing manifest"
for h in "$model1" "$model2" "$pre" "$d1"; do expect_file "$(obj "$h")"; done
cp manifest2.bak "$(obj "$d2")"
ok mlp fsck

step "fsck finds a corrupt ref, and it hides no other problem"
# "aaa" sorts before "iris": the refs after the corrupt one are still checked.
mkdir -p repo/.mlpack/refs/tags/aaa
echo "not a digest" >repo/.mlpack/refs/tags/aaa/v1
rm "$(obj "$model2")"
expect_exit 3 mlp fsck --json
expect_eq "$(json "$OUT" '" ".join(sorted(p["kind"] for p in d["problems"]))')" "bad-ref missing-object" \
  "fsck problems with a corrupt ref and a missing blob"
expect_contains "$OUT" "aaa"
expect_contains "$OUT" "$model2"
before=$(store_state repo)
expect_fail mlp gc   # a corrupt ref might have reached anything
expect_eq "$(store_state repo)" "$before" "store after gc with a corrupt ref"
rm -r repo/.mlpack/refs/tags/aaa
cp m2/model.joblib "$(obj "$model2")"
ok mlp fsck

step "fsck finds an object stored under the wrong name"
printf 'mislabelled' >"$(obj "$garbage")"
expect_exit 3 mlp fsck --json
expect_eq "$(fsck_problems)" "corrupt-object:$garbage" "fsck problems with a mislabelled object"
ok mlp gc
ok mlp fsck

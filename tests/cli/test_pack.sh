# mlpack pack: from a spec, from flags, model folders, extra files, --set,
# the preprocessing warning, immutable versions, reproducible manifests, the
# git commit, format detection, and every kind of bad input.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

new_repo repo
export MLPACK_DIR="$TMP/repo"

# manifest_of DIGEST [REPO] : the path of a manifest object.
object_path() { echo "${2:-$TMP/repo}/.mlpack/objects/sha256/${1:0:2}/$1"; }

step "pack from mlpack.yaml"
make_model m1
ok mlp pack m1 --json
expect_eq "$(json "$OUT" 'd["name"] + ":" + d["version"]')" "iris:v1" "packed name:version"
expect_eq "$(json "$OUT" 'd["new"]')" "true" "pack --json created"
d1=$(digest_of "$OUT")
[[ $d1 =~ ^[0-9a-f]{64}$ ]] || fail "digest is not 64 hex digits: $d1"
# The digest names the manifest object, and is its SHA-256.
expect_eq "$(sha256 "$(object_path "$d1")")" "$d1" "sha256 of the manifest object"
expect_eq "$(cat repo/.mlpack/refs/tags/iris/v1)" "sha256:$d1" "tag file"
ok mlp inspect iris:v1 --json
expect_eq "$(json "$OUT" '{f["path"]: f["role"] for f in d["manifest"]["files"]}')" \
  '{"metrics.json": "metadata", "model.joblib": "model", "params.yaml": "metadata", "preprocessing.yaml": "preprocessing"}' \
  "files and roles"
expect_eq "$(json "$OUT" 'd["manifest"]["metrics"]')" '{"accuracy": 0.9, "loss": 0.3}' "metrics"
expect_eq "$(json "$OUT" 'd["manifest"]["params"]')" '{"C": 1.0, "max_iter": 200}' "params"
expect_eq "$(json "$OUT" 'd["manifest"]["metric_goals"]')" '{"accuracy": "max", "loss": "min"}' "goals"
expect_eq "$(json "$OUT" 'd["manifest"]["model"]["framework"]')" "scikit-learn" "model.framework"
expect_eq "$(json "$OUT" 'd["manifest"]["preprocessing"]["input_schema"][0]["name"]')" "sepal_length" \
  "input_schema"
expect_eq "$(json "$OUT" 'd["manifest"]["description"]')" "a test model" "description"
# Every file's blob is in the store under its digest, with the source's bytes.
for f in model.joblib preprocessing.yaml metrics.json params.yaml; do
  h=$(sha256 "m1/$f")
  expect_eq "$(json "$OUT" "[f['sha256'] for f in d['manifest']['files'] if f['path'] == '$f'][0]")" "$h" \
    "sha256 of $f"
  cmp -s "m1/$f" "$(object_path "$h")" || fail "blob of $f differs from the source"
  expect_eq "$(json "$OUT" "[f['size'] for f in d['manifest']['files'] if f['path'] == '$f'][0]")" \
    "$(stat -c %s "m1/$f")" "size of $f"
done
# The manifest lists files sorted by path (DESIGN §3).
expect_eq "$(json "$OUT" '[f["path"] for f in d["manifest"]["files"]] == sorted(f["path"] for f in d["manifest"]["files"])')" \
  "true" "files sorted"
# Packing from inside the folder (DIR defaults to .) finds the same content.
(cd m1 && ok mlp pack --json)
expect_eq "$(digest_of "$OUT")" "$d1" "digest when packing from inside the folder"
# -f names another spec file.
cp m1/mlpack.yaml m1/other.yaml
sed -i 's/^version: v1/version: v1-other/' m1/other.yaml
ok mlp pack m1 -f other.yaml --json
expect_eq "$(json "$OUT" 'd["version"]')" "v1-other" "version from -f other.yaml"

step "pack from flags only"
mkdir flags
cp m1/model.joblib m1/preprocessing.yaml m1/metrics.json m1/params.yaml flags/
(cd flags && ok mlp pack --model model.joblib --preprocessing preprocessing.yaml \
  --metrics metrics.json --params params.yaml -t flags:v1 --json)
[[ ! -s $ERR ]] || fail "pack with --preprocessing printed on stderr: $(cat "$ERR")"
ok mlp inspect flags:v1 --json
expect_eq "$(json "$OUT" '{f["path"]: f["role"] for f in d["manifest"]["files"]}')" \
  '{"metrics.json": "metadata", "model.joblib": "model", "params.yaml": "metadata", "preprocessing.yaml": "preprocessing"}' \
  "files and roles from flags"
expect_eq "$(json "$OUT" 'd["manifest"]["metrics"]["accuracy"]')" "0.9" "metrics from --metrics"
expect_eq "$(json "$OUT" 'd["manifest"]["params"]["max_iter"]')" "200" "params from --params"
expect_eq "$(json "$OUT" 'd["manifest"]["preprocessing"]["path"]')" "preprocessing.yaml" "preprocessing.path"
expect_eq "$(json "$OUT" 'd["manifest"]["model"]["path"]')" "model.joblib" "model.path"
step "flags override the spec"
ok mlp pack m1 -t iris:v1-flags --set description=overridden --json
ok mlp inspect iris:v1-flags --json
expect_eq "$(json "$OUT" 'd["manifest"]["version"]')" "v1-flags" "version from -t"
expect_eq "$(json "$OUT" 'd["manifest"]["description"]')" "overridden" "description from --set"

step "model as a folder: nested files, all with role model"
mkdir -p fold/net/layers/deep fold/net/__pycache__
printf 'config' >fold/net/config.json
printf 'w1' >fold/net/layers/w1.bin
printf 'w2' >fold/net/layers/deep/w2.bin
printf 'cached' >fold/net/__pycache__/x.pyc
printf 'steps: []\n' >fold/pre.yaml
(cd fold && ok mlp pack --model net --preprocessing pre.yaml -t folder:v1 --json)
expect_eq "$(json "$OUT" '{f["path"]: f["role"] for f in d["files"]}')" \
  '{"net/config.json": "model", "net/layers/deep/w2.bin": "model", "net/layers/w1.bin": "model", "pre.yaml": "preprocessing"}' \
  "files of a model folder (no __pycache__)"
ok mlp inspect folder:v1 --json
expect_eq "$(json "$OUT" 'd["manifest"]["model"]["path"]')" "net" "model.path of a folder"

step "--file PATH:ROLE, guessed roles, colons in names"
mkdir extra
make_model extra extra v1
printf 'print(1)\n' >extra/serve.py
printf '# readme\n' >extra/README.md
printf 'a,b\n1,2\n' >extra/sample.csv
printf 'notes\n' >extra/odd:name.txt
printf 'flask\n' >extra/requirements.txt
(cd extra && ok mlp pack --file serve.py:code --file README.md --file sample.csv \
  --file 'odd:name.txt' --file requirements.txt --file README.md:docs --json)
expect_eq "$(json "$OUT" '{f["path"]: f["role"] for f in d["files"] if f["role"] not in ("model", "preprocessing", "metadata")}')" \
  '{"README.md": "docs", "odd:name.txt": "docs", "requirements.txt": "requirements", "sample.csv": "data", "serve.py": "code"}' \
  "roles of extra files"
step "--file with an explicit role overrides the guess"
(cd extra && ok mlp pack --file sample.csv:other -t extra:v2 --json)
expect_eq "$(json "$OUT" '[f["role"] for f in d["files"] if f["path"] == "sample.csv"]')" '["other"]' \
  "role of sample.csv:other"
step "the same path with two roles is refused"
(cd extra && expect_exit 2 mlp pack --file serve.py:code --file serve.py:docs -t extra:v3)
expect_contains "$ERR" "serve.py"
step "--file x:badrole is not a role, so x:badrole is the path: not found"
(cd extra && expect_exit 4 mlp pack --file serve.py:badrole -t extra:v4)
expect_contains "$ERR" "serve.py:badrole"
expect_no_path repo/.mlpack/refs/tags/extra/v4

step "--set metrics.accuracy=0.5 shows in inspect --json"
ok mlp pack m1 -t iris:v1-set --set metrics.accuracy=0.5 --set metadata.dataset.version=2024-12 \
  --set params.C=3
ok mlp inspect iris:v1-set --json
expect_eq "$(json "$OUT" 'd["manifest"]["metrics"]')" '{"accuracy": 0.5, "loss": 0.3}' "metrics after --set"
expect_eq "$(json "$OUT" 'd["manifest"]["metadata"]["dataset"]["version"]')" "2024-12" "metadata via --set"
expect_eq "$(json "$OUT" 'd["manifest"]["params"]["C"]')" "3" "params via --set"

step "no preprocessing: a warning, unless --no-preprocessing"
mkdir nopre
cp m1/model.joblib nopre/
(cd nopre && ok mlp pack --model model.joblib -t nopre:v1)
expect_contains "$ERR" "warning"
expect_contains "$ERR" "preprocessing"
expect_contains "$ERR" "--no-preprocessing"
[[ $(head -c 16 "$ERR") == "mlpack: warning:" ]] || fail "warning does not start 'mlpack: warning:': $(cat "$ERR")"
(cd nopre && ok mlp pack --model model.joblib -t nopre:v2 --no-preprocessing)
[[ ! -s $ERR ]] || fail "--no-preprocessing still printed: $(cat "$ERR")"
ok mlp list nopre --json
expect_eq "$(json "$OUT" '[a["version"] for a in d["artifacts"]]')" '["v1", "v2"]' "both packed"
step "-q silences the warning"
(cd nopre && ok mlp -q pack --model model.joblib -t nopre:v3)
[[ ! -s $ERR ]] || fail "-q still printed: $(cat "$ERR")"

step "repacking the same content: exit 0, same digest, even at another time"
SOURCE_DATE_EPOCH=1000 ok mlp pack m1 -t same:v1 --json
s1=$(digest_of "$OUT")
SOURCE_DATE_EPOCH=999999 ok mlp pack m1 -t same:v1 --json
expect_eq "$(digest_of "$OUT")" "$s1" "digest of a repack"
expect_eq "$(json "$OUT" 'd["new"]')" "false" "repack --json created"
ok mlp pack m1 -t same:v1
expect_contains "$OUT" "unchanged"
ok mlp inspect same:v1 --json
expect_eq "$(json "$OUT" 'd["manifest"]["created"]')" "1970-01-01T00:16:40Z" "first creation time is kept"

step "different content, same version: exit 5, store unchanged"
before=$(store_state repo)
make_model m1changed iris v1 changed
expect_exit 5 mlp pack m1changed
expect_contains "$ERR" "iris:v1"
expect_contains "$ERR" "${d1:0:12}"
expect_eq "$(store_state repo)" "$before" "store after a refused pack"
[[ -z $(ls -A repo/.mlpack/tmp) ]] || fail "a refused pack left temp files: $(ls -A repo/.mlpack/tmp)"
expect_eq "$(cat repo/.mlpack/refs/tags/iris/v1)" "sha256:$d1" "tag after a refused pack"
step "metadata-only change is a change too"
expect_exit 5 mlp pack m1 --set metrics.accuracy=0.1
expect_eq "$(store_state repo)" "$before" "store after a refused metadata change"

step "concurrent packs of one version with different content: one wins, the rest exit 5"
pids=()
for i in 1 2 3 4 5 6; do
  make_model "race$i" race v1 "racer $i"
  "$MLPACK" pack "race$i" >"race$i.out" 2>"race$i.err" &
  pids+=($!)
done
winners=0
for i in 1 2 3 4 5 6; do
  rc=0
  wait "${pids[$((i - 1))]}" || rc=$?
  case $rc in
    0) winners=$((winners + 1)); winner=$i ;;
    5) [[ $(wc -l <"race$i.err") -eq 1 ]] || fail "racer $i: stderr is not one line" ;;
    *) fail "racer $i exited $rc: $(cat "race$i.err")" ;;
  esac
done
expect_eq "$winners" "1" "racers that created race:v1"
ok mlp path race:v1 --role model
cmp -s "$(cat "$OUT")" "race$winner/model.joblib" || fail "race:v1 is not the winner's model"
ok mlp fsck

step "SOURCE_DATE_EPOCH pins created; fresh repos give byte-identical manifests"
new_repo r1
new_repo r2
make_model repro repro v1
SOURCE_DATE_EPOCH=1700000000 ok mlp -C r1 pack repro --json
e1=$(digest_of "$OUT")
sleep 1.1  # a second later: only SOURCE_DATE_EPOCH can make the times equal
SOURCE_DATE_EPOCH=1700000000 ok mlp -C r2 pack repro --json
e2=$(digest_of "$OUT")
expect_eq "$e2" "$e1" "digest in two fresh repos"
cmp "$(object_path "$e1" r1)" "$(object_path "$e2" r2)" || fail "manifests differ"
expect_contains "$(object_path "$e1" r1)" "created: 2023-11-14T22:13:20Z"
ok mlp -C r1 inspect repro:v1 --json
expect_eq "$(json "$OUT" 'd["manifest"]["created"]')" "2023-11-14T22:13:20Z" "created"
ok mlp -C r1 inspect repro:v1
expect_contains "$OUT" "2023-11-14T22:13:20Z"
step "without SOURCE_DATE_EPOCH, created is now"
new_repo r3
t0=$(date -u +%s)
ok mlp -C r3 pack repro --json
ok mlp -C r3 inspect repro:v1 --json
created=$(json "$OUT" 'd["manifest"]["created"]')
tc=$(date -u -d "$created" +%s)
((tc >= t0 - 1 && tc <= t0 + 60)) || fail "created $created is not the time of packing"
step "a bad SOURCE_DATE_EPOCH is a usage error"
for bad in yesterday -1 " 5" 1e9 99999999999999999 253402300800; do
  SOURCE_DATE_EPOCH=$bad expect_exit 2 mlp -C r3 pack repro -t repro:v2
  expect_contains "$ERR" "SOURCE_DATE_EPOCH"
done
expect_exit 4 mlp -C r3 inspect repro:v2
step "the last second of year 9999 is the latest SOURCE_DATE_EPOCH"
SOURCE_DATE_EPOCH=253402300799 ok mlp -C r3 pack repro -t repro:v9999
ok mlp -C r3 inspect repro:v9999 --json
expect_eq "$(json "$OUT" 'd["manifest"]["created"]')" "9999-12-31T23:59:59Z" "created at the end of 9999"
SOURCE_DATE_EPOCH=0 ok mlp -C r3 pack repro -t repro:v0
ok mlp -C r3 inspect repro:v0 --json
expect_eq "$(json "$OUT" 'd["manifest"]["created"]')" "1970-01-01T00:00:00Z" "created at the epoch"

step "parallel hashing does not change the manifest"
mkdir -p many/m
# (A fixed first byte: random bytes must never be taken for a pickle.)
for i in $(seq 1 150); do { printf 'R' && head -c $((i * 97)) /dev/urandom; } >"many/m/part-$i.bin"; done
SOURCE_DATE_EPOCH=1700000000 ok mlp -C r1 pack many --model m --no-preprocessing -t many:v1 -j 1 --json
j1=$(digest_of "$OUT")
SOURCE_DATE_EPOCH=1700000000 ok mlp -C r2 pack many --model m --no-preprocessing -t many:v1 -j 8 --json
expect_eq "$(digest_of "$OUT")" "$j1" "digest with -j 1 and -j 8"
expect_eq "$(json "$OUT" 'len(d["files"])')" "150" "files packed in parallel"
for i in 1 77 150; do
  expect_eq "$(json "$OUT" "[f['sha256'] for f in d['files'] if f['path'] == 'm/part-$i.bin'][0]")" \
    "$(sha256 "many/m/part-$i.bin")" "sha256 of part-$i.bin"
done

step "git commit of the model folder"
make_model gitm gitm v1
git -C gitm init -q
git -C gitm add -A
git -C gitm -c user.name=t -c user.email=t@t commit -qm "model"
head1=$(git -C gitm rev-parse HEAD)
ok mlp pack gitm --json
ok mlp inspect gitm:v1 --json
expect_eq "$(json "$OUT" 'd["manifest"]["git_commit"]')" "$head1" "git_commit"
ok mlp inspect gitm:v1
expect_contains "$OUT" "$head1"
# A packed ref (after git gc / pack-refs) is found too.
echo more >>gitm/params.yaml
git -C gitm -c user.name=t -c user.email=t@t commit -qam "second"
head2=$(git -C gitm rev-parse HEAD)
git -C gitm pack-refs --all
ok mlp pack gitm -t gitm:v2
ok mlp inspect gitm:v2 --json
expect_eq "$(json "$OUT" 'd["manifest"]["git_commit"]')" "$head2" "git_commit from packed-refs"
step "no git commit outside a git work tree"
if ! git -C "$TMP/m1" rev-parse --git-dir >/dev/null 2>&1; then
  ok mlp inspect iris:v1 --json
  expect_eq "$(json "$OUT" 'd["manifest"]["git_commit"]')" "null" "git_commit outside git"
fi

step "format detection from content"
mkdir -p fmt/m
"$PY" - fmt/m <<'EOF'
import json, struct, sys, zipfile, os
d = sys.argv[1]
# NumPy .npy, version 1.0, header padded so data starts at a multiple of 64.
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"
header += " " * (64 - 10 - len(header) - 1) + "\n"
with open(os.path.join(d, "weights.npy"), "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 12)
# safetensors: u64 header length, JSON header padded with spaces, data.
h = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
h += b" " * (-len(h) % 8)
with open(os.path.join(d, "tensors.bin2"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"\0\0\x80\x3f")
# torch.save's zip layout; an extension that says nothing.
with zipfile.ZipFile(os.path.join(d, "checkpoint.ckpt"), "w") as z:
    z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    z.writestr("archive/version", b"3\n")
    z.writestr("archive/data/0", b"\0" * 16)
# A pickle with a meaningless name.
with open(os.path.join(d, "weights.dat"), "wb") as f:
    f.write(b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s.")
# A plain zip is not a PyTorch checkpoint.
with zipfile.ZipFile(os.path.join(d, "bundle.zip"), "w") as z:
    z.writestr("readme.txt", b"hello")
with open(os.path.join(d, "blob.raw"), "wb") as f:
    f.write(bytes(range(256)))
EOF
(cd fmt && ok mlp pack --model m --no-preprocessing -t formats:v1)
ok mlp inspect formats:v1 --json
expect_eq "$(json "$OUT" '{f["path"]: f["format"] for f in d["manifest"]["files"]}')" \
  '{"m/blob.raw": "binary", "m/bundle.zip": "zip", "m/checkpoint.ckpt": "pytorch", "m/tensors.bin2": "safetensors", "m/weights.dat": "pickle", "m/weights.npy": "npy"}' \
  "detected formats"
step "model.format in the spec wins over detection"
mkdir fmt2
cp fmt/m/weights.dat fmt2/
printf 'name: fmt2\nversion: v1\nmodel:\n  path: weights.dat\n  format: custom\n' >fmt2/mlpack.yaml
ok mlp pack fmt2 --no-preprocessing
ok mlp inspect fmt2:v1 --json
expect_eq "$(json "$OUT" 'd["manifest"]["files"][0]["format"]')" "custom" "format from the spec"

step "bad input: malformed YAML names the file and the line"
mkdir bad
cp m1/* bad/
printf 'name: iris\nversion: v9\nmodel: {path: a: b}\n' >bad/mlpack.yaml
expect_exit 2 mlp pack bad
expect_contains "$ERR" "mlpack.yaml:3"
printf 'name: iris\nversion: v9\nmodel:\n  path: model.joblib\nmetrics_file: metrics.json\n' >bad/mlpack.yaml
printf '{"accuracy": 0.9,\n "loss": [0.3,\n' >bad/metrics.json
expect_exit 2 mlp pack bad
expect_contains "$ERR" "metrics.json:"
cp m1/metrics.json bad/
step "bad input: unknown spec key, with its line"
printf 'name: iris\nversion: v9\nmodel:\n  path: model.joblib\nmetrcs_file: metrics.json\n' >bad/mlpack.yaml
expect_exit 2 mlp pack bad
expect_contains "$ERR" "mlpack.yaml:5"
expect_contains "$ERR" "metrcs_file"
step "bad input: unknown key through --set"
expect_exit 2 mlp pack m1 -t iris:v9 --set metrcs.accuracy=0.5
expect_contains "$ERR" "metrcs"
step "bad input: wrong types in the spec"
printf 'name: iris\nversion: v9\nmodel:\n  path: model.joblib\nmetrics: [1, 2]\n' >bad/mlpack.yaml
expect_exit 2 mlp pack bad
expect_contains "$ERR" "mlpack.yaml:5"
printf 'name: iris\nversion: v9\nmodel:\n  path: model.joblib\nfiles:\n  - {path: params.yaml, role: weird}\n' >bad/mlpack.yaml
expect_exit 2 mlp pack bad
expect_contains "$ERR" "weird"
printf 'name: iris\nversion: v9\nmodel:\n  path: model.joblib\nmetric_goals: {accuracy: up}\n' >bad/mlpack.yaml
expect_exit 2 mlp pack bad
step "bad input: missing model file exits 4 and names it"
printf 'name: iris\nversion: v9\nmodel:\n  path: nothere.joblib\n' >bad/mlpack.yaml
expect_exit 4 mlp pack bad
expect_contains "$ERR" "nothere.joblib"
expect_exit 4 mlp pack --model nothere.joblib --no-preprocessing -t iris:v9
expect_contains "$ERR" "nothere.joblib"
printf 'name: iris\nversion: v9\nmodel:\n  path: model.joblib\nmetrics_file: gone.json\n' >bad/mlpack.yaml
expect_exit 4 mlp pack bad --no-preprocessing
expect_contains "$ERR" "gone.json"
expect_exit 4 mlp pack does-not-exist
expect_exit 4 mlp pack m1 -f nothere.yaml
step "bad input: no model at all"
mkdir empty
(cd empty && expect_exit 2 mlp pack -t iris:v9)
expect_contains "$ERR" "model"
step "bad input: names and versions show the rule"
for t in Iris:v1 iris:v1/x -x:v1 'iris:v 1' 'iris:-v1' '_iris:v1' 'team//iris:v1'; do
  expect_exit 2 mlp pack m1 -t "$t"
  expect_contains "$ERR" "0-9._-]{0,127}"
done
printf 'name: Iris\nversion: v9\nmodel:\n  path: model.joblib\n' >bad/mlpack.yaml
expect_exit 2 mlp pack bad --no-preprocessing
expect_contains "$ERR" "mlpack.yaml:1"
expect_contains "$ERR" "[a-z0-9][a-z0-9._-]{0,127}"
step "bad input: no version"
(cd flags && expect_exit 2 mlp pack --model model.joblib --no-preprocessing -t noversion)
expect_contains "$ERR" "version"
printf 'name: iris\nmodel:\n  path: model.joblib\n' >bad/mlpack.yaml
expect_exit 2 mlp pack bad --no-preprocessing
expect_contains "$ERR" "version"
step "bad input: --set without ="
expect_exit 2 mlp pack m1 -t iris:v9 --set metrics.accuracy
expect_contains "$ERR" "KEY=VALUE"
expect_exit 2 mlp pack m1 -t iris:v9 --set =0.5
step "namespaced names work"
ok mlp pack m1 -t team/iris:v1 --json
expect_eq "$(json "$OUT" 'd["name"]')" "team/iris" "namespaced name"
ok mlp inspect team/iris:v1

step "nothing was packed by the refused commands"
ok mlp list iris --json
for v in $(json "$OUT" '" ".join(a["version"] for a in d["artifacts"])'); do
  [[ $v != v9 ]] || fail "a refused pack created iris:v9"
done
ok mlp fsck

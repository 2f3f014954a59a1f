# References (every REF form of DESIGN §1), tag, list, log and path.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

new_repo repo
export MLPACK_DIR="$TMP/repo"

make_model m1 iris v1
make_model m2 iris v2 second
make_model m3 iris v3 third
SOURCE_DATE_EPOCH=1000 ok mlp pack m1 --json
d1=$(digest_of "$OUT")
SOURCE_DATE_EPOCH=2000 ok mlp pack m2 --json --set metrics.accuracy=0.95
d2=$(digest_of "$OUT")
# v3 is packed last but created between v1 and v2: log sorts by creation time.
SOURCE_DATE_EPOCH=1500 ok mlp pack m3 --json --set metrics.accuracy=0.92
d3=$(digest_of "$OUT")
expect_ne "$d1" "$d2" "digests of v1 and v2"
model_sha=$(sha256 m1/model.joblib)

step "every REF form resolves to the same artifact"
ok mlp export iris:v1 -o "$TMP/iris-v1.mlpack"
for ref in iris:v1 "sha256:${d1:0:12}" "sha256:${d1:0:20}" "sha256:$d1" "iris@sha256:$d1" \
  "iris@sha256:${d1:0:12}" "$TMP/iris-v1.mlpack" iris-v1.mlpack ./iris-v1.mlpack; do
  ok mlp inspect "$ref" --json
  expect_eq "$(digest_of "$OUT")" "$d1" "digest of $ref"
  expect_eq "$(json "$OUT" 'd["manifest"]["name"] + ":" + d["manifest"]["version"]')" "iris:v1" \
    "artifact of $ref"
  expect_eq "$(json "$OUT" 'd["ref"]')" "$ref" "ref echoed by inspect --json"
done
ok mlp inspect "$TMP/iris-v1.mlpack" --json
expect_eq "$(json "$OUT" 'd["source"]')" "archive" "source of an archive ref"
ok mlp inspect iris:v1 --json
expect_eq "$(json "$OUT" 'd["source"]')" "store" "source of a store ref"
step "human inspect shows the artifact"
ok mlp inspect "sha256:${d1:0:12}"
expect_contains "$OUT" "iris:v1"
expect_contains "$OUT" "sha256:$d1"
expect_contains "$OUT" "model.joblib"
expect_contains "$OUT" "${model_sha:0:12}"
step "an archive ref needs no repository"
mkdir norepo
(cd norepo && env -u MLPACK_DIR "$MLPACK" inspect "$TMP/iris-v1.mlpack" --json >"$OUT" 2>"$ERR") ||
  fail "inspect of an archive outside a repository failed: $(cat "$ERR")"
expect_eq "$(digest_of "$OUT")" "$d1" "digest of an archive outside a repository"

step "NAME@sha256 checks the name"
expect_exit 4 mlp inspect "other@sha256:$d1"
step "a digest prefix of a blob is not an artifact"
expect_exit 4 mlp inspect "sha256:${model_sha:0:12}"
step "unknown refs exit 4"
expect_exit 4 mlp inspect iris:v99
expect_contains "$ERR" "iris:v99"
expect_contains "$ERR" "v1"  # names the versions that do exist
expect_exit 4 mlp inspect nosuch:v1
expect_exit 4 mlp inspect "sha256:000000000000"
expect_exit 4 mlp inspect "sha256:$(printf '0%.0s' {1..64})"
expect_exit 4 mlp inspect iris@production
expect_exit 4 mlp export iris:v99 -o "$TMP/x.mlpack"
expect_no_path "$TMP/x.mlpack"
expect_exit 4 mlp unpack iris:v99 -d "$TMP/never"
expect_no_path "$TMP/never"
step "malformed refs exit 2"
for ref in "iris:" "sha256:xyz" "sha256:abc" "sha256:${d1:0:11}" "sha256:${d1}0" \
  "sha256:$(echo "${d1:0:12}" | tr a-f A-F)x" "Iris:v1" ":v1" "iris@" "" "iris:v1:v2"; do
  expect_exit 2 mlp inspect "$ref"
done
expect_exit 2 mlp inspect "sha256:abc"
expect_contains "$ERR" "12"
expect_exit 2 mlp inspect "iris:"
expect_contains "$ERR" "NAME:VERSION"

step "tag gives an artifact another version"
ok mlp tag iris:v1 iris:stable
ok mlp inspect iris:stable --json
expect_eq "$(digest_of "$OUT")" "$d1" "digest of the new tag"
ok mlp tag "sha256:${d2:0:12}" team/iris:v2 --json
expect_eq "$(json "$OUT" 'd["new"]')" "true" "tag --json created"
ok mlp inspect team/iris:v2 --json
expect_eq "$(digest_of "$OUT")" "$d2" "digest of a tag made from a digest"
step "tagging the same digest again is a no-op"
ok mlp tag iris:v1 iris:stable --json
expect_eq "$(json "$OUT" 'd["new"]')" "false" "tag --json created on a repeat"
step "tag to an existing version with another digest exits 5"
before=$(store_state repo)
expect_exit 5 mlp tag iris:v2 iris:stable
expect_contains "$ERR" "iris:stable"
expect_eq "$(store_state repo)" "$before" "store after a refused tag"
expect_exit 5 mlp tag iris:v2 iris:v1
ok mlp inspect iris:stable --json
expect_eq "$(digest_of "$OUT")" "$d1" "iris:stable after the refused tag"
step "a version and a namespace cannot share a name"
# team/iris:v2 exists, so team/iris is a namespace: team:iris cannot be a version ...
expect_exit 5 mlp tag iris:v1 team:iris
expect_contains "$ERR" "team/iris"
(cd m1 && expect_exit 5 mlp pack -t team:iris)
# ... and iris:v1 is a version, so iris/v1 cannot be a namespace.
expect_exit 5 mlp tag iris:v1 iris/v1:x
ok mlp inspect team/iris:v2
ok mlp fsck
[[ -z $(find repo/.mlpack/refs -name '.tmp-*') ]] || fail "refused tags left temp files in refs/"

step "tag errors"
expect_exit 4 mlp tag iris:v99 iris:x
expect_exit 2 mlp tag iris:v1 Iris:x
expect_contains "$ERR" "{0,127}"
expect_exit 2 mlp tag iris:v1 iris
expect_exit 2 mlp tag "$TMP/iris-v1.mlpack" iris:from-archive
expect_contains "$ERR" "import"
expect_no_path repo/.mlpack/refs/tags/iris/x

step "list"
ok mlp list
for v in v1 v2 v3 stable; do expect_contains "$OUT" "$v"; done
expect_contains "$OUT" "team/iris"
expect_contains "$OUT" "sha256:${d1:0:12}"
ok mlp list --json
expect_eq "$(json "$OUT" '[(a["name"], a["version"]) for a in d["artifacts"]]')" \
  '[["iris", "stable"], ["iris", "v1"], ["iris", "v2"], ["iris", "v3"], ["team/iris", "v2"]]' \
  "list --json names and versions"
expect_eq "$(json "$OUT" '[a["digest"] for a in d["artifacts"] if a["version"] == "v1"]')" \
  "[\"sha256:$d1\"]" "list --json digest"
expect_eq "$(json "$OUT" '[a["created"] for a in d["artifacts"] if (a["name"], a["version"]) == ("iris", "v2")]')" \
  '["1970-01-01T00:33:20Z"]' "list --json created"
expect_eq "$(json "$OUT" 'all(a["size"] > 0 for a in d["artifacts"])')" "true" "list --json sizes"
ok mlp list iris --json
expect_eq "$(json "$OUT" '[a["version"] for a in d["artifacts"]]')" '["stable", "v1", "v2", "v3"]' \
  "list iris --json"
expect_eq "$(json "$OUT" '{a["name"] for a in d["artifacts"]} == {"iris"}')" "true" "list NAME filters"
ok mlp list team/iris --json
expect_eq "$(json "$OUT" '[a["version"] for a in d["artifacts"]]')" '["v2"]' "list team/iris"
ok mlp list nosuch --json
expect_eq "$(json "$OUT" 'd["artifacts"]')" '[]' "list of an unknown name"

step "log NAME is newest first"
ok mlp log iris
# Lines in order: v2 (2000), v3 (1500), then v1 and stable (1000).
order=$(awk '{print $1}' "$OUT" | tr '\n' ' ')
expect_eq "$order" "v2 v3 v1 stable " "log order"
expect_contains "$OUT" "accuracy=0.95"

step "log shows the metrics with goals, else the first four, nested ones dotted"
fake_pickle k >k.pkl
ok mlp pack --model k.pkl --no-preprocessing -t keys:v1 --set metrics.a=1 --set metrics.b=2 \
  --set metrics.eval.f1=0.9 --set metrics.d=4 --set metrics.e=5
ok mlp pack --model k.pkl --no-preprocessing -t keys:v2 --set metrics.acc=0.9 \
  --set metrics.loss=0.2 --set metric_goals.loss=min
ok mlp log keys
expect_eq "$(grep '^v1 ' "$OUT" | cut -d' ' -f7-)" "a=1  b=2  eval.f1=0.9  d=4" "first four metrics"
expect_eq "$(grep '^v2 ' "$OUT" | cut -d' ' -f7-)" "loss=0.2" "metrics with goals"
ok mlp log iris --json
expect_eq "$(json "$OUT" 'd["name"]')" "iris" "log --json name"
expect_eq "$(json "$OUT" '[v["version"] for v in d["versions"]]')" '["v2", "v3", "v1", "stable"]' \
  "log --json order"
expect_eq "$(json "$OUT" '[v["metrics"]["accuracy"] for v in d["versions"]]')" '[0.95, 0.92, 0.9, 0.9]' \
  "log --json metrics"
expect_eq "$(json "$OUT" 'd["versions"][0]["metrics"]["loss"]')" "0.3" "log --json metrics.loss"
expect_eq "$(json "$OUT" '[v["digest"] for v in d["versions"]]')" \
  "[\"sha256:$d2\", \"sha256:$d3\", \"sha256:$d1\", \"sha256:$d1\"]" "log --json digests"
expect_eq "$(json "$OUT" 'd["versions"][0]["created"]')" "1970-01-01T00:33:20Z" "log --json created"
expect_exit 4 mlp log nosuch
expect_exit 2 mlp log 'Not A Name'

step "path --role model prints the stored model file"
ok mlp path iris:v1 --role model
p=$(cat "$OUT")
[[ $p == /* ]] || fail "path is not absolute: $p"
expect_file "$p"
expect_eq "$(sha256 "$p")" "$model_sha" "sha256 of the file printed by path"
expect_eq "$(basename "$p")" "model.joblib" "file name printed by path"
cmp -s "$p" m1/model.joblib || fail "path file differs from the packed model"
step "path again gives the same answer"
ok mlp path iris:v1 --role model
expect_eq "$(cat "$OUT")" "$p" "second path"
step "path never hands out a cached file changed since it was unpacked"
# Same size, so only the bytes (and the modification time) differ.
chmod u+w "$p"
printf 'X' | dd of="$p" bs=1 seek=20 conv=notrunc status=none
ok mlp path iris:v1 --role model
expect_eq "$(cat "$OUT")" "$p" "path after the cache was changed"
expect_eq "$(sha256 "$p")" "$model_sha" "sha256 of the file path printed after the cache was changed"
step "path --json"
ok mlp path iris:v1 --role preprocessing --json
expect_eq "$(json "$OUT" 'd["digest"]')" "sha256:$d1" "path --json digest"
expect_eq "$(sha256 "$(json "$OUT" 'd["path"]')")" "$(sha256 m1/preprocessing.yaml)" \
  "preprocessing through path --json"
step "path without --role prints the folder with every file"
ok mlp path iris:v1
root=$(cat "$OUT")
for f in model.joblib preprocessing.yaml metrics.json params.yaml; do
  cmp -s "$root/$f" "m1/$f" || fail "path folder: $f differs"
done
step "path for a folder model prints the folder"
mkdir -p fold/net/sub
printf 'a' >fold/net/a.bin
printf 'b' >fold/net/sub/b.bin
(cd fold && ok mlp pack --model net --no-preprocessing -t folder:v1)
ok mlp path folder:v1 --role model
pf=$(cat "$OUT")
[[ -d $pf ]] || fail "path of a folder model is not a folder: $pf"
expect_eq "$(basename "$pf")" "net" "folder printed by path"
cmp -s "$pf/a.bin" fold/net/a.bin || fail "folder model: a.bin differs"
cmp -s "$pf/sub/b.bin" fold/net/sub/b.bin || fail "folder model: sub/b.bin differs"
step "path from an archive file"
ok mlp path "$TMP/iris-v1.mlpack" --role model
expect_eq "$(sha256 "$(cat "$OUT")")" "$model_sha" "model from an archive through path"
step "path errors"
expect_exit 4 mlp path iris:v1 --role code
expect_exit 4 mlp path iris:v99 --role model
expect_exit 2 mlp path iris:v1 --role weights

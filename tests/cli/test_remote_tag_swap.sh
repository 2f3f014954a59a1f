#!/usr/bin/env bash
# A remote writer who moves a tag to another signed artifact (an old version
# with a known flaw, say) cannot get it pulled under the new name: the
# signature names the version it was made for.
source "$(dirname "$0")/lib.sh"

new_repo laptop
new_repo server
(cd laptop && mlp remote add origin "$TMP/remote" >/dev/null)
(cd server && mlp remote add origin "$TMP/remote" >/dev/null)
cd laptop
fake_pickle old >m.pkl
ok mlp -q pack --model m.pkl --no-preprocessing -t iris:v0
fake_pickle new >m.pkl
ok mlp -q pack --model m.pkl --no-preprocessing -t iris:v1
ok mlp push iris:v0 iris:v1

step "an honest pull works"
cd ../server
ok mlp pull iris:v1
before=$(store_state .)

step "a tag moved to another signed artifact is refused (exit 3), nothing changes"
cp "$TMP/remote/tags/iris/v0" "$TMP/remote/tags/iris/v1"
new_repo ../fresh
(cd ../fresh && mlp remote add origin "$TMP/remote" >/dev/null)
cd ../fresh
fresh_before=$(store_state .)
expect_exit 3 mlp pull iris:v1
expect_contains "$ERR" "names iris:v0"
expect_eq "$(store_state .)" "$fresh_before" "store after the refused pull"
expect_exit 3 mlp pull iris:v1 --allow-unsigned
expect_eq "$(store_state .)" "$fresh_before" "store after the refused pull with --allow-unsigned"
ok mlp pull iris:v0
echo "tag swap: ok"

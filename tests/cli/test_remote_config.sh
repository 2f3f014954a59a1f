#!/usr/bin/env bash
# mlpack remote add / set / remove / list: URLs checked when added, no
# credentials stored, --json output, exit codes.
source "$(dirname "$0")/lib.sh"

new_repo repo
cd repo

step "add and list"
ok mlp remote add origin "$TMP/remote-dir"
expect_contains "$OUT" "file://$TMP/remote-dir"
ok mlp remote add cloud s3://ml-artifacts/team/ --region eu-west-1 --path-style
ok mlp remote add web https://models.example.test/dav
ok mlp remote list --json
expect_eq "$(json "$OUT" '[r["name"] for r in d["remotes"]]')" '["origin", "cloud", "web"]' "names"
expect_eq "$(json "$OUT" 'd["remotes"][1]["url"]')" "s3://ml-artifacts/team" "canonical url"
expect_eq "$(json "$OUT" 'd["remotes"][1]["region"]')" "eu-west-1" "region"
expect_eq "$(json "$OUT" 'd["remotes"][1]["path_style"]')" "true" "path style"
expect_eq "$(json "$OUT" 'd["remotes"][0]["endpoint"]')" "null" "no endpoint"
ok mlp remote list
expect_eq "$(sed -n 1p "$OUT" | awk '{print $1, $2}')" "NAME URL" "human header"

step "bad input: exit 2 and the config is unchanged"
before=$(sha256 .mlpack/config.yaml)
expect_exit 2 mlp remote add bad https://alice:hunter2@host/x
expect_not_contains "$ERR" "hunter2"
expect_exit 2 mlp remote add bad ftp://host/x
expect_exit 2 mlp remote add bad s3://Not_A_Bucket
expect_exit 2 mlp remote add bad /x --region eu-west-1
expect_exit 2 mlp remote add bad https://host/x --endpoint http://e
expect_exit 2 mlp remote add -- -bad /x
expect_exit 5 mlp remote add origin /elsewhere
expect_exit 2 mlp remote set cloud colour red
expect_exit 4 mlp remote set nope url /x
expect_exit 4 mlp remote remove nope
expect_eq "$(sha256 .mlpack/config.yaml)" "$before" "config after refused commands"
! grep -q hunter2 .mlpack/config.yaml || fail "a password reached the config"

step "set and remove"
ok mlp remote set cloud endpoint http://127.0.0.1:9000
ok mlp remote set origin url "$TMP/moved"
ok mlp remote remove web
ok mlp remote list --json
expect_eq "$(json "$OUT" '[r["name"] for r in d["remotes"]]')" '["origin", "cloud"]' "after remove"
expect_eq "$(json "$OUT" 'd["remotes"][1]["endpoint"]')" "http://127.0.0.1:9000" "endpoint set"
expect_eq "$(json "$OUT" 'd["remotes"][0]["url"]')" "file://$TMP/moved" "url set"
grep -q '^layout: 1$' .mlpack/config.yaml || fail "other settings lost"
echo "remote config: ok"

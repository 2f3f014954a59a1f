#!/usr/bin/env bash
# mlpack scan: pickles written by Python's own pickle, joblib and numpy
# (tests/tools/make_pickles.py), never loaded; verdicts, findings, exit codes.
source "$(dirname "$0")/lib.sh"
"$PY" "$MLPACK_TESTS_DIR/tools/make_pickles.py" "$TMP/p" >/dev/null
cd "$TMP/p"

# scan_json FILE... : runs scan --json (any exit code) into $OUT; returns the code.
scan_json() {
  local rc=0
  mlp scan --json "$@" >"$OUT" 2>"$ERR" || rc=$?
  return "$rc"
}
# verdict_of FILE : the verdict of a single scanned file.
verdict_of() { json "$OUT" 'd["files"][0]["verdict"]'; }
details_of() { json "$OUT" '" ".join(f["severity"] + ":" + f["kind"] + ":" + f["detail"] + ("@" + f["member"] if f["member"] else "") for x in d["files"] for f in x["findings"])'; }

step "a real scikit-learn pipeline is clean: plain, pickled, and every joblib compression"
for f in pipeline.joblib pipeline.pkl pipeline-zlib.joblib pipeline-gzip.joblib \
  pipeline-bz2.joblib pipeline-xz.joblib pipeline-lzma.joblib objects.joblib; do
  rc=0
  scan_json "$f" || rc=$?
  [[ $rc -eq 0 ]] || fail "$f: exit $rc: $(details_of) $(cat "$ERR")"
  expect_eq "$(verdict_of)" clean "verdict of $f ($(details_of))"
  expect_eq "$(json "$OUT" 'd["files"][0]["scanned"]')" true "$f was scanned"
  json "$OUT" 'd["files"][0]["globals"]' | grep -q 'sklearn.pipeline.Pipeline\|numpy' ||
    fail "$f: the globals list lacks the pipeline's classes: $(json "$OUT" 'd["files"][0]["globals"]')"
done

step "an os.system payload is dangerous at every protocol, and in every container"
for f in payload-p0.pkl payload-p2.pkl payload-p4.pkl payload-p5.pkl payload.joblib \
  payload-zlib.joblib payload-gzip.joblib payload-bz2.joblib payload-xz.joblib \
  memo-stack-global.pkl checkpoint.pt payload.npy payload.npz; do
  rc=0
  scan_json "$f" || rc=$?
  expect_eq "$rc" 3 "exit code of scan $f"
  expect_eq "$(verdict_of)" dangerous "verdict of $f"
  details_of | grep -Eq 'dangerous:global:(posix|os)\.system' ||
    fail "$f: no dangerous os.system finding: $(details_of)"
  expect_contains "$ERR" "mlpack: error: "
done
scan_json checkpoint.pt || true
expect_eq "$(json "$OUT" '[f["member"] for f in d["files"][0]["findings"]]')" '["archive/data.pkl"]' \
  "the member of the torch checkpoint that carries the payload"
scan_json payload.npz || true
details_of | grep -q '@a.npy' || fail "payload.npz: the finding does not name a.npy: $(details_of)"

step "clean containers"
for f in clean.pt clean.npz; do
  ok mlp scan "$f"
  expect_contains "$OUT" "$f: "
  expect_contains "$OUT" ", clean"
done

step "unresolvable STACK_GLOBAL, malformed and truncated streams: dangerous, never a crash"
for f in unresolvable.pkl truncated.pkl bad-opcode.pkl future.pkl trailing.pkl; do
  rc=0
  scan_json "$f" || rc=$?
  expect_eq "$rc" 3 "exit code of scan $f"
done
scan_json truncated.pkl || true
details_of | grep -q 'dangerous:malformed:truncated' || fail "truncated.pkl: $(details_of)"
scan_json bad-opcode.pkl || true
details_of | grep -q 'unknown opcode 0xff' || fail "bad-opcode.pkl: $(details_of)"
scan_json future.pkl || true
details_of | grep -q 'protocol 9' || fail "future.pkl: $(details_of)"
# Data after STOP is reported, and a pickle hidden there is scanned too.
scan_json trailing.pkl || true
details_of | grep -q 'extra data after STOP' || fail "trailing.pkl: $(details_of)"
details_of | grep -q 'posix.system' || fail "trailing.pkl: the hidden pickle was not scanned: $(details_of)"

step "unknown globals: a warning and exit 0; --strict makes them exit 3"
ok mlp scan unknown.pkl
expect_contains "$OUT" "unknown"
expect_contains "$OUT" "mymodule.MyModel"
expect_contains "$ERR" "--strict"
expect_exit 3 mlp scan --strict unknown.pkl
expect_contains "$ERR" "mymodule.MyModel"

step "several targets: one document, the worst verdict"
scan_json pipeline.joblib unknown.pkl payload-p2.pkl || true
expect_eq "$(json "$OUT" '[d["verdict"], [f["verdict"] for f in d["files"]]]')" \
  '["dangerous", ["clean", "unknown", "dangerous"]]' "verdicts of three files"

step "a file that cannot carry code, a folder, a missing target"
printf 'a,b\n1,2\n' >data.csv
ok mlp scan data.csv
expect_contains "$OUT" "nothing to scan"
expect_exit 2 mlp scan "$TMP/p"
new_repo "$TMP/repo"
expect_exit 4 mlp -C "$TMP/repo" scan nosuch:v1

step "pack scans every file: refuses a dangerous one, records the verdicts in the manifest"
new_repo "$TMP/packrepo"
mlp key generate --no-password >/dev/null 2>&1
ok mlp -C "$TMP/packrepo" pack --model pipeline.joblib --file data.csv:data --no-preprocessing -t good:v1 --json
expect_eq "$(json "$OUT" '[[f["path"], f["scan"] and f["scan"]["verdict"]] for f in d["files"]]')" \
  '[["data.csv", null], ["pipeline.joblib", "clean"]]' "scan records of a clean model and a CSV"
[[ ! -s $ERR ]] || fail "a clean pack warned: $(cat "$ERR")"
before=$(store_state "$TMP/packrepo")
expect_exit 3 mlp -C "$TMP/packrepo" pack --model payload-p4.pkl --no-preprocessing -t evil:v1
expect_contains "$ERR" "refusing to pack what could run code when loaded: payload-p4.pkl (posix.system)"
expect_contains "$ERR" "--allow-unsafe"
expect_eq "$(store_state "$TMP/packrepo")" "$before" "the store after a refused pack"
expect_exit 4 mlp -C "$TMP/packrepo" inspect evil:v1
ok mlp -C "$TMP/packrepo" pack --model payload-p4.pkl --no-preprocessing -t evil:v1 --allow-unsafe --json
expect_contains "$ERR" "packing what could run code when loaded, as --allow-unsafe asks: payload-p4.pkl"
expect_eq "$(json "$OUT" '[[f["path"], f["scan"]["scanner"], f["scan"]["verdict"], [x["detail"] for x in f["scan"]["findings"]]] for f in d["files"]]')" \
  '[["payload-p4.pkl", "1", "dangerous", ["posix.system"]]]' "the scan record of a dangerous file"
ok mlp -C "$TMP/packrepo" pack --model unknown.pkl --no-preprocessing -t odd:v1 --json
expect_contains "$ERR" "unknown.pkl imports code on neither the safe nor the dangerous list: mymodule.MyModel"
expect_eq "$(json "$OUT" 'd["files"][0]["scan"]["verdict"]')" unknown "verdict recorded for unknown globals"
# The record is part of the signed manifest, and inspect shows it.
ok mlp -C "$TMP/packrepo" verify evil:v1
ok mlp -C "$TMP/packrepo" inspect evil:v1 --json
expect_eq "$(json "$OUT" 'd["manifest"]["files"][0]["scan"]["verdict"]')" dangerous "inspect --json of evil:v1"
# Packing the same files again is the same version, whatever the scanner says.
ok mlp -C "$TMP/packrepo" pack --model pipeline.joblib --file data.csv:data --no-preprocessing -t good:v1

step "import and pull scan what comes in: dangerous refused, unless --allow-unsafe or scan: warn"
ok mlp -C "$TMP/packrepo" export evil:v1 -o "$TMP/evil.mlpack"
new_repo "$TMP/inbox"
before=$(store_state "$TMP/inbox")
expect_exit 3 mlp -C "$TMP/inbox" import "$TMP/evil.mlpack"
expect_contains "$ERR" "refusing evil:v1 could run code when loaded: payload-p4.pkl (posix.system)"
expect_eq "$(store_state "$TMP/inbox")" "$before" "the store after a refused import"
ok mlp -C "$TMP/inbox" import "$TMP/evil.mlpack" --allow-unsafe
expect_contains "$ERR" "letting in evil:v1 could run code when loaded"
ok mlp -C "$TMP/packrepo" remote add origin "$TMP/remote"
ok mlp -C "$TMP/packrepo" push evil:v1 good:v1
new_repo "$TMP/server"
ok mlp -C "$TMP/server" remote add origin "$TMP/remote"
before=$(store_state "$TMP/server")
expect_exit 3 mlp -C "$TMP/server" pull evil:v1
expect_contains "$ERR" "refusing evil:v1 could run code when loaded"
expect_eq "$(store_state "$TMP/server")" "$before" "the store after a refused pull"
ok mlp -C "$TMP/server" pull good:v1
printf 'scan: warn\n' >>"$TMP/server/.mlpack/config.yaml"
ok mlp -C "$TMP/server" pull evil:v1
expect_contains "$ERR" "letting in evil:v1 could run code when loaded"
expect_contains "$ERR" "scan: warn"
printf 'scan: maybe\n' >"$XDG_CONFIG_HOME/mlpack/config.yaml"
expect_exit 2 mlp -C "$TMP/inbox" import "$TMP/evil.mlpack"
expect_contains "$ERR" "scan: 'maybe' is not a policy"
rm "$XDG_CONFIG_HOME/mlpack/config.yaml"

step "unpack and path scan what they write; only the files asked for"
expect_exit 3 mlp -C "$TMP/packrepo" unpack evil:v1 -d "$TMP/out1"
expect_no_path "$TMP/out1"
ok mlp -C "$TMP/packrepo" unpack evil:v1 -d "$TMP/out1" --allow-unsafe
expect_file "$TMP/out1/payload-p4.pkl"
expect_exit 3 mlp unpack "$TMP/evil.mlpack" -d "$TMP/out2"
expect_contains "$ERR" "refusing evil:v1 could run code when loaded"
expect_no_path "$TMP/out2"
ok mlp -C "$TMP/packrepo" unpack good:v1 -d "$TMP/out3" --role data
expect_file "$TMP/out3/data.csv"
expect_exit 3 mlp -C "$TMP/inbox" path "$TMP/evil.mlpack" --role model
ok mlp -C "$TMP/inbox" path "$TMP/evil.mlpack" --role model --allow-unsafe

step "a REF: every file of the artifact, from the store and from an exported archive"
mkdir "$TMP/m"
cp pipeline.joblib "$TMP/m/model.joblib"
printf 'steps: []\n' >"$TMP/m/preprocessing.yaml"
cp payload-p2.pkl "$TMP/m/extra.pkl"
ok mlp -C "$TMP/repo" pack --model "$TMP/m/model.joblib" --preprocessing "$TMP/m/preprocessing.yaml" \
  --file "$TMP/m/extra.pkl:data" -t scanme:v1 --allow-unsafe
rc=0
mlp -C "$TMP/repo" scan scanme:v1 --json >"$OUT" 2>"$ERR" || rc=$?
expect_eq "$rc" 3 "exit code of scanning an artifact holding a payload"
expect_eq "$(json "$OUT" '[[f["path"], f["format"], f["verdict"]] for f in d["files"]]')" \
  '[["scanme:v1:extra.pkl", "pickle", "dangerous"], ["scanme:v1:model.joblib", "joblib", "clean"], ["scanme:v1:preprocessing.yaml", "yaml", "clean"]]' \
  "per-file verdicts of scanme:v1"
ok mlp -C "$TMP/repo" export scanme:v1 -o "$TMP/scanme.mlpack"
rc=0
mlp scan "$TMP/scanme.mlpack" --json >"$OUT" 2>"$ERR" || rc=$?
expect_eq "$rc" 3 "exit code of scanning an exported archive holding a payload"
expect_eq "$(json "$OUT" '[f["verdict"] for f in d["files"]]')" '["dangerous", "clean", "clean"]' \
  "per-file verdicts of the exported archive"
echo "scan: ok"

# mlpack diff: golden human and JSON output, --fail-on gates and their exit
# codes, and diffs against exported archive files.
#
# The expected files in tests/golden/diff/ are rewritten only when
# MLPACK_UPDATE_GOLDEN=1 is set; the run then fails on purpose, so a rewrite
# is always reviewed (git diff tests/golden) before it is committed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GOLDEN="$MLPACK_TESTS_DIR/golden/diff"
rewritten=()

new_repo repo
export MLPACK_DIR="$TMP/repo"

# Two versions that differ in every section: metrics (worse, better, exactly
# at a gate's boundary, text, old value 0, added, removed, nested), params,
# input schema (added, removed, retyped, reordered), metadata, environment and
# files (changed, added, removed, unchanged).
mkdir m1 m2
fake_pickle "sklearn model one" >m1/model.joblib
fake_pickle "sklearn model two, bigger" >m2/model.joblib
for m in m1 m2; do
  printf 'steps:\n  - {op: standard_scale}\n' >$m/preprocessing.yaml
  printf 'print("serve")\n' >$m/serve.py
done
printf '# notes\n' >m1/notes.md
printf 'v2: tuned C\n' >m2/changelog.txt
cat >m1/metrics.json <<'EOF'
{"accuracy": 0.96, "loss": 0.25, "eval": {"f1": 0.9, "auc": 0.95}, "status": "ok",
 "baseline": 0, "latency_ms": 12}
EOF
cat >m2/metrics.json <<'EOF'
{"accuracy": 0.95, "loss": 0.27, "eval": {"f1": 0.912, "auc": 0.95}, "status": "degraded",
 "baseline": 0.1, "recall": 0.9}
EOF
printf 'C: 1.0\nmax_iter: 200\nsolver: lbfgs\ngrid: {depth: 3}\n' >m1/params.yaml
printf 'C: 0.5\nmax_iter: 200\nsolver: saga\npenalty: l1\n' >m2/params.yaml
cat >m1/mlpack.yaml <<'EOF'
name: iris
version: v1
description: a test model
model: {path: model.joblib, framework: scikit-learn}
preprocessing:
  path: preprocessing.yaml
  input_schema:
    - {name: sepal_length, type: float}
    - {name: sepal_width, type: float}
    - {name: petal_length, type: float}
    - {name: petal_width, type: float}
files:
  - {path: serve.py, role: code}
  - {path: notes.md, role: docs}
metadata:
  training_date: 2025-01-20
  dataset: {name: iris, version: "2024-12"}
environment: {python: "3.11"}
params_file: params.yaml
metrics_file: metrics.json
metric_goals: {accuracy: max, loss: min, eval.f1: max}
EOF
cat >m2/mlpack.yaml <<'EOF'
name: iris
version: v2
description: a test model, tuned
model: {path: model.joblib, framework: scikit-learn}
preprocessing:
  path: preprocessing.yaml
  input_schema:
    - {name: petal_length, type: float}
    - {name: sepal_length, type: float}
    - {name: petal_width, type: int}
    - {name: color, type: str}
files:
  - {path: serve.py, role: code}
  - {path: changelog.txt, role: docs}
metadata:
  training_date: 2025-02-01
  dataset: {name: iris, version: "2025-01"}
  owner: team-ml
environment: {python: "3.12", cuda: "12.1"}
params_file: params.yaml
metrics_file: metrics.json
metric_goals: {accuracy: max, loss: min, eval.f1: max}
EOF
SOURCE_DATE_EPOCH=1700000000 ok mlp pack m1 --no-sign --json
d1=$(digest_of "$OUT")
SOURCE_DATE_EPOCH=1700086400 ok mlp pack m2 --no-sign --json
d2=$(digest_of "$OUT")
ok mlp inspect iris:v1 --json
# A git commit would add a metadata row to the expected output.
[[ $(json "$OUT" 'd["manifest"]["git_commit"]') == null ]] ||
  fail "the test folder $TMP is inside a git work tree; set TMPDIR outside it"
# v3 is better on every goal with the same schema; v4 drops accuracy by 0.02.
SOURCE_DATE_EPOCH=1700172800 ok mlp pack m1 -t iris:v3 --no-sign \
  --set metrics.accuracy=0.97 --set metrics.loss=0.24
SOURCE_DATE_EPOCH=1700259200 ok mlp pack m1 -t iris:v4 --no-sign --set metrics.accuracy=0.94

# The manifest digests encode the tool version, which a release bumps; the
# expected files name them by placeholders of the same length, so nothing
# else (alignment included) changes.
normalise() {
  sed -e "s/$d1/@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@V1@@/g" \
    -e "s/$d2/@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@V2@@/g" \
    -e "s/${d1:0:12}/@@@@@@@@V1@@/g" -e "s/${d2:0:12}/@@@@@@@@V2@@/g" "$1"
}

# golden NAME : compares the normalised $OUT with tests/golden/diff/NAME.
golden() {
  local name=$1 got="$TMP/golden-$1"
  normalise "$OUT" >"$got"
  if [[ ${MLPACK_UPDATE_GOLDEN:-} == 1 ]]; then
    mkdir -p "$GOLDEN"
    cp "$got" "$GOLDEN/$name"
    rewritten+=("$name")
    return
  fi
  [[ -f $GOLDEN/$name ]] || fail "no expected file $GOLDEN/$name (run with MLPACK_UPDATE_GOLDEN=1)"
  if ! diff -u "$GOLDEN/$name" "$got" >&2; then
    fail "output differs from $GOLDEN/$name (if the change is intended, run with" \
      "MLPACK_UPDATE_GOLDEN=1 and review the rewrite)"
  fi
}

step "golden: human output (plain text in a pipe)"
ok mlp diff iris:v1 iris:v2
golden v1-v2.txt
expect_not_contains "$OUT" $'\x1b'
step "golden: JSON output"
ok mlp diff iris:v1 iris:v2 --json
golden v1-v2.json
step "golden: every --fail-on form at once, human and JSON"
gates=(--fail-on 'accuracy<-0.01' --fail-on 'accuracy<-2%' --fail-on 'loss>+5%'
  --fail-on schema-change --fail-on any-metric-regression)
expect_exit 6 mlp diff iris:v1 iris:v2 "${gates[@]}"
golden gates.txt
expect_contains "$ERR" "mlpack: error: --fail-on: 3 of 5 held: loss>+5% (loss changed by +8%"
expect_contains "$ERR" "; schema-change (input schema changed: "
expect_contains "$ERR" "; any-metric-regression (worse: accuracy 0.96 -> 0.95 (goal max), loss "
expect_not_contains "$ERR" "accuracy<-0.01 ("
expect_exit 6 mlp diff iris:v1 iris:v2 "${gates[@]}" --json
golden gates.json
expect_eq "$(json "$OUT" '[g["held"] for g in d["fail_on"]]')" \
  "[false, false, true, true, true]" "held flags in --json"

step "the JSON has the documented shape"
ok mlp diff iris:v1 iris:v2 --json
expect_eq "$(json "$OUT" 'list(d)')" \
  '["a", "b", "metrics", "params", "schema", "metadata", "environment", "files", "summary", "fail_on"]' \
  "top-level keys"
expect_eq "$(json "$OUT" '[m for m in d["metrics"] if m["key"] == "accuracy"][0]')" \
  '{"key": "accuracy", "status": "changed", "old": 0.96, "new": 0.95, "abs_change": -0.01, "rel_change_pct": -1.04166666667, "goal": "max", "verdict": "worse"}' \
  "accuracy entry"
expect_eq "$(json "$OUT" '[m["key"] for m in d["metrics"]]')" \
  '["accuracy", "loss", "eval.f1", "eval.auc", "status", "baseline", "latency_ms", "recall"]' \
  "metric keys, nested ones dotted"
expect_eq "$(json "$OUT" 'd["summary"]["schema"]["breaking"]')" "true" "schema breaking"
expect_eq "$(json "$OUT" 'd["a"]["signed"]')" "false" "a signed"
expect_eq "$(json "$OUT" 'd["fail_on"]')" "[]" "fail_on without gates"

step "each --fail-on example: exit 6 when it holds, 0 when it does not"
# accuracy: v1 0.96, v2 0.95 (exactly -0.01, -1.04%), v3 0.97, v4 0.94 (-2.08%).
expect_exit 6 mlp diff iris:v1 iris:v4 --fail-on 'accuracy<-0.01'
expect_contains "$ERR" "accuracy<-0.01 (accuracy changed by -0.02 (0.96 -> 0.94), below -0.01)"
expect_contains "$OUT" "metrics:"  # the diff is printed before failing
ok mlp diff iris:v1 iris:v2 --fail-on 'accuracy<-0.01'  # a drop of exactly 0.01
ok mlp diff iris:v1 iris:v3 --fail-on 'accuracy<-0.01'
expect_contains "$OUT" "not below -0.01"
expect_exit 6 mlp diff iris:v1 iris:v4 --fail-on 'accuracy<-2%'
ok mlp diff iris:v1 iris:v2 --fail-on 'accuracy<-2%'
expect_exit 6 mlp diff iris:v1 iris:v2 --fail-on 'loss>+5%'
ok mlp diff iris:v1 iris:v3 --fail-on 'loss>+5%'
expect_exit 6 mlp diff iris:v1 iris:v2 --fail-on schema-change
ok mlp diff iris:v1 iris:v3 --fail-on schema-change
expect_exit 6 mlp diff iris:v1 iris:v2 --fail-on any-metric-regression
ok mlp diff iris:v1 iris:v3 --fail-on any-metric-regression
expect_contains "$OUT" "passed  any-metric-regression  no metric with a goal got worse (3 checked)"
step "--fail-on may come before the refs"
expect_exit 6 mlp diff --fail-on 'accuracy<-0.01' iris:v1 iris:v4

step "several gates at once list every one that held, and only those"
expect_exit 6 mlp diff iris:v1 iris:v4 --fail-on 'accuracy<-0.01' --fail-on 'loss>+5%' \
  --fail-on 'accuracy<-2%' --fail-on schema-change --fail-on any-metric-regression
expect_contains "$ERR" "--fail-on: 3 of 5 held: accuracy<-0.01 ("
expect_contains "$ERR" "; accuracy<-2% (accuracy changed by -2.0833% (0.96 -> 0.94), below -2%)"
expect_contains "$ERR" "; any-metric-regression (worse: accuracy 0.96 -> 0.94 (goal max))"
expect_not_contains "$ERR" "loss>+5% ("
expect_not_contains "$ERR" "schema-change ("
expect_contains "$OUT" "fail-on: 3 of 5 held"

step "a malformed expression exits 2 before any ref is resolved"
for bad in 'accuracy<' 'accuracy' 'accuracy=<0.1' 'accuracy<-0.01%%' '<-1' ''; do
  expect_exit 2 mlp diff iris:v1 iris:v2 --fail-on "$bad"
  expect_contains "$ERR" "malformed --fail-on expression '$bad'"
  expect_contains "$ERR" "expected METRIC<-N, METRIC<-N%, METRIC>+N, METRIC>+N%"
  expect_eq "$(wc -c <"$OUT")" 0 "stdout of a malformed gate"
done
# Even when the refs do not exist, or there is no repository at all.
expect_exit 2 mlp diff nope:v1 "$TMP/missing.mlpack" --fail-on schema-change --fail-on 'x<'
expect_contains "$ERR" "'x<'"
mkdir empty
(cd empty && unset MLPACK_DIR && expect_exit 2 mlp diff nope:v1 nope:v2 --fail-on 'acc<-1x')
expect_contains "$ERR" "'acc<-1x'"

step "a gate on a missing metric exits 4, naming the metric and the side"
expect_exit 4 mlp diff iris:v1 iris:v2 --fail-on 'latency_ms<-1'
expect_contains "$ERR" "metric 'latency_ms' is missing from REF_B (iris:v2)"
expect_exit 4 mlp diff iris:v1 iris:v2 --fail-on 'recall<-0.01'
expect_contains "$ERR" "metric 'recall' is missing from REF_A (iris:v1)"
expect_exit 4 mlp diff iris:v1 iris:v2 --fail-on 'f2<-0.01'
expect_contains "$ERR" "metric 'f2' is in neither REF_A (iris:v1) nor REF_B (iris:v2)"
expect_exit 0 mlp diff iris:v1 iris:v2 --fail-on 'eval.f1<-0.01'
step "a relative gate on an old value of 0 exits 2 and says why"
expect_exit 2 mlp diff iris:v1 iris:v2 --fail-on 'baseline>+5%'
expect_contains "$ERR" "old value is 0"
expect_exit 6 mlp diff iris:v1 iris:v2 --fail-on 'baseline>+0.05'
step "a text metric cannot be gated"
expect_exit 2 mlp diff iris:v1 iris:v2 --fail-on 'status<-1'
expect_contains "$ERR" "metric 'status' is not a number"
step "any-metric-regression without any goal exits 4 (it would check nothing)"
fake_pickle bare >bare.pkl
ok mlp -q pack --model bare.pkl --no-preprocessing --no-sign --set metrics.accuracy=0.9 -t bare:v1
ok mlp -q pack --model bare.pkl --no-preprocessing --no-sign --set metrics.accuracy=0.8 -t bare:v2
ok mlp diff bare:v1 bare:v2
expect_contains "$OUT" "input schema: none"
expect_exit 4 mlp diff bare:v1 bare:v2 --fail-on any-metric-regression
expect_contains "$ERR" "no metric of REF_A (bare:v1) or REF_B (bare:v2) has a goal"
expect_exit 6 mlp diff bare:v1 bare:v2 --fail-on 'accuracy<-0.05'

step "diff against an exported archive file"
ok mlp export iris:v2 -o v2.mlpack
ok mlp diff iris:v1 iris:v2 --json
cp "$OUT" local.json
ok mlp diff iris:v1 v2.mlpack --json
expect_eq "$(json "$OUT" 'd["b"]["source"]')" "archive" "source of the archive side"
expect_eq "$(json "$OUT" 'd["b"]["ref"]')" "v2.mlpack" "ref of the archive side"
expect_eq "$(json "$OUT" 'd["b"]["digest"]')" "sha256:$d2" "digest of the archive side"
expect_eq "$(json "$OUT" 'd["b"]["signed"]')" "false" "an unsigned archive diffs fine"
same_sections='[d[k] for k in ("a", "metrics", "params", "schema", "metadata", "environment", "files", "summary")]'
expect_eq "$(json "$OUT" "$same_sections")" "$(json local.json "$same_sections")" \
  "the archive diff equals the local diff"
expect_exit 6 mlp diff iris:v1 v2.mlpack --fail-on 'loss>+5%'
step "two archives need no repository"
ok mlp export iris:v1 -o v1.zst.mlpack --zstd
(cd empty && unset MLPACK_DIR && ok mlp diff ../v1.zst.mlpack ../v2.mlpack --json)
expect_eq "$(json "$OUT" 'd["a"]["source"] + " " + d["b"]["source"]')" "archive archive" "sources"
expect_eq "$(json "$OUT" 'd["a"]["ref"] + " " + d["a"]["digest"]')" "../v1.zst.mlpack sha256:$d1" \
  "the zstd archive side"
content='[d[k] for k in ("metrics", "params", "schema", "metadata", "environment", "files", "summary")]'
expect_eq "$(json "$OUT" "$content")" "$(json local.json "$content")" \
  "the diff of two archives equals the local diff"
step "a signed artifact says so, and an untrusted signature is no obstacle to reading"
SOURCE_DATE_EPOCH=1700345600 ok mlp pack m1 -t iris:v5
ok mlp export iris:v5 -o v5.mlpack
rm -rf "$XDG_CONFIG_HOME/mlpack/trusted"  # nobody trusts the key now
ok mlp diff v2.mlpack v5.mlpack --json
expect_eq "$(json "$OUT" '[d["a"]["signed"], d["b"]["signed"]]')" "[false, true]" "signed flags"
ok mlp diff v5.mlpack iris:v1
expect_contains "$OUT" "iris:v5  sha256:"
expect_contains "$OUT" "signed"

step "the same artifact twice is identical"
ok mlp diff iris:v1 "sha256:${d1:0:12}" --fail-on schema-change --fail-on any-metric-regression
expect_contains "$OUT" "identical: both refs name the same manifest"
expect_contains "$OUT" "metrics: 7 unchanged"
ok mlp diff iris:v1 iris:v1 --json
expect_eq "$(json "$OUT" 'd["summary"]["identical"]')" "true" "identical"

step "unknown refs exit 4"
expect_exit 4 mlp diff iris:v1 iris:v9
expect_exit 4 mlp diff iris:v9 iris:v1
expect_exit 2 mlp diff iris:v1
expect_exit 2 mlp diff iris:v1 "$TMP/missing.mlpack"  # not a file: not a ref either

step "colour only on a terminal, and never with NO_COLOR"
if script -qec true /dev/null >/dev/null 2>&1; then
  script -qec "'$MLPACK' diff iris:v1 iris:v2" /dev/null >tty.out
  grep -q $'\x1b\\[31mworse\x1b\\[0m' tty.out || fail "no red 'worse' on a terminal: $(head -c 600 tty.out)"
  grep -q $'\x1b\\[32mbetter\x1b\\[0m' tty.out || fail "no green 'better' on a terminal"
  NO_COLOR=1 script -qec "'$MLPACK' diff iris:v1 iris:v2" /dev/null >tty.out
  if grep -q $'\x1b' tty.out; then fail "colour despite NO_COLOR"; fi
else
  echo "   (script cannot open a terminal here: the terminal case is not checked)"
fi

step "help shows an example"
ok mlp diff --help
expect_contains "$OUT" "Example:"
expect_contains "$OUT" "--fail-on"

if ((${#rewritten[@]})); then
  fail "MLPACK_UPDATE_GOLDEN=1: rewrote ${rewritten[*]} in $GOLDEN; review them" \
    "(git diff tests/golden) and run again without it"
fi
echo "diff: ok"

#!/usr/bin/env bash
# Stages: promote / rollback / history sequences, what list and log show,
# gc keeping every version a rollback may need, crash repair of the log,
# twenty parallel promotes, and a lock held by a killed process.
source "$(dirname "$0")/lib.sh"

new_repo repo
cd repo
for v in 1 2 3; do
  fake_pickle "model $v" >m.pkl
  ok mlp -q pack --model m.pkl --no-preprocessing -t "iris:v$v"
done
d1=$(mlp inspect iris:v1 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
d2=$(mlp inspect iris:v2 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"])')
d3=$(mlp inspect iris:v3 --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"])')

step "promote records who, when, from and to"
export GIT_AUTHOR_NAME="Ada Tester" GIT_AUTHOR_EMAIL="ada@example.test"
ok mlp promote iris:v1 production -m "first release" --json
expect_eq "$(json "$OUT" 'd["from"]')" "null" "first promote has no from"
expect_eq "$(json "$OUT" 'd["to"]["version"]')" "v1" "to version"
expect_eq "$(json "$OUT" 'd["to"]["digest"]')" "$d1" "to digest"
expect_eq "$(json "$OUT" 'd["user"]')" "Ada Tester <ada@example.test>" "user"
expect_eq "$(json "$OUT" 'd["reason"]')" "first release" "reason"
ok mlp promote iris:v2 production --json
expect_eq "$(json "$OUT" 'd["from"]["version"]')" "v1" "from version"
ok mlp inspect iris@production --json
expect_eq "$(json "$OUT" 'd["digest"]')" "$d2" "stage resolves to v2"

step "promoting to where the stage already is changes nothing"
ok mlp promote iris:v2 production --json
expect_eq "$(json "$OUT" 'd["moved"]')" "false" "no-op promote"
ok mlp history iris@production --json
expect_eq "$(json "$OUT" 'len(d["moves"])')" "2" "no-op not recorded"

step "promote by stage and by digest"
ok mlp promote iris@production staging
ok mlp inspect iris@staging --json
expect_eq "$(json "$OUT" 'd["digest"]')" "$d2" "staging from production"
ok mlp promote "$d3" staging --json
expect_eq "$(json "$OUT" 'd["to"]["version"]')" "v3" "version found for a digest"

step "list and log show which stages point where"
ok mlp list --json
expect_eq "$(json "$OUT" '[a["stages"] for a in d["artifacts"] if a["version"] == "v2"][0]')" \
  '["production"]' "list stages of v2"
expect_eq "$(json "$OUT" '[a["stages"] for a in d["artifacts"] if a["version"] == "v3"][0]')" \
  '["staging"]' "list stages of v3"
ok mlp log iris
expect_contains "$OUT" "@production"
ok mlp log iris --json
expect_eq "$(json "$OUT" '[v["stages"] for v in d["versions"] if v["version"] == "v2"][0]')" \
  '["production"]' "log stages"

step "rollback walks back through the promotes, then exits 4"
ok mlp promote iris:v3 production -m "third"
ok mlp rollback iris@production -m "v3 is bad" --json
expect_eq "$(json "$OUT" 'd["action"]')" "rollback" "action"
expect_eq "$(json "$OUT" 'd["from"]["version"]')" "v3" "rollback from"
expect_eq "$(json "$OUT" 'd["to"]["version"]')" "v2" "rollback to"
ok mlp rollback iris@production
ok mlp inspect iris@production --json
expect_eq "$(json "$OUT" 'd["digest"]')" "$d1" "second rollback reaches v1"
expect_exit 4 mlp rollback iris@production
expect_contains "$ERR" "no previous version"
expect_exit 4 mlp rollback iris@nosuchstage
expect_exit 2 mlp rollback iris:v1
expect_exit 2 mlp promote iris:v1 "bad stage"
expect_exit 4 mlp promote iris:v9 production
expect_exit 4 mlp history iris@nosuchstage

step "history lists every move, newest first"
ok mlp history iris@production --json
expect_eq "$(json "$OUT" '[m["action"] for m in d["moves"]]')" \
  '["rollback", "rollback", "promote", "promote", "promote"]' "actions newest first"
expect_eq "$(json "$OUT" '[m["to"]["version"] for m in d["moves"]]')" \
  '["v1", "v2", "v3", "v2", "v1"]' "targets newest first"
expect_eq "$(json "$OUT" 'd["moves"][1]["reason"]')" "v3 is bad" "rollback reason"
ok mlp history iris@production
expect_eq "$(sed -n 1p "$OUT" | awk '{print $1, $2}')" "TIME ACTION" "human header"
expect_eq "$(sed -n 2p "$OUT" | awk '{print $2}')" "rollback" "human newest first"

step "a promote after rollbacks starts a new line of history"
ok mlp promote iris:v3 production
ok mlp rollback iris@production
ok mlp inspect iris@production --json
expect_eq "$(json "$OUT" 'd["digest"]')" "$d1" "rollback after a re-promote goes back to v1"

step "gc keeps every version a stage history names"
# A version reachable only through the history: promote it by digest, then
# move on. It has no tag, so only the log keeps it alive.
fake_pickle untagged >u.pkl
ok mlp -q pack --model u.pkl --no-preprocessing -t tmp:v1 --json
du=$(json "$OUT" 'd["digest"]')
ok mlp promote "$du" canary
rm .mlpack/refs/tags/tmp/v1  # simulate a version whose tag is gone
ok mlp promote iris:v1 canary
ok mlp gc
ok mlp fsck
ok mlp inspect "$du"

step "a torn last line from a crash is repaired, not fused with the next entry"
log=.mlpack/logs/stages/iris/production
printf '{"time": "2026-01-01T00:00:00Z", "act' >>"$log"
ok mlp promote iris:v2 production
ok mlp history iris@production --json
expect_eq "$(json "$OUT" 'd["moves"][0]["to"]["version"]')" "v2" "entry after the torn line"
expect_eq "$(tail -c 1 "$log" | od -An -c | tr -d ' ')" '\n' "log ends with a newline"
"$PY" - "$log" <<'PYEOF'
import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    json.loads(line)  # every line is one whole JSON object
PYEOF

step "a stage ref behind its log (crash between the two writes) is repaired"
printf 'sha256:%s\n' "${d3#sha256:}" >.mlpack/refs/stages/iris/production
ok mlp rollback iris@production --json
expect_eq "$(json "$OUT" 'd["from"]["version"]')" "v2" "rollback starts from what the log says"

step "twenty parallel promotes leave twenty entries in a consistent order"
new_repo ../race
cd ../race
for i in $(seq 1 20); do
  fake_pickle "race $i" >m.pkl
  mlp -q pack --model m.pkl --no-preprocessing -t "race:v$i" >/dev/null
done
pids=()
for i in $(seq 1 20); do
  mlp -q promote "race:v$i" production >/dev/null 2>"err.$i" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a parallel promote failed: $(cat err.* 2>/dev/null)"; done
ok mlp history race@production --json
"$PY" - "$OUT" <<'PYEOF'
import json, sys
moves = json.load(open(sys.argv[1]))["moves"][::-1]  # oldest first
assert len(moves) == 20, len(moves)
assert moves[0]["from"] is None, moves[0]
for before, after in zip(moves, moves[1:]):
    # Each move starts where the one before it ended: no lost update.
    assert after["from"]["digest"] == before["to"]["digest"], (before, after)
assert sorted(m["to"]["version"] for m in moves) == sorted(f"v{i}" for i in range(1, 21))
PYEOF
ok mlp inspect race@production --json
last=$(json "$OUT" 'd["digest"]')
ok mlp history race@production --json
expect_eq "$(json "$OUT" 'd["moves"][0]["to"]["digest"]')" "$last" "the ref is the last move"

step "a lock held by a killed process does not block"
"$PY" - .mlpack/stages.lock <<'PYEOF' &
import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(600)
PYEOF
holder=$!
for _ in $(seq 1 50); do
  # The holder prints once it has the lock; wait for that, bounded.
  if "$PY" -c 'import fcntl,sys; f=open(sys.argv[1],"a"); fcntl.flock(f, fcntl.LOCK_EX|fcntl.LOCK_NB)' \
    .mlpack/stages.lock 2>/dev/null; then sleep 0.1; else break; fi
done
mlp -q promote race:v1 production >/dev/null 2>&1 &
waiter=$!
sleep 0.5
kill -0 "$waiter" 2>/dev/null || fail "promote did not wait for the lock holder"
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$waiter" 2>/dev/null || break; sleep 0.1; done
kill -0 "$waiter" 2>/dev/null && fail "promote still blocked after the lock holder died"
wait "$waiter" || fail "promote failed after the lock holder died"
ok mlp inspect race@production --json
expect_eq "$(json "$OUT" 'd["manifest"]["version"]')" "v1" "promote went through"
echo "stages: ok"

# kill -9 during pack, import and gc (issue 2, item 8): no partial object is
# ever visible, no ref points at missing data, fsck is clean afterwards, gc
# sweeps the leftovers and a rerun succeeds.
#
# Kill delays are fractions of a calibrated run of the same operation, and
# each scenario insists on at least one kill that provably landed mid-way
# (exit 137 with work half done), else the test would prove nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRACTIONS=(0.15 0.35 0.55 0.75 0.9 0.05 0.45 0.65)

# seconds CMD... : runs CMD (which must succeed) and prints its wall time.
seconds() {
  local t0=$EPOCHREALTIME
  "$@" >/dev/null 2>&1 || fail "calibration run failed: $*"
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}

# delay_for TOTAL FRACTION : a kill delay, at least 5 ms.
delay_for() { awk -v t="$1" -v f="$2" 'BEGIN { d = t * f; if (d < 0.005) d = 0.005; printf "%.3f", d }'; }

# run_killed_when CHECK TIMEOUT CMD... : runs the binary in the background
# (directly, so the pid is mlpack's own) and kill -9s it as soon as the shell
# function CHECK succeeds (polled), or after TIMEOUT seconds; sets KILL_RC.
run_killed_when() {
  local check=$1 timeout=$2
  shift 2
  "$@" >"$TMP/.bg.out" 2>"$TMP/.bg.err" &
  local pid=$! t0=$EPOCHREALTIME
  while kill -0 "$pid" 2>/dev/null &&
    awk -v s="$t0" -v e="$EPOCHREALTIME" -v t="$timeout" 'BEGIN { exit !(e - s < t) }'; do
    "$check" && break
    sleep 0.01
  done
  kill -9 "$pid" 2>/dev/null || true
  KILL_RC=0
  wait "$pid" 2>/dev/null || KILL_RC=$?
  [[ $KILL_RC -eq 0 || $KILL_RC -eq 137 ]] ||
    fail "the operation failed by itself (exit $KILL_RC): $(cat "$TMP/.bg.err")"
}

# run_killed DELAY CMD... : the kill comes after DELAY seconds.
run_killed() {
  local delay=$1
  shift
  run_killed_when false "$delay" "$@"
}

# No temp or partial file may sit among the objects: only 64-hex names.
objects_are_clean() {
  local strays
  strays=$(find "$1/.mlpack/objects" -type f -regextype posix-extended ! -regex '.*/[0-9a-f]{2}/[0-9a-f]{64}' -print -quit)
  [[ -z $strays ]] || fail "non-object files in objects/: $strays"
}

tmp_count() { find "$1/.mlpack/tmp" -mindepth 1 | wc -l; }

# check_version REPO REF SHA : REF's model unpacks with this sha256.
check_version() {
  rm -rf "$TMP/check"
  ok mlp -C "$1" unpack "$2" -d "$TMP/check" --role model
  expect_eq "$(sha256 "$TMP/check/model.bin")" "$3" "sha256 of $2's model"
  rm -rf "$TMP/check"
}

# after_kill REPO NAME VERSION SHA : the invariants after a kill: fsck clean,
# and the version is either absent or whole.
after_kill() {
  local repo=$1 name=$2 version=$3 sha=$4
  objects_are_clean "$repo"
  ok mlp -C "$repo" fsck
  if [[ -e $repo/.mlpack/refs/tags/$name/$version ]]; then
    # Killed after the tag was written: then everything it names is there.
    [[ $KILL_RC -eq 0 ]] || echo "   (killed after the tag was written)"
    check_version "$repo" "$name:$version" "$sha"
  else
    expect_exit 4 mlp -C "$repo" inspect "$name:$version"
  fi
}

mkdir big
{ printf 'RAND' && head -c 300M /dev/urandom; } >big/model.bin
big_sha=$(sha256 big/model.bin)

step "pack: calibrate"
# Twice, keeping the faster: the first run also pays for a cold page cache.
new_repo calib0
t0=$(seconds mlp -C calib0 pack big --model model.bin --no-preprocessing -t big:v1)
new_repo calib
t1=$(seconds mlp -C calib pack big --model model.bin --no-preprocessing -t big:v1)
t_pack=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (a < b ? a : b) }')
rm -rf calib0
echo "   pack of 300 MiB takes ${t_pack}s"

step "pack: kill -9 at several points"
mid_pack=0
round=0
for f in "${FRACTIONS[@]}"; do
  round=$((round + 1))
  repo="$TMP/pack-$round"
  new_repo "$repo"
  run_killed "$(delay_for "$t_pack" "$f")" "$MLPACK" -C "$repo" pack big --model model.bin \
    --no-preprocessing -t big:v1
  leftovers=$(tmp_count "$repo")
  echo "   round $round: exit $KILL_RC, $leftovers temp files left"
  [[ $KILL_RC -eq 137 && $leftovers -gt 0 ]] && mid_pack=$((mid_pack + 1))
  after_kill "$repo" big v1 "$big_sha"
  # A rerun succeeds with the leftovers still there ...
  ok mlp -C "$repo" pack big --model model.bin --no-preprocessing -t big:v1
  ok mlp -C "$repo" fsck
  check_version "$repo" big:v1 "$big_sha"
  # ... and gc sweeps them.
  ok mlp -C "$repo" gc
  expect_eq "$(tmp_count "$repo")" "0" "temp files after gc"
  rm -rf "$repo"
  ((mid_pack < 2)) || break
done
((mid_pack > 0)) || fail "no kill landed in the middle of a pack; the test proved nothing"

step "gc during a pack does not take the blobs the pack is about to tag"
new_repo conc
"$MLPACK" -C conc pack big --model model.bin --no-preprocessing -t big:v1 >/dev/null 2>"$TMP/.bg.err" &
pid=$!
sleep "$(delay_for "$t_pack" 0.5)"
ok mlp -C conc gc
rc=0
wait "$pid" || rc=$?
[[ $rc -eq 0 ]] || fail "the pack beside gc failed: $(cat "$TMP/.bg.err")"
ok mlp -C conc fsck
check_version conc big:v1 "$big_sha"
rm -rf conc

step "import: calibrate"
ok mlp -C calib export big:v1 -o big.mlpack
new_repo calib-import
t_import=$(seconds mlp -C calib-import import big.mlpack)
echo "   import of 300 MiB takes ${t_import}s"
rm -rf calib calib-import

step "import: kill -9 at several points"
mid_import=0
round=0
for f in "${FRACTIONS[@]}"; do
  round=$((round + 1))
  repo="$TMP/import-$round"
  new_repo "$repo"
  run_killed "$(delay_for "$t_import" "$f")" "$MLPACK" -C "$repo" import big.mlpack
  leftovers=$(tmp_count "$repo")
  echo "   round $round: exit $KILL_RC, $leftovers temp files left"
  [[ $KILL_RC -eq 137 && $leftovers -gt 0 ]] && mid_import=$((mid_import + 1))
  after_kill "$repo" big v1 "$big_sha"
  ok mlp -C "$repo" import big.mlpack
  ok mlp -C "$repo" fsck
  check_version "$repo" big:v1 "$big_sha"
  ok mlp -C "$repo" gc
  expect_eq "$(tmp_count "$repo")" "0" "temp files after gc"
  rm -rf "$repo"
  ((mid_import < 2)) || break
done
((mid_import > 0)) || fail "no kill landed in the middle of an import; the test proved nothing"
rm -f big.mlpack

step "gc: many unreachable objects"
new_repo gcrepo
reachable=()
for v in 1 2 3; do
  mkdir -p "small$v"
  { printf 'RAND' && head -c 4096 /dev/urandom; } >"small$v/model.bin"
  ok mlp -C gcrepo pack "small$v" --model model.bin --no-preprocessing -t "small:v$v"
  reachable+=("$(sha256 "small$v/model.bin")")
done
live=$(find gcrepo/.mlpack/objects -type f | wc -l)
GARBAGE=10000
# plant SALT : GARBAGE small objects no ref reaches, named by their digests.
plant() {
  "$PY" - gcrepo "$GARBAGE" "$1" <<'EOF'
import hashlib, os, sys
root, n, salt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
base = os.path.join(root, ".mlpack", "objects", "sha256")
for i in range(n):
    data = f"garbage {salt} {i}\n".encode()
    h = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(base, h[:2]), exist_ok=True)
    with open(os.path.join(base, h[:2], h), "wb") as f:
        f.write(data)
EOF
}
count_objects() { find gcrepo/.mlpack/objects -type f | wc -l; }

step "gc: calibrate"
plant calib
expect_eq "$(count_objects)" "$((live + GARBAGE))" "objects after planting"
t_gc=$(seconds mlp -C gcrepo gc)
echo "   gc of $GARBAGE objects takes ${t_gc}s"
expect_eq "$(count_objects)" "$live" "objects after a full gc"

step "gc: kill -9 at several points"
mid_gc=0
round=0
# First a kill the moment deletions have begun (however long gc takes on a
# loaded machine to get there), then kills at fractions of a calibrated run.
deleting() { [[ $(count_objects) -lt $((live + GARBAGE)) ]]; }
for f in poll "${FRACTIONS[@]}"; do
  round=$((round + 1))
  plant "round$round"
  if [[ $f == poll ]]; then
    run_killed_when deleting 60 "$MLPACK" -C gcrepo gc
  else
    run_killed "$(delay_for "$t_gc" "$f")" "$MLPACK" -C gcrepo gc
  fi
  left=$(($(count_objects) - live))
  echo "   round $round: exit $KILL_RC, $left of $GARBAGE unreachable objects left"
  ((left >= 0)) || fail "gc killed mid-way removed a reachable object"
  [[ $KILL_RC -eq 137 && $left -gt 0 && $left -lt $GARBAGE ]] && mid_gc=$((mid_gc + 1))
  objects_are_clean gcrepo
  ok mlp -C gcrepo fsck
  for v in 1 2 3; do check_version gcrepo "small:v$v" "${reachable[$((v - 1))]}"; done
  ok mlp -C gcrepo gc
  expect_eq "$(count_objects)" "$live" "objects after rerunning gc"
  ok mlp -C gcrepo fsck
  ((mid_gc < 2)) || break
done
((mid_gc > 0)) || fail "no kill landed in the middle of gc's deletions; the test proved nothing"

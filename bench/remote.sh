#!/usr/bin/env bash
# Remote benchmark (run on demand, not a test). Pushes and pulls one big
# random model to a private nginx WebDAV server over loopback, and in the same
# rounds sends and fetches the same bytes with `curl -T` / `curl -o`, so that
# mlpack is measured against the best a plain HTTP client does on this machine
# rather than against an absolute number. Then pushes a version that changes
# only metrics.json and counts the request bytes nginx received for it.
# Goals (issue): push >= 0.8x curl -T and pull >= 0.8x curl -o throughput
# (ratio of medians), peak RSS of push and pull <= 100 MiB, metrics-only push
# < 64 KiB on the wire.
#   bench/remote.sh [SIZE_MIB]     default 1024
# Env: MLPACK (binary; default build/mlpack, built if missing), ROUNDS (3), BENCH_DIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-3}
mib=${1:-1024}
usage=bench/remote.sh
# shellcheck source=SCRIPTDIR/lib.sh
source "$root/bench/lib.sh"
# shellcheck source=SCRIPTDIR/../tests/cli/nginx.sh
source "$MLPACK_TESTS_DIR/cli/nginx.sh"
trap bench_exit EXIT

work=$TMP
srv=$work/srv # the folder nginx serves
model=$work/model
repo=$work/repo

# timed NAME CMD... : runs CMD (output kept in $work/NAME.{out,err}; it must
# succeed) under /usr/bin/time; sets SECS to its wall time and KIB to its
# peak RSS in KiB. time's own wall clock has only centiseconds, so the clock
# is read around it: the fork of time is noise next to a transfer.
timed() {
  local name=$1 t0
  shift
  # Neither nginx nor curl -o flush what they write, so without this the next
  # command, whichever it is, would pay for writing their gigabyte back (mlpack
  # pull fsyncs its blob: it would also flush those pages). Each command starts
  # with nothing dirty and is charged only for its own I/O.
  sync
  t0=$EPOCHREALTIME
  /usr/bin/time -f %M -o "$work/$name.rss" "$@" >"$work/$name.out" 2>"$work/$name.err" || {
    cat "$work/$name.err" >&2
    fail "$name failed: $*"
  }
  SECS=$(awk -v s="$t0" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.3f", e - s }')
  KIB=$(tail -n 1 "$work/$name.rss")
}


# logged_push NAME URL REF : pushes REF to URL and waits for nginx to have logged
# every request of it; sets FIRST_LINE (its first line in the access log) and
# REQUESTS. -v prints one line per request that got an answer, i.e. per line
# nginx logs, and nginx may write the last one just after mlpack has exited:
# without the wait, a straggler of one push would be counted in the next.
logged_push() {
  FIRST_LINE=$(($(wc -l <"$NGINX_ACCESS_LOG") + 1))
  mlp -C "$repo" -v --progress none push -r "$2" "$3" >/dev/null 2>"$work/$1.err"
  REQUESTS=$(grep -cE '^mlpack: debug: [A-Z]+ [^ ]+ -> [0-9]+ ' "$work/$1.err")
  nginx_wait_log "$NGINX_ACCESS_LOG" "$((FIRST_LINE - 1 + REQUESTS))"
}

# pack_json_model_sha FILE : the sha256 of model.bin in a `pack --json` output.
pack_json_model_sha() { json "$1" '[f["sha256"] for f in d["files"] if f["path"] == "model.bin"][0]'; }

echo "machine: nproc=$(nproc), $("$MLPACK" --version | head -n 1), $(curl --version | head -n 1)"
echo "size: ${mib} MiB, rounds: $rounds, work folder: $work"

# --- set-up, once --------------------------------------------------------------
mlp key generate --no-password >/dev/null
mkdir -p "$model" "$repo"
mlp -C "$repo" init >/dev/null
{ printf 'RAND' && head -c "$((mib * 1024 * 1024))" /dev/urandom; } >"$model/model.bin"
echo '{"accuracy": 0.91, "loss": 0.27}' >"$model/metrics.json"
mlp -C "$repo" -q pack "$model" --model model.bin --metrics metrics.json \
  --no-preprocessing -t big:v1 --json >"$work/pack-v1.json"
nginx_start bench "$srv"
bytes=$(stat -c %s "$model/model.bin")

# --- rounds ------------------------------------------------------------------------
# mlpack and curl alternate within a round, so that a slow spell of the machine
# (another build on it) hits both alike.
push_s=() curl_put_s=() pull_s=() curl_get_s=()
push_kib=0 pull_kib=0
for ((r = 1; r <= rounds; r++)); do
  # A fresh prefix each round: a push to one that has the blob uploads nothing.
  url=$NGINX_URL/round-$r
  timed push "$MLPACK" -C "$repo" --progress none push -r "$url" big:v1
  push_s+=("$SECS")
  ((KIB > push_kib)) && push_kib=$KIB

  timed curl-put curl -sS --fail -T "$model/model.bin" "$NGINX_URL/curl-$r/model.bin"
  curl_put_s+=("$SECS")

  puller=$work/pull-$r
  mkdir -p "$puller"
  mlp -C "$puller" init >/dev/null
  timed pull "$MLPACK" -C "$puller" --progress none pull -r "$url" big:v1
  pull_s+=("$SECS")
  ((KIB > pull_kib)) && pull_kib=$KIB

  timed curl-get curl -sS --fail -o "$work/curl-get.bin" "$NGINX_URL/curl-$r/model.bin"
  curl_get_s+=("$SECS")
  [[ $(stat -c %s "$work/curl-get.bin") == "$bytes" ]] || fail "curl -o fetched a short file"

  echo "round $r: push ${push_s[-1]}s, curl -T ${curl_put_s[-1]}s, pull ${pull_s[-1]}s, curl -o ${curl_get_s[-1]}s"
  # Keep disk use at about one round's worth.
  rm -rf "$srv/round-$r" "$srv/curl-$r" "$puller" "$work/curl-get.bin"
done

# --- metrics-only version ------------------------------------------------------------
# A remote that already holds big:v1: only v2's manifest, signature, tag and
# the new metrics.json should travel, however big the model is.
logged_push push-v1 "$NGINX_URL/metrics-only" big:v1
echo '{"accuracy": 0.93, "loss": 0.25}' >"$model/metrics.json"
mlp -C "$repo" -q pack "$model" --model model.bin --metrics metrics.json \
  --no-preprocessing -t big:v2 --json >"$work/pack-v2.json"
[[ $(pack_json_model_sha "$work/pack-v1.json") == "$(pack_json_model_sha "$work/pack-v2.json")" ]] ||
  fail "big:v2 does not share big:v1's model blob"
logged_push push-v2 "$NGINX_URL/metrics-only" big:v2
metrics_requests=$REQUESTS
new_lines() { tail -n +"$FIRST_LINE" "$NGINX_ACCESS_LOG"; }
metrics_bytes=$(new_lines | awk '{s += $4} END {print s + 0}')
metrics_by_method=$(new_lines | awk '{n[$1]++; b[$1] += $4} END {for (m in n) printf "%s %dx %dB, ", m, n[m], b[m]}')
rm -rf "$srv/metrics-only"

# --- results ------------------------------------------------------------------------
mib_of() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
fail_goal=0
# ratio = mlpack throughput / curl throughput = curl_s / mlpack_s.
printf '\n%-9s %8s %9s %11s %13s %6s %13s %4s\n' direction curl_s mlpack_s curl_MiB/s \
  mlpack_MiB/s ratio peak_rss_MiB met
row() { # DIRECTION CURL_MEDIAN MLPACK_MEDIAN PEAK_KIB
  local ratio met=yes
  ratio=$(awk -v c="$2" -v m="$3" 'BEGIN { printf "%.2f", c / m }')
  if awk -v x="$ratio" 'BEGIN { exit !(x < 0.8) }' || (($4 > 100 * 1024)); then met=no fail_goal=1; fi
  printf '%-9s %8.2f %9.2f %11.0f %13.0f %6s %13s %4s\n' "$1" "$2" "$3" \
    "$(awk -v s="$2" -v n="$mib" 'BEGIN { print n / s }')" \
    "$(awk -v s="$3" -v n="$mib" 'BEGIN { print n / s }')" \
    "$ratio" "$(mib_of "$4")" "$met"
}
row push "$(median "${curl_put_s[@]}")" "$(median "${push_s[@]}")" "$push_kib"
row pull "$(median "${curl_get_s[@]}")" "$(median "${pull_s[@]}")" "$pull_kib"
met=yes
((metrics_bytes < 64 * 1024)) || { met=no fail_goal=1; }
printf '\nmetrics-only push of big:v2: %d request bytes in %d requests (goal < 65536): %s\n' \
  "$metrics_bytes" "$metrics_requests" "$met"
echo "  by method: ${metrics_by_method%, }"
if ((fail_goal)); then
  echo "goal missed: ratio >= 0.80, peak RSS <= 100 MiB, metrics-only push < 64 KiB"
  exit 1
fi
echo "goals met: ratio >= 0.80, peak RSS <= 100 MiB, metrics-only push < 64 KiB"

#!/usr/bin/env bash
# Pack benchmark (run on demand, not a test). For random files of each size
# (default 1 GiB and 4 GiB) it times `sha256sum FILE` and `mlpack pack` of the
# same file side by side, several rounds alternating, and reports the ratio
# of medians and pack's peak RSS (from /usr/bin/time -v).
# Goals (issue 2): ratio <= 1.5, peak RSS <= 64 MiB at every size.
#   bench/pack.sh [SIZE_MIB...]    e.g. bench/pack.sh 1024 4096
# Env: MLPACK (binary; default build/mlpack, built if missing), ROUNDS (3), BENCH_DIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mlpack=${MLPACK:-$root/build/mlpack}
[[ -x "$mlpack" ]] || "$root/scripts/build.sh" "$root/build"
rounds=${ROUNDS:-3}
sizes=("$@")
((${#sizes[@]})) || sizes=(1024 4096)
work=$(mktemp -d "${BENCH_DIR:-/tmp}/mlpack-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT

seconds() { # prints wall seconds of "$@" (output discarded)
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-9s %12s %12s %8s %14s\n' size sha256sum_s pack_s ratio pack_peak_rss
fail=0
for mib in "${sizes[@]}"; do
  src="$work/model-$mib"
  mkdir -p "$src"
  { printf 'RAND' && head -c "$((mib * 1024 * 1024))" /dev/urandom; } >"$src/model.bin"
  sha_times=()
  pack_times=()
  peak_kib=0
  for ((r = 0; r < rounds; r++)); do
    sha_times+=("$(seconds sha256sum "$src/model.bin")")
    repo="$work/repo-$mib-$r"
    mkdir -p "$repo"
    "$mlpack" -C "$repo" init >/dev/null
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$work/time.txt" "$mlpack" -C "$repo" -q pack "$src" --model model.bin \
      --no-preprocessing -t "bench:r$r" >/dev/null
    end=$(date +%s.%N)
    pack_times+=("$(echo "$end - $start" | bc -l)")
    kib=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time.txt")
    ((kib > peak_kib)) && peak_kib=$kib
    rm -rf "$repo"
  done
  sha=$(median "${sha_times[@]}")
  pack=$(median "${pack_times[@]}")
  ratio=$(echo "$pack / $sha" | bc -l)
  printf '%-9s %12.2f %12.2f %8.2f %10.1f MiB\n' "${mib}MiB" "$sha" "$pack" "$ratio" \
    "$(echo "$peak_kib / 1024" | bc -l)"
  if (($(echo "$ratio > 1.5" | bc -l))) || ((peak_kib > 64 * 1024)); then fail=1; fi
  rm -rf "$src"
done
if ((fail)); then echo "goal missed: ratio <= 1.5 and peak RSS <= 64 MiB"; exit 1; fi
echo "goals met: ratio <= 1.5 and peak RSS <= 64 MiB"

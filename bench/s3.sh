#!/usr/bin/env bash
# S3 benchmark (run on demand, not a test). Pushes and pulls one big random
# model to a private moto S3 server over loopback, and in the same rounds
# uploads and downloads the same bytes with `aws s3 cp`, so that mlpack is
# measured against the reference S3 client on the same server rather than
# against an absolute number. moto, one Python process, is far slower than
# S3 and sets the pace for both clients, so the ratios compare how the two
# request patterns fare on moto more than how fast each client is: moto
# reads the whole object for every ranged GET (a download costs it about
# SIZE per range, and it holds a few copies at once: ~5 GiB of RSS at 1 GiB)
# and joins a multipart upload's parts in memory when it is completed
# (~4 s at 1 GiB, the same for both clients).
# Goals (issue #6): push and pull no slower than `aws s3 cp` (ratio of
# medians >= 1.0 both ways), peak RSS of push and pull <= 100 MiB.
#   bench/s3.sh [SIZE_MIB]         default 1024
# Env: MLPACK (binary; default build/mlpack, built if missing), ROUNDS (3),
# BENCH_DIR, MOTO_PYTHON (see tests/cli/moto.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-3}
mib=${1:-1024}
usage=bench/s3.sh
# shellcheck source=SCRIPTDIR/lib.sh
source "$root/bench/lib.sh"
# shellcheck source=SCRIPTDIR/../tests/cli/moto.sh
source "$MLPACK_TESTS_DIR/cli/moto.sh"
trap bench_exit EXIT

work=$TMP
model=$work/model
repo=$work/repo

# mlpack reaches moto the way a user's shell would reach S3: the key and the
# endpoint from the environment. Nothing else from the caller's AWS set-up
# may apply (a profile, a session token, another endpoint); moto_aws runs
# the CLI with a clean environment of its own.
unset AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_SESSION_TOKEN \
  AWS_DEFAULT_REGION AWS_ENDPOINT_URL
export AWS_EC2_METADATA_DISABLED=true

clk_tck=$(getconf CLK_TCK)
# moto_cpu_ticks : user + system CPU that the moto server has used so far.
# Fields 14 and 15 of /proc/PID/stat; moto's comm ("python3") has no spaces.
moto_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$moto_pid/stat"; }
# moto_mib FIELD : VmRSS (now) or VmHWM (peak) of the moto server, in MiB.
moto_mib() { awk -v f="$1:" '$1 == f { printf "%.0f", $2 / 1024 }' "/proc/$moto_pid/status"; }

# timed NAME CMD... : runs CMD (output kept in $work/NAME.{out,err}; it must
# succeed); sets SECS to its wall time, CPU to the user + system seconds of
# its processes and MOTO to the CPU seconds moto spent meanwhile. A binary
# runs under /usr/bin/time, which sets KIB to its peak RSS in KiB; moto_aws,
# a shell function, cannot, so for it KIB is 0. time's own wall clock has
# only centiseconds, so the clock is read around it: the fork of time is
# noise next to a transfer. The CPU comes from `times` (children of this
# shell): it has to run in this shell, not in a $(...).
timed() {
  local name=$1 t0 m0 run=()
  shift
  declare -F "$1" >/dev/null || run=(/usr/bin/time -f %M -o "$work/$name.rss")
  # moto writes what it receives to temp files, the aws CLI the file it
  # downloads, and neither flushes: without this the next command, whichever
  # it is, would pay for writing their gigabyte back (mlpack pull fsyncs its
  # blob: it would also flush those pages). Each command starts with
  # nothing dirty and is charged only for its own I/O.
  sync
  m0=$(moto_cpu_ticks)
  times >"$work/times.0"
  t0=$EPOCHREALTIME
  "${run[@]}" "$@" >"$work/$name.out" 2>"$work/$name.err" || {
    cat "$work/$name.err" >&2
    fail "$name failed: $*"
  }
  SECS=$(awk -v s="$t0" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.3f", e - s }')
  times >"$work/times.1"
  MOTO=$(awk -v a="$m0" -v b="$(moto_cpu_ticks)" -v hz="$clk_tck" 'BEGIN { printf "%.2f", (b - a) / hz }')
  CPU=$(awk -v a="$(children_cpu "$work/times.0")" -v b="$(children_cpu "$work/times.1")" \
    'BEGIN { printf "%.2f", b - a }')
  KIB=0
  ((${#run[@]} == 0)) || KIB=$(tail -n 1 "$work/$name.rss")
}
# children_cpu FILE : user + system seconds of the children in a `times`
# output (its second line: "0m1.234s 0m0.567s").
children_cpu() {
  awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, "m"); s += t[1] * 60 + t[2] } }
       END { printf "%.3f", s }' "$1"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

# --- set-up, once --------------------------------------------------------------
# The harness's bucket is versioned (for moto_state): an object deleted there
# stays as an old version, i.e. 2 GiB more kept by moto each round. A bucket
# of our own is not versioned, so a round's objects really go when the round
# deletes them. MOTO_BUCKET names it, so that moto.sh's helpers act on it.
moto_start bench
moto_aws s3 mb "s3://bench" >/dev/null
MOTO_BUCKET=bench
# The harness keeps the pid of each server it started; moto's CPU time shows
# whether it, not the client, is what limits a transfer.
moto_pid=${_MOTO_PID[bench]}
export AWS_ACCESS_KEY_ID=$MOTO_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$MOTO_SECRET_ACCESS_KEY
export AWS_REGION=$MOTO_REGION AWS_ENDPOINT_URL_S3=$MOTO_URL

# The comparison is with the CLI as users run it: moto_aws must leave the
# s3 transfer settings at their defaults (8 MiB multipart threshold and
# chunks, 10 concurrent requests), which `configure get` shows as unset;
# the addressing style it does set proves that the query reads its config.
[[ $(moto_aws configure get default.s3.addressing_style) == path ]] ||
  fail "aws configure get does not read moto_aws's config"
for setting in multipart_threshold multipart_chunksize max_concurrent_requests max_bandwidth; do
  if value=$(moto_aws configure get "default.s3.$setting"); then
    fail "moto_aws sets s3.$setting ($value): not the aws CLI's default"
  fi
done

echo "machine: nproc=$(nproc), load average $(load), $("$MLPACK" --version | head -n 1), $(moto_aws --version 2>&1)"
echo "size: ${mib} MiB, rounds: $rounds, work folder: $work, moto: $MOTO_URL (pid $moto_pid)"
echo "aws s3 transfer settings: CLI defaults (8 MiB threshold and chunks, 10 concurrent requests)"

mlp key generate --no-password >/dev/null
mkdir -p "$model" "$repo"
mlp -C "$repo" init >/dev/null
{ printf 'RAND' && head -c "$((mib * 1024 * 1024))" /dev/urandom; } >"$model/model.bin"
mlp -C "$repo" -q pack "$model" --model model.bin --no-preprocessing -t big:v1 >/dev/null
bytes=$(stat -c %s "$model/model.bin")

# --- rounds ------------------------------------------------------------------------
# mlpack and the aws CLI alternate within a round, so that a slow spell of
# the machine (another build on it) hits both alike.
push_s=() aws_up_s=() pull_s=() aws_down_s=()
push_cpu=() aws_up_cpu=() pull_cpu=() aws_down_cpu=()
push_moto=() aws_up_moto=() pull_moto=() aws_down_moto=()
push_kib=0 pull_kib=0
for ((r = 1; r <= rounds; r++)); do
  # A fresh prefix each round: a push to one that has the blob uploads nothing.
  url=s3://$MOTO_BUCKET/round-$r
  aws_url=s3://$MOTO_BUCKET/aws-$r/model.bin
  timed push "$MLPACK" -C "$repo" --progress none push -r "$url" big:v1
  push_s+=("$SECS") push_cpu+=("$CPU") push_moto+=("$MOTO")
  ((KIB > push_kib)) && push_kib=$KIB

  # --only-show-errors: no progress meter, as mlpack's --progress none.
  timed aws-up moto_aws s3 cp --only-show-errors "$model/model.bin" "$aws_url"
  aws_up_s+=("$SECS") aws_up_cpu+=("$CPU") aws_up_moto+=("$MOTO")

  puller=$work/pull-$r
  mkdir -p "$puller"
  mlp -C "$puller" init >/dev/null
  timed pull "$MLPACK" -C "$puller" --progress none pull -r "$url" big:v1
  pull_s+=("$SECS") pull_cpu+=("$CPU") pull_moto+=("$MOTO")
  ((KIB > pull_kib)) && pull_kib=$KIB

  timed aws-down moto_aws s3 cp --only-show-errors "$aws_url" "$work/aws-down.bin"
  aws_down_s+=("$SECS") aws_down_cpu+=("$CPU") aws_down_moto+=("$MOTO")
  [[ $(stat -c %s "$work/aws-down.bin") == "$bytes" ]] || fail "aws s3 cp downloaded a short file"

  # Both uploads were multipart: none may be left open (moto would keep its
  # parts, and it would mean a push that did not finish its job).
  open=$(moto_open_multipart_uploads "") || fail "cannot list multipart uploads: $open"
  [[ $open == 0 ]] || fail "$open multipart uploads left open after round $r"
  # moto keeps every object; without this it would hold 2 GiB more each round.
  moto_aws s3 rm --recursive --only-show-errors "s3://$MOTO_BUCKET/round-$r/"
  moto_aws s3 rm --recursive --only-show-errors "s3://$MOTO_BUCKET/aws-$r/"
  rm -rf "$puller" "$work/aws-down.bin"
  # The load average includes this benchmark's own: moto keeps a core busy.
  echo "round $r: push ${push_s[-1]}s, aws up ${aws_up_s[-1]}s, pull ${pull_s[-1]}s," \
    "aws down ${aws_down_s[-1]}s; moto RSS $(moto_mib VmRSS) MiB; load $(load)"
done

# --- results ------------------------------------------------------------------------
mib_of() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
fail_goal=0
# ratio = mlpack throughput / aws throughput = aws_s / mlpack_s.
printf '\n%-9s %7s %9s %10s %13s %6s %13s %4s\n' direction aws_s mlpack_s aws_MiB/s \
  mlpack_MiB/s ratio peak_rss_MiB met
row() { # DIRECTION AWS_MEDIAN MLPACK_MEDIAN PEAK_KIB
  local ratio met=yes
  ratio=$(awk -v a="$2" -v m="$3" 'BEGIN { printf "%.2f", a / m }')
  if awk -v x="$ratio" 'BEGIN { exit !(x < 1.0) }' || (($4 > 100 * 1024)); then met=no fail_goal=1; fi
  printf '%-9s %7.2f %9.2f %10.0f %13.0f %6s %13s %4s\n' "$1" "$2" "$3" \
    "$(awk -v s="$2" -v n="$mib" 'BEGIN { print n / s }')" \
    "$(awk -v s="$3" -v n="$mib" 'BEGIN { print n / s }')" \
    "$ratio" "$(mib_of "$4")" "$met"
}
row push "$(median "${aws_up_s[@]}")" "$(median "${push_s[@]}")" "$push_kib"
row pull "$(median "${aws_down_s[@]}")" "$(median "${pull_s[@]}")" "$pull_kib"

# Where the time goes (medians): moto_busy is moto's CPU time over the wall
# time. Near or above 100% (the kernel's copies and the I/O its threads do
# outside the GIL count too), the server, not the client, set the pace.
printf '\n%-12s %7s %13s %11s %10s\n' command wall_s client_cpu_s moto_cpu_s moto_busy
busy() { # LABEL WALLS CPUS MOTOS (names of arrays)
  local -n w=$2 c=$3 m=$4
  local wall moto
  wall=$(median "${w[@]}") moto=$(median "${m[@]}")
  printf '%-12s %7.2f %13.2f %11.2f %9.0f%%\n' "$1" "$wall" "$(median "${c[@]}")" "$moto" \
    "$(awk -v m="$moto" -v w="$wall" 'BEGIN { print 100 * m / w }')"
}
busy "mlpack push" push_s push_cpu push_moto
busy "aws up" aws_up_s aws_up_cpu aws_up_moto
busy "mlpack pull" pull_s pull_cpu pull_moto
busy "aws down" aws_down_s aws_down_cpu aws_down_moto
echo "moto peak RSS: $(moto_mib VmHWM) MiB; load average at the end: $(load)"
if ((fail_goal)); then
  echo "goal missed: ratio >= 1.00 (no slower than aws s3 cp), peak RSS <= 100 MiB"
  exit 1
fi
echo "goals met: ratio >= 1.00 (no slower than aws s3 cp), peak RSS <= 100 MiB"

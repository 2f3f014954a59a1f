# What the remote benchmarks share; sourced by bench/remote.sh and bench/s3.sh
# after they set `usage`, `mib` and `rounds`. It builds the binary if needed
# and borrows the test harness for what a benchmark needs too: a private
# XDG_CONFIG_HOME/HOME (the signing key a benchmark makes must not touch the
# user's keys, and no ~/.curlrc or ~/.aws may skew a client), a clean mlpack
# environment, LC_ALL=C for the number formats, and $TMP, which the server
# harnesses require. TMPDIR is set only while lib.sh makes $TMP, so that
# BENCH_DIR picks the disk as in bench/pack.sh. Every path is absolute, so
# lib.sh's cd into $TMP does not matter.
[[ $mib =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]] ||
  { echo "usage: [ROUNDS=N] $usage [SIZE_MIB]" >&2; exit 2; }
MLPACK=${MLPACK:-$root/build/mlpack}
[[ -x "$MLPACK" ]] || "$root/scripts/build.sh" "$root/build"

# shellcheck source=SCRIPTDIR/../tests/cli/lib.sh
TMPDIR=${BENCH_DIR:-/tmp} source "$root/tests/cli/lib.sh"

# lib.sh keeps $TMP when the script fails, for a test to be debugged; here it
# holds gigabytes, and a missed goal is a failure, so it always goes. The
# servers must be down first: they may still be writing into $TMP.
bench_exit() {
  local rc=$?
  harness_stop_all
  rm -rf "$TMP"
  exit "$rc"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan + UBSan) and runs each for a
# bounded time: any crash, sanitizer report, hang (over 10 s on one input) or
# memory blow-up (over 2 GiB) fails the run and leaves the input in
# build-fuzz/artifacts/.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 60)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build_dir=${FUZZ_BUILD_DIR:-$root/build-fuzz}

"$root/scripts/install-deps.sh"
packages=(clang-14 libfuzzer-14-dev python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  as_root=()
  [[ $(id -u) -eq 0 ]] || as_root=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMLPACK_FUZZ=ON -DMLPACK_SANITIZE=ON -DMLPACK_BUILD_TESTS=OFF >/dev/null
ninja -C "$build_dir" fuzz_pickle fuzz_safetensors

# Seeds: real pickles (Python's own, at every protocol, and joblib's) and
# safetensors files, so the fuzzer starts from the formats' insides.
corpus=$build_dir/corpus
mkdir -p "$corpus/pickle" "$corpus/safetensors" "$build_dir/artifacts"
/usr/bin/python3 "$root/tests/tools/make_pickles.py" "$build_dir/seeds" >/dev/null
for f in "$build_dir"/seeds/*.pkl "$build_dir"/seeds/pipeline.joblib "$build_dir"/seeds/objects.joblib; do
  # The first byte picks plain (even) or joblib (odd) reading.
  { printf '\x00'; cat "$f"; } >"$corpus/pickle/$(basename "$f").plain"
  { printf '\x01'; cat "$f"; } >"$corpus/pickle/$(basename "$f").joblib"
done
/usr/bin/python3 - "$corpus/safetensors" <<'PY'
import json, struct, sys
out = sys.argv[1]
def write(name, header, data):
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    open(f"{out}/{name}", "wb").write(struct.pack("<Q", len(h)) + h + data)
write("one", {"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}, b"\0" * 16)
write("two", {"__metadata__": {"format": "pt"},
              "a": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]},
              "b": {"dtype": "BF16", "shape": [3], "data_offsets": [8, 14]}}, b"\0" * 14)
write("empty", {}, b"")
PY

for target in fuzz_pickle fuzz_safetensors; do
  dir=$corpus/${target#fuzz_}
  echo "fuzzing $target for ${seconds}s" >&2
  "$build_dir/fuzz/$target" "$dir" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=1048576 -artifact_prefix="$build_dir/artifacts/$target-" -print_final_stats=1 \
    2>"$build_dir/$target.log" || {
    tail -40 "$build_dir/$target.log" >&2
    echo "fuzz: $target failed; the input is in $build_dir/artifacts/" >&2
    exit 1
  }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build_dir/$target.log" >&2
done
echo "fuzz: ok (${seconds}s per target, no crash, sanitizer report or hang)"

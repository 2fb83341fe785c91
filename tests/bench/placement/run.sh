#!/usr/bin/env bash
# Builds placement_bench in a clean Release directory and runs it the way docs/placement.md
# reports it: every benchmark repeated, with mean, median, min and max of the repetitions,
# and the machine and its load printed first, because both change the figures.
#
#   tests/bench/placement/run.sh [BUILD_DIR] [REPETITIONS] [FILTER]
#   tests/bench/placement/run.sh build/placement-release 5 'BM_ChooseTarget/nodes:5000'
set -euo pipefail

SRC="$(cd "$(dirname "$0")/../../.." && pwd)"
BUILD="${1:-$SRC/build/placement-release}"
REPETITIONS="${2:-5}"
FILTER="${3:-.}"

cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFERRY_SANITIZE=OFF \
  -DFERRY_BENCHMARKS=ON >/dev/null
cmake --build "$BUILD" --target placement_bench core_clock -j "$(nproc)"

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)|CPU MHz|CPU max MHz|L2 cache|Hypervisor vendor):' || true
grep -m1 'cpu MHz' /proc/cpuinfo || true
"$BUILD/tests/bench/placement/core_clock"
echo "compiler: $(c++ --version | head -1); flags: $(grep -m1 'CMAKE_CXX_FLAGS_RELEASE:' "$BUILD/CMakeCache.txt")"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$BUILD/tests/bench/placement/placement_bench" --benchmark_filter="$FILTER" \
  --benchmark_repetitions="$REPETITIONS" --benchmark_report_aggregates_only=true \
  --benchmark_min_time=1
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

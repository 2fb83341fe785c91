#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (Debian's clang 16; -fsanitize=fuzzer,address,undefined):
# builds the fuzz targets of tests/fuzz in build/fuzz, runs each for SECONDS on a working copy of
# its corpus with its dictionary, prints the executions and the coverage it reached, and with
# MERGE=1 (the default) minimises the new inputs into tests/fuzz/corpus/<target>/ and copies
# every crash, minimised, there as crash-<sha1> (also kept in build/fuzz/crashes/<target>/):
# the test command replays it from then on, so it fails until the bug is fixed.
#   hack/fuzz/run.sh [SECONDS] [TARGET...]        default: 60 s, every target
# env: JOBS=1 (parallel targets)  MERGE=0 (leave the corpus alone)  BUILD_DIR=build/fuzz
#      MAX_LEN=4096  RSS_MB=2048
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
SECONDS_PER_TARGET=${1:-60}
shift || true
BUILD_DIR=${BUILD_DIR:-build/fuzz}
JOBS=${JOBS:-1}
MERGE=${MERGE:-1}
MAX_LEN=${MAX_LEN:-4096}
RSS_MB=${RSS_MB:-2048}

command -v clang++-16 >/dev/null || { echo "run.sh: clang++-16 missing (hack/install-deps.sh installs it)" >&2; exit 2; }
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  CC=clang-16 CXX=clang++-16 cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DFERRY_SANITIZE=ON -DFERRY_FUZZ=ON -DFERRY_BENCHMARKS=OFF -DFERRY_LAB_TESTS=OFF \
    -DFERRY_KUBE_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" --target fuzz -j "$(nproc)"

TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  mapfile -t TARGETS < <(sed -nE 's/^ *ferry_add_fuzz_target\(([a-z_]+) .*/\1/p' tests/fuzz/CMakeLists.txt)
fi
dict_of() { sed -nE "s/^ *ferry_add_fuzz_target\($1 .*DICT ([a-z.]+)\).*/\1/p" tests/fuzz/CMakeLists.txt; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer-16 || command -v llvm-symbolizer || true)}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp}

fuzz_one() {
  local t=$1 bin="$ROOT/$BUILD_DIR/tests/fuzz/$1" work="$ROOT/$BUILD_DIR/work/$1"
  local crashes="$ROOT/$BUILD_DIR/crashes/$1" log="$ROOT/$BUILD_DIR/logs/$1.log" dict
  mkdir -p "$work" "$crashes" "$(dirname "$log")"
  cp -n "$ROOT/tests/fuzz/corpus/$t/"* "$work/" 2>/dev/null || true
  dict=$(dict_of "$t")
  local args=(-max_total_time="$SECONDS_PER_TARGET" -max_len="$MAX_LEN" -rss_limit_mb="$RSS_MB"
              -timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/")
  [ -n "$dict" ] && args+=(-dict="$ROOT/tests/fuzz/dict/$dict")
  local rc=0 began="$ROOT/$BUILD_DIR/logs/$1.began"
  touch "$began"  # crashes of earlier runs stay in $crashes; only this run's are counted
  (cd "$work/.." && "$bin" "${args[@]}" "$work") > "$log" 2>&1 || rc=$?
  # Minimise every crash the run left, next to it.
  local c
  for c in "$crashes"/crash-* "$crashes"/timeout-* "$crashes"/oom-* "$crashes"/leak-*; do
    [ -f "$c" ] || continue
    case $c in *.min) continue ;; esac
    [ -f "$c.min" ] || "$bin" -minimize_crash=1 -runs=20000 -exact_artifact_path="$c.min" "$c" >/dev/null 2>&1 || true
  done
  local execs cov ft secs corpus
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -1)
  secs=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(ls "$work" | wc -l)
  local found; found=$(find "$crashes" -maxdepth 1 -type f ! -name '*.min' -newer "$began" | wc -l)
  printf '%-26s %12s execs %6s s %9s exec/s  cov %6s  ft %7s  corpus %5s  crashes %s%s\n' \
    "$t" "${execs:-?}" "${secs:-?}" "$(( ${execs:-0} / (${secs:-1} > 0 ? ${secs:-1} : 1) ))" \
    "${cov:-?}" "${ft:-?}" "$corpus" "$found" "$([ "$rc" -ne 0 ] && echo "  (exit $rc, see $log)")"
  if [ "$MERGE" = 1 ]; then
    local merged="$ROOT/tests/fuzz/corpus/$t" m
    # A minimised crash joins the corpus as crash-<sha1>: the test command replays it, and
    # fails, until the bug is fixed.
    for m in "$crashes"/*.min; do
      [ -f "$m" ] && cp "$m" "$merged/crash-$(sha1sum "$m" | cut -c1-40)"
    done
    # set_cover_merge keeps the smallest set of new inputs that adds every new feature.
    "$bin" -set_cover_merge=1 -max_len="$MAX_LEN" "$merged" "$work" >/dev/null 2>&1 || true
  fi
}

echo "fuzzing ${#TARGETS[@]} targets for ${SECONDS_PER_TARGET} s each, $JOBS at a time ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
running=0
for t in "${TARGETS[@]}"; do
  fuzz_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n || true; running=$((running - 1)); fi
done
wait
echo "done; logs in $BUILD_DIR/logs, crashes (with .min) in $BUILD_DIR/crashes"

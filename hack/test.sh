#!/usr/bin/env bash
# Ferry's test command (README, .ci/run): installs what is missing, builds everything with
# AddressSanitizer + UndefinedBehaviorSanitizer, and runs every test with CTest:
#   unit         pure modules (placement, convergence policy, JSON, watch decoding, queue, ...)
#   integration  the Kubernetes client against a real kube-apiserver v1.20.2 + etcd (hack/kube/)
#   lab          real QEMU live migrations between two simulated nodes (hack/lab/, needs root)
#   fuzz         each fuzz target replays its corpus plus 5,000 seeded mutations (docs/fuzzing.md)
#   e2e          the local cluster (hack/cluster: three lab nodes, handlers, two operators,
#                Prometheus) driven with kubectl and `kubectl ferry`
#   deploy       deploy/, the chart, rules and RBAC; with the lab, the deploy proof
#   sim          the deterministic simulation: as many seeds as fit in 90 s (docs/simulation.md)
# Servers are started and stopped by CTest fixtures. Benchmarks are built, not run.
#   CTEST_ARGS="-L unit" hack/test.sh      # a subset
#   BUILD_DIR=build/test                   # where to build (default)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build/test}
JOBS=${JOBS:-$(nproc)}
t0=$(date +%s)

hack/install-deps.sh
# kube-apiserver is built once from Debian's source package and cached outside the repo.
hack/kube/build.sh

# -O0 with line tables: under ASan+UBSan, -O2 compiles 3.5-5x slower (e.g. cpprest_http.cc
# 14 s at -O0, 59 s at -O2) and the tests wait on servers and guests, not on the CPU.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" \
  -DCMAKE_C_FLAGS_DEBUG="-O0 -g1" -DFERRY_SANITIZE=ON -DFERRY_BENCHMARKS=ON
cmake --build "$BUILD_DIR" -j "$JOBS"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# shellcheck disable=SC2086
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" --timeout 900 ${CTEST_ARGS:-}
echo "hack/test.sh: all tests passed in $(( $(date +%s) - t0 )) s"

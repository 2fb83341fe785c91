#!/usr/bin/env bash
# Operator benchmark: a Release build of ferry-operator and operator_bench in a directory of
# their own, a kube-apiserver of its own (hack/kube, v1.20.2), then operator_bench: N Nodes +
# Hypervisors, M running VMs, ferry-operator for their namespace, a burst of B migrations →
# apply-to-Scheduled latency p50/p99 and the operator's resident memory. The machine and its
# load are printed first and last, because both move the figures.
#
#   tests/bench/operator/run.sh [BUILD_DIR] [NODES] [VMS] [BURST] [operator_bench options...]
#   tests/bench/operator/run.sh build/operator-release 100 1000 100
#   tests/bench/operator/run.sh build/operator-release 100 1000 100 --operator-arg --workers=16
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD="${1:-$ROOT/build/operator-release}"
NODES="${2:-100}"
VMS="${3:-1000}"
BURST="${4:-100}"
shift $(($# < 4 ? $# : 4))

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFERRY_SANITIZE=OFF \
  -DFERRY_BENCHMARKS=ON >/dev/null
cmake --build "$BUILD" --target ferry-operator operator_bench -j "$(nproc)" >/dev/null

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)|CPU max MHz|Hypervisor vendor):' || true
echo "memory: $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
echo "compiler: $(c++ --version | head -1); $(grep -m1 'CMAKE_CXX_FLAGS_RELEASE:' "$BUILD/CMakeCache.txt")"
echo "kube-apiserver: v1.20.2 (hack/kube), etcd on the same machine"

DIR=$(mktemp -d /tmp/ferry-operator-bench.XXXXXX)
rmdir "$DIR"
trap '"$ROOT/hack/kube/down.sh" "$DIR" >/dev/null 2>&1 || true' EXIT
"$ROOT/hack/kube/up.sh" "$DIR" >/dev/null
. "$DIR/env"
kubectl apply -f "$ROOT/crds/" >/dev/null
kubectl wait --for condition=established --timeout=60s crd --all >/dev/null

echo "== run: $NODES nodes, $VMS VMs, a burst of $BURST migrations"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$BUILD/tests/bench/operator/operator_bench" --operator "$BUILD/operator/ferry-operator" \
  --nodes "$NODES" --vms "$VMS" --burst "$BURST" "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

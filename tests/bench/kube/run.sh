#!/usr/bin/env bash
# Kubernetes client benchmark: starts its own kube-apiserver (--watch-cache=false, so a watch
# from an old resourceVersion replays every event from etcd), creates N VMs + N migrations,
# then measures list time, resident memory with everything cached, and watch-replay events/s;
# last, the resident memory of a whole ferry-operator (leader election off) with that cache.
#   tests/bench/kube/run.sh BUILD_DIR [N]     (BUILD_DIR: a Release build, e.g. build/release)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD=$(cd "${1:?usage: run.sh BUILD_DIR [N]}" && pwd)
N=${2:-10000}
DIR=$(mktemp -d /tmp/ferry-kube-bench.XXXXXX)
rmdir "$DIR"
trap '"$ROOT/hack/kube/down.sh" "$DIR" >/dev/null 2>&1 || true' EXIT
KUBE_APISERVER_ARGS="--watch-cache=false --max-requests-inflight=800 --max-mutating-requests-inflight=400" \
  "$ROOT/hack/kube/up.sh" "$DIR" >/dev/null
. "$DIR/env"
kubectl apply -f "$ROOT/crds/" >/dev/null
kubectl wait --for condition=established --timeout=60s crd --all >/dev/null
B=$BUILD/tests/bench/kube/informer_bench
out=$("$B" --populate "$N")
echo "$out"
rv=$(sed -n 's/^resourceVersion before populate: //p' <<<"$out")
"$B" --replay-from "$rv" --expect "$N"

# The real process: ferry-operator caches VMs, migrations, server groups, policies and Nodes.
OP=$BUILD/operator/ferry-operator
LOG=$(mktemp /tmp/ferry-kube-bench-operator.XXXXXX)
"$OP" --leader-elect=false --ops-address 127.0.0.1:0 >"$LOG" 2>&1 &
op=$!
trap 'kill $op 2>/dev/null; rm -f "$LOG"; "$ROOT/hack/kube/down.sh" "$DIR" >/dev/null 2>&1 || true' EXIT
port=
for _ in $(seq 1 600); do
  port=${port:-$(sed -n 's/.*serving \/healthz \/readyz \/metrics on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG")}
  if [ -n "$port" ]; then
    cached=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^ferry_operator_cached_objects/ {s += $2} END {print s + 0}')
    [ "$cached" -ge $((2 * N)) ] && break
  fi
  sleep 0.1
done
sleep 2  # let the start-up's transient allocations settle
bytes=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^ferry_operator_cache_bytes/ {s += $2} END {printf "%.1f", s / 1048576}')
echo "ferry-operator: $(awk '/^VmRSS/ {printf "%.1f MiB", $2 / 1024}' /proc/$op/status) resident with ${cached:-?} objects cached ($bytes MiB packed)"

#!/usr/bin/env bash
# Kubernetes client benchmark: starts its own kube-apiserver (--watch-cache=false, so a watch
# from an old resourceVersion replays every event from etcd), creates N VMs + N migrations,
# then measures list time, resident memory with everything cached, and watch-replay events/s.
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

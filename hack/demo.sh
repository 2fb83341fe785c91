#!/usr/bin/env bash
# Ferry's main job, end to end on this machine (README, first command):
#   1. installs every Debian package the project needs (hack/install-deps.sh)
#   2. builds Ferry (Release) and, once, kube-apiserver v1.20.2 from Debian's source package
#   3. brings up a local kube-apiserver + etcd, installs Ferry's CRDs and sample objects, and
#      shows them with kubectl
#   4. brings up two simulated nodes (network namespaces, one libvirtd each), boots a real
#      QEMU guest that dirties memory, live-migrates it with ferry-handler and prints the
#      result (mode, total time, downtime, bytes) and that the guest kept running on the target
# Everything it starts is stopped again on exit. Needs root (namespaces, libvirtd).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-build/release}
KUBE_DIR=${KUBE_DIR:-/tmp/ferry-demo-kube}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "installing Debian packages"
hack/install-deps.sh
step "building kube-apiserver v1.20.2 (cached after the first run)"
hack/kube/build.sh
step "building Ferry ($BUILD_DIR)"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFERRY_BENCHMARKS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target ferry-handler ferry-operator

cleanup() { hack/kube/down.sh "$KUBE_DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT
step "starting a local kube-apiserver + etcd in $KUBE_DIR"
hack/kube/down.sh "$KUBE_DIR" >/dev/null 2>&1 || true
hack/kube/up.sh "$KUBE_DIR"
export KUBECONFIG=$KUBE_DIR/kubeconfig
step "installing Ferry's CRDs and sample objects"
kubectl apply -f crds/
kubectl wait --for condition=established --timeout=60s crd --all >/dev/null
kubectl apply -f crds/samples/
kubectl get ferry -A
echo
kubectl get vm -A -o wide

step "live migration of a real QEMU guest between two simulated nodes"
hack/lab/demo.sh "$ROOT/$BUILD_DIR/handler/ferry-handler"

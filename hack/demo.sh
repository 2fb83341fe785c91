#!/usr/bin/env bash
# hack/demo.sh [--keep]: Ferry end to end on this machine (README, first command). Needs root.
#   1. installs the Debian packages Ferry needs (hack/install-deps.sh) and, once, builds
#      kube-apiserver v1.20.2 from Debian's source package (cached in ~/.cache/kube-1.20.2)
#   2. builds ferry-operator, ferry-handler and kubectl-ferry (Release, only these three: the
#      quickest build, and the binaries the numbers are measured with)
#   3. brings up the local cluster (hack/cluster/cluster.sh: three simulated nodes with a handler
#      each, two operator replicas, kube-apiserver, Prometheus)
#   4. applies the samples (crds/samples/) and shows the VMs booted on nodes that respect their
#      server groups
#   5. migrates batch-1 to the database's node with `kubectl ferry migrate --wait`
#   6. drains that node with `kubectl ferry drain --wait`: the VMs that may move go where
#      `kubectl ferry plan-drain` said, the strict-affinity pair is reported and stays
#   7. prints where everything went, the numbers of this run, and where to look in Prometheus
#   8. takes everything down again, unless --keep (then it prints how to explore the cluster)
# BUILD_DIR (default build/release) is where Ferry is built.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
KEEP=0
for a in "$@"; do
  case "$a" in
    --keep) KEEP=1 ;;
    *) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
BUILD_DIR=${BUILD_DIR:-build/release}
CL=$ROOT/hack/cluster/cluster.sh
LOCK=/tmp/ferry-lab-session.lock

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
[ "$(id -u)" = 0 ] || { echo "hack/demo.sh needs root (network namespaces, libvirtd)" >&2; exit 1; }
command -v kubectl >/dev/null || {
  echo "hack/demo.sh drives the cluster with kubectl: put a kubectl (v1.20 or newer) on PATH" >&2
  exit 1
}
T0=$SECONDS

step "installing Debian packages"
hack/install-deps.sh
step "kube-apiserver v1.20.2 (built once from Debian's source package, then cached)"
hack/kube/build.sh
step "building Ferry (Release: ferry-operator, ferry-handler, kubectl-ferry) in $BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFERRY_BENCHMARKS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target ferry-handler ferry-operator kubectl-ferry
T_BUILT=$SECONDS

# The lab (network namespaces with fixed names) is one per machine: wait for whoever uses it.
exec 9>"$LOCK"
flock -n 9 || { echo "waiting for the lab ($LOCK)..."; flock 9; }
cleanup() {
  local rc=$?
  if [ $KEEP = 0 ]; then
    step "taking the cluster down"
    "$CL" down || rc=1
  fi
  echo "hack/demo.sh: $((SECONDS - T0)) s in all, of which $((T_BUILT - T0)) s packages and build," \
    "$((SECONDS - T_BUILT)) s the cluster and the demo; exit status $rc"
  exit $rc
}
trap cleanup EXIT

step "bringing up the local cluster"
"$CL" up --nodes 3 --build "$ROOT/$BUILD_DIR"
# shellcheck source=/dev/null
. "$("$CL" env)"
run kubectl get nodes -L ferry.dev/lab-node
run kubectl get hypervisors
run kubectl ferry status

step "applying the samples: server groups, a MigrationPolicy, five small VMs"
run kubectl apply -f crds/samples/servergroup.yaml -f crds/samples/migrationpolicy.yaml \
  -f crds/samples/virtualmachines.yaml
for vm in web-1 web-2 db-1 cache-1 batch-1; do
  kubectl wait --for=jsonpath='{.status.phase}'=Running --timeout=180s vm/$vm >/dev/null
done
run kubectl get vm -o wide
run kubectl get servergroups
node() { kubectl get vm "$1" -o jsonpath='{.status.nodeName}'; }
console() { echo "${FERRY_LAB_DIR:-/tmp/ferry-lab}/nodes/$(tr 'a-z' 'A-Z' <<<"${1#node-}")/var/log/libvirt/qemu/default_$2.log"; }
heartbeat() { grep -a 'lab: hb=' "$(console "$1" "$2")" 2>/dev/null | tail -1 | sed 's/^.*lab: //'; }
DB=$(node db-1)
echo "web-1 on $(node web-1), web-2 on $(node web-2): strict anti-affinity keeps them apart"
echo "db-1 and cache-1 both on $DB: strict affinity keeps them together"

step "migrating batch-1 to $DB, the database's node"
FROM=$(node batch-1)
TO=$DB
if [ "$FROM" = "$DB" ]; then
  # Placed beside the pair already: move it off first, so the drain below has a VM to move.
  FROM=$(kubectl ferry explain batch-1 -o json | jq -r .target)
  echo "batch-1 was placed on $DB already: first moving it to $FROM"
  kubectl ferry migrate batch-1 --to "$FROM" --wait >/dev/null
fi
run kubectl ferry explain batch-1 --to "$TO"
echo "batch-1's guest on $FROM: $(heartbeat "$FROM" batch-1)"
run kubectl ferry migrate batch-1 --to "$TO" --wait | tee /tmp/ferry-demo-migrate.out
sleep 1
echo "batch-1's guest on $TO now: $(heartbeat "$TO" batch-1)"

step "draining $DB"
run kubectl ferry plan-drain "$DB"
rc=0
run kubectl ferry drain "$DB" --wait | tee /tmp/ferry-demo-drain.out || rc=$?
[ $rc = 0 ] || [ $rc = 2 ] || exit $rc

step "where everything went"
run kubectl get vm -o wide
run kubectl get vmm
run kubectl get sg db -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}'
for vm in web-1 web-2 db-1 cache-1 batch-1; do
  printf '%-8s %-7s guest: %s\n' "$vm" "$(node "$vm")" "$(heartbeat "$(node "$vm")" "$vm")"
done
run kubectl uncordon "$DB"

step "numbers of this run"
grep '^Succeeded\|^phases' /tmp/ferry-demo-migrate.out || true
sed -n '/drained\|stopped:/,$p' /tmp/ferry-demo-drain.out || true
q() { curl -sf "$FERRY_PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[] | "\(.metric | del(.__name__, .job, .instance) | to_entries | map("\(.key)=\(.value)") | join(",")) \(.value[1])"'; }
echo "Prometheus ($FERRY_PROMETHEUS_URL):"
echo "  migrations by result (handlers):"; q 'sum by (result) (ferry_migration_results_total)' | sed 's/^/    /'
echo "  longest guest downtime, seconds:"; q 'max(ferry_migration_downtime_seconds_sum / ferry_migration_downtime_seconds_count)' | sed 's/^/    /'
echo "  operator leader:"; q 'ferry_operator_leader == 1' | sed 's/^/    /'
echo "Measured headline numbers and how to reproduce them: README.md (Measured) and docs/cluster.md."

if [ $KEEP = 1 ]; then
  step "the cluster keeps running"
  cat <<EOF
  . $(hack/cluster/cluster.sh env)      # KUBECONFIG, kubectl-ferry on PATH, FERRY_PROMETHEUS_URL
  kubectl get vm,vmm,hv -o wide
  kubectl ferry status
  kubectl ferry explain web-1
  kubectl ferry migrate web-2 --wait
  Prometheus: $FERRY_PROMETHEUS_URL   (e.g. ferry_migrations, ferry_migration_downtime_seconds)
  hack/cluster/cluster.sh status        # processes, ports, logs in $FERRY_CLUSTER_DIR/logs
  hack/cluster/cluster.sh down          # when done: the lab is one per machine
EOF
fi

# Shared by the end-to-end tests (tests/e2e/*.sh): the local cluster of hack/cluster (three lab
# nodes, a handler each, two operator replicas, Prometheus), driven the way a user drives it:
# kubectl and `kubectl ferry`. Every check of a guest looks at the guest itself (heartbeat and
# memory-integrity counter on its serial console) and at every node's libvirtd.
# shellcheck shell=bash
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CL=$ROOT/hack/cluster/cluster.sh
L=$ROOT/hack/lab/lab.sh
LAB=${FERRY_LAB_DIR:-/tmp/ferry-lab}
# shellcheck source=/dev/null
. "$("$CL" env)"
NS=default
T0=$SECONDS

log() { printf '[%s %s] %s\n' "${TEST:-e2e}" "$(date +%T.%3N)" "$*" >&2; }
k() { kubectl --request-timeout=20s "$@"; }
kf() { kubectl ferry "$@"; }  # the plugin, found on PATH by kubectl

fail() {
  echo "FAIL [${TEST:-e2e}]: $*" >&2
  {
    k get vm,vmm -n "$NS" -o wide
    k get nodes,hv
    k get events -n "$NS" --sort-by=.lastTimestamp | tail -30
    "$CL" status
    local c
    for c in $(ls "$FERRY_CLUSTER_DIR/run" | sed -n 's/\.sup$//p'); do
      echo "--- $c (last 25 lines)"
      tail -25 "$FERRY_CLUSTER_DIR/logs/$c.log"
    done
    "$L" status
  } >&2 2>&1 || true
  # Again last: a log cut in the middle (CI shows a run's head and tail) still says why.
  echo "FAIL [${TEST:-e2e}] (after $((SECONDS - T0)) s): $*" >&2
  exit 1
}
pass() { echo "ok   [${TEST:-e2e}] ($((SECONDS - T0)) s): $*"; }

wait_for() {  # SECONDS WHAT CMD...: until CMD succeeds
  local secs=$1 what=$2 i
  shift 2
  for i in $(seq 1 $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  fail "timed out after $secs s waiting for $what"
}
is() { [ "$("${@:2}")" = "$1" ]; }  # is VALUE CMD...

# ---- reading the world ----------------------------------------------------------------------
jp() { k get "$1" -n "$NS" "$2" -o jsonpath="$3" 2>/dev/null || true; }
vm_node() { jp vm "$1" '{.status.nodeName}'; }
vm_phase() { jp vm "$1" '{.status.phase}'; }
vmm_phase() { jp vmm "$1" '{.status.phase}'; }
terminal() { case "$(vmm_phase "$1")" in Succeeded | Failed | Cancelled) return 0 ;; *) return 1 ;; esac; }
letter() { tr 'a-z' 'A-Z' <<<"${1#node-}"; }
nodes() { k get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'; }
domain_state() {  # NODE VM -> running / paused / shut off / "" (none)
  "$L" virsh "$(letter "$1")" domstate "${NS}_$2" 2>/dev/null | head -1 || true
}
console() { echo "$LAB/nodes/$(letter "$1")/var/log/libvirt/qemu/${NS}_$2.log"; }
# Only whole heartbeat lines (ending in errs=N, then the console's \r): the guest may be writing
# the last one while it is read (a line cut before its errs= count once read as "memory
# corruption ... errs=0").
hb_line() {
  { grep -aE 'lab: hb=[0-9]+ .*errs=[0-9]+[[:space:]]*$' "$(console "$1" "$2")" 2>/dev/null || true; } | tail -1
}
hb() { hb_line "$1" "$2" | sed -E 's/.*hb=([0-9]+).*/\1/'; }
errs() { hb_line "$1" "$2" | sed -E 's/.*errs=([0-9]+).*/\1/'; }
has_hb() { [ -n "$(hb "$1" "$2")" ]; }
vmm_events() {  # VMM REASON -> the messages of that VMM's Events with that reason
  k get events -n "$NS" -o jsonpath='{range .items[*]}{.involvedObject.name}|{.reason}|{.message}{"\n"}{end}' \
    2>/dev/null | awk -F'|' -v n="$1" -v r="$2" '$1 == n && $2 == r { print $3 }' || true
}

# guest_on NODE VM: the VM says it runs on NODE; NODE's libvirtd runs its domain; no other node
# runs a copy; the guest's heartbeat advances there and its memory check counts no error.
guest_on() {
  local node=$1 vm=$2 n h1 h2
  [ "$(vm_node "$vm")" = "$node" ] || fail "$vm: status.nodeName is '$(vm_node "$vm")', want $node"
  wait_for 30 "$vm Running on $node" is Running vm_phase "$vm"
  [ "$(domain_state "$node" "$vm")" = running ] || fail "$vm: domain on $node is '$(domain_state "$node" "$vm")'"
  for n in $(nodes); do
    [ "$n" = "$node" ] && continue
    case "$(domain_state "$n" "$vm")" in running | paused) fail "$vm: a second copy on $n ($(domain_state "$n" "$vm"))" ;; esac
  done
  wait_for 60 "$vm's heartbeat on $node" has_hb "$node" "$vm"
  h1=$(hb "$node" "$vm")
  sleep 1.2
  h2=$(hb "$node" "$vm")
  [ -n "$h2" ] && [ "$h2" -gt "${h1:-0}" ] || fail "$vm: heartbeat on $node did not advance ($h1 -> $h2)"
  [ "$(errs "$node" "$vm")" = 0 ] || fail "$vm: memory corruption on $node: errs=$(errs "$node" "$vm")"
}

# ---- making things --------------------------------------------------------------------------
vm_yaml() {  # NAME MEM_MIB WS_MIB RATE_MIBS [GROUP] [LABELS as k: v, ...]
  cat <<EOF
apiVersion: ferry.dev/v1alpha1
kind: VirtualMachine
metadata:
  name: $1
  namespace: $NS
  labels: {e2e: "true"${6:+, $6}}
spec:
  running: true
  cpus: 1
  memory: ${2}Mi
${5:+  serverGroup: $5}
  kernelBoot:
    kernel: $LAB/images/vmlinuz
    initrd: $LAB/images/initrd.cpio.gz
    cmdline: "console=ttyS0 panic=-1 loglevel=4 ferry.mem=$3 ferry.rate=$4 ferry.hb=200"
EOF
}

# ensure_vm NAME MEM WS RATE [GROUP] [LABELS]: the VM exists and its guest runs (created when
# missing, reused when an earlier test left it running).
ensure_vm() {
  local name=$1 node
  if ! k get vm -n "$NS" "$name" >/dev/null 2>&1; then
    vm_yaml "$@" | k apply -f - >/dev/null
    log "VM $name created"
  fi
  wait_for 90 "VM $name placed and Running" is Running vm_phase "$name"
  node=$(vm_node "$name")
  wait_for 90 "$name's first heartbeat on $node" has_hb "$node" "$name"
}

delete_vm() {  # NAME: gone from the API and from every node's libvirtd
  local name=$1 n
  k delete vm -n "$NS" "$name" --wait=false >/dev/null 2>&1 || true
  wait_for 60 "VM $name gone" bash -c "! kubectl get vm -n $NS $name >/dev/null 2>&1"
  for n in $(nodes); do [ -z "$(domain_state "$n" "$name")" ] || fail "domain of $name left on $n"; done
}

# The handlers never hold a TCP connection to a lab address (they use unix sockets).
no_tcp_to_lab() {
  local c conns=""
  for c in $(ls "$FERRY_CLUSTER_DIR/run" | sed -n 's/\.pid$//p'); do
    local p
    p=$(cat "$FERRY_CLUSTER_DIR/run/$c.pid" 2>/dev/null || true)
    [ -n "$p" ] || continue
    conns+=$(ss -Htnp 2>/dev/null | grep "pid=$p," | grep -E '10\.251\.' || true)
  done
  [ -z "$conns" ] || fail "a component has TCP connections to the lab network: $conns"
}

# A node other than those given, with room (the first in name order).
other_node() {
  local n x skip
  for n in $(nodes); do
    skip=0
    for x in "$@"; do [ "$n" = "$x" ] && skip=1; done
    [ $skip = 0 ] && { echo "$n"; return 0; }
  done
  return 1
}

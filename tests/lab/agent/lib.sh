#!/usr/bin/env bash
# Shared by the node agent's lab tests (tests/lab/agent): two `ferry-handler agent` processes,
# one per lab node, in the host namespace, each talking to its node's libvirtd by its unix
# socket and to the test kube-apiserver on loopback; and a small driver that plays the
# operator's part of the protocol (docs/adr/0004-operator-handler-protocol.md): placement
# (the VM's node label, nodeName, phase Scheduled), VMM admission (labels, finalizer, phase
# Scheduled, effectiveOptions), the VM's activeMigration, the node flip after Succeeded, and
# the VMM finalizer's removal once terminal. It writes only operator-owned fields.
#
# Environment: KUBECONFIG (hack/kube/with-env.sh), FERRY_HANDLER (the binary),
# AGENT_LAB_STATE (pid files and handler logs).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
L=$ROOT/hack/lab/lab.sh
LAB=${FERRY_LAB_DIR:-/tmp/ferry-lab}
H=${FERRY_HANDLER:?FERRY_HANDLER: the ferry-handler binary}
STATE=${AGENT_LAB_STATE:?AGENT_LAB_STATE: a directory for pid files and logs}
NS=agent-lab
mkdir -p "$STATE"

log() { printf '[agent-lab %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
k() { kubectl --request-timeout=20s "$@"; }
node_of() { [ "$1" = A ] && echo lab-a || echo lab-b; }
other() { [ "$1" = A ] && echo B || echo A; }

# ---- the handlers --------------------------------------------------------------------------
handler_pid() { cat "$STATE/handler-$1.pid" 2>/dev/null || true; }
handler_log() { echo "$STATE/handler-$1.log"; }
handler_alive() { local p; p=$(handler_pid "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

handler_start() {  # A|B [COUNT]: start; wait for the (COUNT+1)th "caches synced" in its log
  local n=$1 peer i c
  peer=$($L peer-uri "$n")  # qemu+tcp://10.251.0.x/system: what the peer's libvirtd dials
  setsid "$H" agent --node "$(node_of "$n")" --libvirt-uri "$($L uri "$n")" \
    --kubeconfig "$KUBECONFIG" --emulator "$LAB/qemu-bpo/qemu-system-x86_64" --virt-type qemu \
    --machine pc-i440fx-7.2 --default-cpu-model qemu64 --console-log-dir /var/log/libvirt/qemu \
    --migration-uri "$peer" --migration-address "$(sed -E 's|.*://([^/]*)/.*|\1|' <<<"$peer")" \
    --ops-address 127.0.0.1:0 --heartbeat 10s --shutdown-grace 3s \
    </dev/null >>"$(handler_log "$n")" 2>&1 &
  echo $! >"$STATE/handler-$n.pid"
  for i in $(seq 1 150); do
    c=$(grep -ci 'caches synced' "$(handler_log "$n")" 2>/dev/null || true)
    [ "${c:-0}" -gt "${2:-0}" ] && break
    handler_alive "$n" || { tail -20 "$(handler_log "$n")" >&2; return 1; }
    sleep 0.2
  done
  log "handler $n ($(node_of "$n")) pid $(handler_pid "$n") running"
}

handler_stop() {  # A|B [signal]
  local n=$1 sig=${2:-TERM} p i
  p=$(handler_pid "$n")
  [ -n "$p" ] || return 0
  kill -"$sig" "$p" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then kill -9 "$p" 2>/dev/null || true; fi
  rm -f "$STATE/handler-$n.pid"
  log "handler $n stopped ($sig)"
}

ops_port() {  # from the Manager's "Serving /healthz /readyz /metrics" line
  grep -i 'serving /healthz /readyz /metrics' "$(handler_log "$1")" | tail -1 |
    grep -o '127\.0\.0\.1:[0-9]*' | sed 's/.*://'
}

# ---- reading the world ----------------------------------------------------------------------
jpath() { k get "$1" -n "$NS" "$2" -o jsonpath="$3" 2>/dev/null || true; }
vm_phase() { jpath vm "$1" '{.status.phase}'; }
vmm_phase() { jpath vmm "$1" '{.status.phase}'; }
domain_state() {  # A|B NAME -> running / paused / shut off / "" (none)
  $L virsh "$1" domstate "${NS}_$2" 2>/dev/null | head -1 || true
}
console() { echo "$LAB/nodes/$1/var/log/libvirt/qemu/${NS}_$2.log"; }
# Only whole heartbeat lines (a line the guest is still writing has no errs= count yet).
hb_line() {
  { grep -aE 'lab: hb=[0-9]+ .*errs=[0-9]+[[:space:]]*$' "$(console "$1" "$2")" 2>/dev/null || true; } | tail -1
}
hb() { hb_line "$1" "$2" | sed -E 's/.*hb=([0-9]+).*/\1/'; }  # last heartbeat ("" = none)
errs() { hb_line "$1" "$2" | sed -E 's/.*errs=([0-9]+).*/\1/'; }
has_hb() { [ -n "$(hb "$1" "$2")" ]; }

fail() {
  echo "FAIL [${SCENARIO:-agent}]: $*" >&2
  local n
  for n in A B; do
    echo "--- handler $n log (last 40 lines):" >&2
    tail -40 "$(handler_log "$n")" >&2 || true
  done
  k get vm,vmm -n "$NS" -o wide >&2 || true
  k get events -n "$NS" --sort-by=.lastTimestamp 2>/dev/null | tail -25 >&2 || true
  $L status >&2 || true
  echo "FAIL [${SCENARIO:-agent}] (again, after the state above): $*" >&2
  exit 1
}
pass() { echo "ok   [${SCENARIO:-agent}]: $*"; }

wait_for() {  # SECONDS WHAT CMD...: until CMD succeeds
  local secs=$1 what=$2 i
  shift 2
  for i in $(seq 1 $((secs * 5))); do "$@" && return 0; sleep 0.2; done
  fail "timed out after $secs s waiting for $what"
}
is() { [ "$("${@:2}")" = "$1" ]; }  # is VALUE CMD...

# ---- the operator's part (ADR 4) --------------------------------------------------------------
ensure_ns() { k get ns "$NS" >/dev/null 2>&1 || k create ns "$NS" >/dev/null; }

place_vm() {  # NAME NODE: the operator's placement (label, nodeName, phase Scheduled)
  k label vm -n "$NS" "$1" "ferry.dev/node=$2" --overwrite >/dev/null
  k patch vm -n "$NS" "$1" --subresource=status --type merge \
    -p "{\"status\":{\"nodeName\":\"$2\",\"phase\":\"Scheduled\"}}" >/dev/null
}

make_vm() {  # NAME NODE RAM_MIB WS_MIB RATE_MIBS [DISK_MIB]: create the VM and place it
  local name=$1 node=$2 disks=""
  ensure_ns
  if [ -n "${6:-}" ]; then  # a local disk, copied on migration (storage: Copy)
    disks="  disks: [{name: data, type: Local, path: /var/lib/libvirt/images/${NS}_$name-data.img, size: ${6}Mi}]"
  fi
  k apply -f - >/dev/null <<EOF
apiVersion: ferry.dev/v1alpha1
kind: VirtualMachine
metadata: {name: $name, namespace: $NS}
spec:
  running: true
  cpus: 1
  memory: ${3}Mi
  kernelBoot:
    kernel: $LAB/images/vmlinuz
    initrd: $LAB/images/initrd.cpio.gz
    cmdline: "console=ttyS0 panic=-1 loglevel=4 ferry.mem=$4 ferry.rate=$5 ferry.hb=200"
$disks
EOF
  place_vm "$name" "$node"
}

boot_vm() {  # NAME A|B RAM WS RATE [DISK]: create, wait for Running and the first heartbeat
  local name=$1 n=$2 t0=$SECONDS
  make_vm "$name" "$(node_of "$n")" "$3" "$4" "$5" "${6:-}"
  wait_for 60 "VM $name Running" is Running vm_phase "$name"
  wait_for 90 "the guest's first heartbeat on $n" has_hb "$n" "$name"
  log "VM $name runs on $n (first heartbeat after $((SECONDS - t0)) s)"
}

# NAME VM SRC DST OPTIONS_JSON: admit a migration as the operator does: labels, finalizer,
# sourceNode/targetNode, effectiveOptions, phase Scheduled; the VM's activeMigration.
start_vmm() {
  local name=$1 vm=$2 src=$3 dst=$4 opts=$5 now
  now=$(date -u +%FT%TZ)
  k apply -f - >/dev/null <<EOF
apiVersion: ferry.dev/v1alpha1
kind: VirtualMachineMigration
metadata:
  name: $name
  namespace: $NS
  labels: {ferry.dev/vm: $vm, ferry.dev/source-node: $src, ferry.dev/target-node: $dst}
  finalizers: [ferry.dev/migration]
spec: {vmName: $vm}
EOF
  k patch vm -n "$NS" "$vm" --subresource=status --type merge \
    -p "{\"status\":{\"activeMigration\":\"$name\"}}" >/dev/null
  k patch vmm -n "$NS" "$name" --subresource=status --type merge -p "{\"status\":{
    \"phase\":\"Scheduled\",\"phaseTransitionTime\":\"$now\",\"sourceNode\":\"$src\",
    \"targetNode\":\"$dst\",\"effectiveOptions\":$opts}}" >/dev/null
  log "VMM $name: $vm $src -> $dst $opts"
}

terminal() { case "$(vmm_phase "$1")" in Succeeded | Failed | Cancelled) return 0 ;; *) return 1 ;; esac; }

# NAME VM: once the VMM is terminal, what the operator does: flip the VM to the target after
# Succeeded, clear activeMigration, remove the VMM's finalizer. Prints the phase.
finish_vmm() {
  local name=$1 vm=$2 phase dst
  phase=$(vmm_phase "$name")
  if [ "$phase" = Succeeded ]; then
    dst=$(jpath vmm "$name" '{.status.targetNode}')
    k label vm -n "$NS" "$vm" "ferry.dev/node=$dst" --overwrite >/dev/null
    k patch vm -n "$NS" "$vm" --subresource=status --type merge \
      -p "{\"status\":{\"nodeName\":\"$dst\",\"activeMigration\":null}}" >/dev/null
  else
    k patch vm -n "$NS" "$vm" --subresource=status --type merge \
      -p '{"status":{"activeMigration":null}}' >/dev/null
  fi
  k patch vmm -n "$NS" "$name" --type json -p '[{"op":"remove","path":"/metadata/finalizers"}]' \
    >/dev/null 2>&1 || true
  echo "$phase"
}

vmm_events() {  # VMM REASON -> the messages of that VMM's Events with that reason
  k get events -n "$NS" -o jsonpath='{range .items[*]}{.involvedObject.name}|{.reason}|{.message}{"\n"}{end}' \
    2>/dev/null | awk -F'|' -v n="$1" -v r="$2" '$1 == n && $2 == r { print $3 }' || true
}

delete_vm() {  # NAME A|B: delete the VM; its domain must leave the node, the VM the API
  local name=$1 n=$2
  k delete vm -n "$NS" "$name" --wait=false >/dev/null
  wait_for 60 "VM $name gone (its finalizer removed)" \
    bash -c "! kubectl get vm -n $NS $name >/dev/null 2>&1"
  [ -z "$(domain_state "$n" "$name")" ] || fail "domain of $name still on $n after the VM's deletion"
  [ -z "$(domain_state "$(other "$n")" "$name")" ] || fail "a domain of $name on $(other "$n")"
}

no_tcp_to_lab() {  # the handlers never hold a TCP connection to a lab address
  local p conns=""
  for p in $(handler_pid A) $(handler_pid B); do
    conns+=$(ss -Htnp 2>/dev/null | grep "pid=$p," | grep -E '10\.251\.' || true)
  done
  [ -z "$conns" ] || fail "a handler has TCP connections to the lab network: $conns"
}

#!/usr/bin/env bash
# tests/deploy/cluster_proof.sh BUILD [OUT_PNG]: the end-to-end proofs of deploy/ on a local
# cluster built from real parts (docs/deploy.md "End-to-end proof on the local cluster"):
#   1. a kube-apiserver (hack/kube/up.sh: RBAC authorization, plus an audit log of the two
#      ServiceAccounts' requests), Ferry's CRDs, deploy/base's namespace and RBAC, and
#      ServiceAccount tokens minted by the TokenRequest API: the identities pods get;
#   2. two lab nodes (hack/lab/lab.sh) with their Node objects, one `ferry-handler agent` per
#      node and two `ferry-operator` replicas, each with ONLY its ServiceAccount's token;
#      Prometheus (Debian's) scraping them with deploy/'s alert rules loaded;
#   3. a VM started and live-migrated by a VirtualMachineMigration without a target;
#   4. every PromQL expression of the dashboard and the alert rules evaluated against that
#      Prometheus over the run; a handler stopped to see FerryHandlerDown's condition answer;
#   5. the dashboard's main panels rendered from the Prometheus series (OUT_PNG, default
#      docs/deploy-dashboard.png, "none" for no picture; Debian's python3-matplotlib, installed
#      if missing);
#   6. the audit log (once the binaries stopped: a watch is audited when it ends): no request
#      of either identity was refused (no 403), and which granted permissions the run used.
# Exits non-zero if a step fails: the migration does not succeed, a 403, a PromQL error.
# Needs root and the lab (shared: runs itself under flock /tmp/ferry-lab-session.lock) and
# BUILD/operator/ferry-operator, BUILD/handler/ferry-handler. Leaves nothing running.
# Output and logs: $FERRY_PROOF_DIR (default /tmp/ferry-deploy-proof).
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -z "${FERRY_LAB_LOCKED:-}" ]; then
  exec flock /tmp/ferry-lab-session.lock env FERRY_LAB_LOCKED=1 "$0" "$@"
fi
BUILD=$(cd "$1" && pwd)
PNG=${2:-$ROOT/docs/deploy-dashboard.png}
OPERATOR=$BUILD/operator/ferry-operator
HANDLER=$BUILD/handler/ferry-handler
OUT=${FERRY_PROOF_DIR:-/tmp/ferry-deploy-proof}
KDIR=$OUT/kube
L=$ROOT/hack/lab/lab.sh
LAB=${FERRY_LAB_DIR:-/tmp/ferry-lab}
NS=proof
OP_SA=system:serviceaccount:ferry-system:ferry-operator
HA_SA=system:serviceaccount:ferry-system:ferry-handler
for b in "$OPERATOR" "$HANDLER"; do [ -x "$b" ] || { echo "missing $b" >&2; exit 1; }; done
command -v prometheus >/dev/null || { echo "prometheus not found (hack/install-deps.sh)" >&2; exit 1; }
PY=/usr/bin/python3  # Debian's, with Debian's python3-yaml and python3-matplotlib
[ "$PNG" = none ] || "$PY" -c 'import matplotlib, yaml' 2>/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-matplotlib python3-yaml >/dev/null

log() { printf '[proof %s] %s\n' "$(date +%T)" "$*" >&2; }
PIDS=()
cleanup() {
  local rc=$? p
  log "tearing down"
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 2
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  "$L" down >/dev/null 2>&1 || true
  KEEP=1 "$ROOT/hack/kube/down.sh" "$KDIR" >/dev/null 2>&1 || true
  exit "$rc"
}
trap cleanup EXIT
rm -rf "$OUT"
mkdir -p "$OUT"/{logs,prometheus}

# ---- 1. API server with RBAC + audit, CRDs, RBAC, tokens ------------------------------------
cat >"$OUT/audit-policy.yaml" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: ["$OP_SA", "$HA_SA"]
  - level: None
EOF
KUBE_AUTHORIZATION_MODE=RBAC KUBE_APISERVER_ARGS="--audit-policy-file=$OUT/audit-policy.yaml --audit-log-path=$OUT/audit.log --audit-log-format=json" \
  "$ROOT/hack/kube/up.sh" "$KDIR" >&2
# shellcheck disable=SC1091
. "$KDIR/env"
k() { kubectl --request-timeout=20s "$@"; }
k apply -f "$ROOT/crds/" >/dev/null
k wait --for condition=established --timeout=60s crd --all >/dev/null
k apply -f "$ROOT/deploy/base/namespace.yaml" -f "$ROOT/deploy/base/operator-rbac.yaml" \
  -f "$ROOT/deploy/base/handler-rbac.yaml" >/dev/null
k create namespace "$NS" >/dev/null
kubeconfig_for() {  # SA FILE: a kubeconfig holding only the ServiceAccount's token
  local token
  token=$(k create token "$1" -n ferry-system --duration=2h)
  cat >"$2" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: proof, cluster: {server: "$KUBE_SERVER", certificate-authority: "$KUBE_CA_FILE"}}]
users: [{name: $1, user: {token: "$token"}}]
contexts: [{name: $1, context: {cluster: proof, user: $1}}]
current-context: $1
EOF
  chmod 600 "$2"
}
kubeconfig_for ferry-operator "$OUT/operator.kubeconfig"
kubeconfig_for ferry-handler "$OUT/handler.kubeconfig"
# The tokens authenticate as the ServiceAccounts and RBAC applies: a read is allowed, Secrets not.
[ "$(kubectl --kubeconfig "$OUT/operator.kubeconfig" auth can-i list virtualmachines.ferry.dev -A)" = yes ]
[ "$(kubectl --kubeconfig "$OUT/handler.kubeconfig" auth can-i get secrets -n ferry-system || true)" = no ]
log "identities: $OP_SA, $HA_SA (tokens from the TokenRequest API)"

# ---- 2. lab nodes, handlers, operators, Prometheus --------------------------------------------
FERRY_LAB_NODES=2 "$L" up >&2
node_of() { echo "node-$(tr '[:upper:]' '[:lower:]' <<<"$1")"; }
"$ROOT/hack/cluster/register-node.sh" A B  # as a kubelet would (admin credentials)
mem_total=$(awk '/^MemTotal:/ {printf "%d", $2 * 1024}' /proc/meminfo)
reserve=$((mem_total - (1 << 30)))
ratio=$(awk -v n="$(nproc)" 'BEGIN {printf "%g", 8 / n}')
ops_port() {  # LOGFILE: the port of the Manager's "Serving /healthz /readyz /metrics" line
  local p
  for _ in $(seq 1 300); do
    p=$(grep -ai 'serving /healthz' "$1" 2>/dev/null | sed -nE 's/.*(address="|on )[^"]*:([0-9]+).*/\2/p' | tail -1)
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.2
  done
  echo "no ops port in $1" >&2
  tail -20 "$1" >&2
  return 1
}
declare -A PORT
for l in A B; do
  peer=$("$L" peer-uri $l)
  setsid "$HANDLER" agent --node "$(node_of $l)" --libvirt-uri "$("$L" uri $l)" \
    --kubeconfig "$OUT/handler.kubeconfig" --emulator "$LAB/qemu-bpo/qemu-system-x86_64" --virt-type qemu \
    --machine pc-i440fx-7.2 --default-cpu-model qemu64 --console-log-dir /var/log/libvirt/qemu \
    --migration-uri "$peer" --migration-address "$(sed -E 's|.*://([^/]*)/.*|\1|' <<<"$peer")" \
    --ops-address 127.0.0.1:0 --heartbeat 10s --shutdown-grace 10s \
    --reserved-memory "$reserve" --cpu-allocation-ratio "$ratio" \
    </dev/null >"$OUT/logs/handler-$l.log" 2>&1 &
  PIDS+=($!)
  PORT[handler-$l]=$(ops_port "$OUT/logs/handler-$l.log")
done
for r in 1 2; do
  setsid "$OPERATOR" --kubeconfig "$OUT/operator.kubeconfig" --leader-elect true --id "operator-$r" \
    --lease-namespace ferry-system --lease-name ferry-operator --ops-address 127.0.0.1:0 \
    </dev/null >"$OUT/logs/operator-$r.log" 2>&1 &
  PIDS+=($!)
  PORT[operator-$r]=$(ops_port "$OUT/logs/operator-$r.log")
done
"$PY" -c "import yaml,sys; yaml.safe_dump(yaml.safe_load(open('$ROOT/deploy/monitoring/prometheusrule.yaml'))['spec'], open('$OUT/prometheus/ferry-rules.yaml','w'), sort_keys=False)"
PROM_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$OUT/prometheus/prometheus.yml" <<EOF
global: {scrape_interval: 2s, evaluation_interval: 2s}
rule_files: [ferry-rules.yaml]
scrape_configs:
  - job_name: ferry-operator
    static_configs:
      - {targets: ['127.0.0.1:${PORT[operator-1]}'], labels: {pod: operator-1}}
      - {targets: ['127.0.0.1:${PORT[operator-2]}'], labels: {pod: operator-2}}
  - job_name: ferry-handler
    static_configs:
      - {targets: ['127.0.0.1:${PORT[handler-A]}'], labels: {node: node-a}}
      - {targets: ['127.0.0.1:${PORT[handler-B]}'], labels: {node: node-b}}
EOF
promtool check config "$OUT/prometheus/prometheus.yml" >&2
prometheus --config.file="$OUT/prometheus/prometheus.yml" --storage.tsdb.path="$OUT/prometheus/data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn </dev/null >"$OUT/logs/prometheus.log" 2>&1 &
PIDS+=($!)
PROM=http://127.0.0.1:$PROM_PORT
for _ in $(seq 1 100); do curl -sf "$PROM/-/ready" >/dev/null && break; sleep 0.3; done
for l in A B; do
  for _ in $(seq 1 150); do
    [ "$(k get hv "$(node_of $l)" -o jsonpath='{.status.ready}' 2>/dev/null)" = true ] && break
    sleep 0.4
  done
done
log "handlers ready (ops ${PORT[handler-A]}, ${PORT[handler-B]}), operators (ops ${PORT[operator-1]}, ${PORT[operator-2]}), Prometheus $PROM"

# ---- 3. a VM and its live migration -------------------------------------------------------------
T_START=$(date +%s)
sleep 10  # a few scrapes before anything happens
k apply -f - >/dev/null <<EOF
apiVersion: ferry.dev/v1alpha1
kind: VirtualMachine
metadata: {name: web-1, namespace: $NS}
spec:
  running: true
  cpus: 1
  memory: 256Mi
  kernelBoot:
    kernel: $LAB/images/vmlinuz
    initrd: $LAB/images/initrd.cpio.gz
    cmdline: "console=ttyS0 panic=-1 loglevel=4 ferry.mem=64 ferry.rate=6 ferry.hb=200"
EOF
for _ in $(seq 1 300); do [ "$(k get vm -n $NS web-1 -o jsonpath='{.status.phase}')" = Running ] && break; sleep 0.5; done
SRC=$(k get vm -n $NS web-1 -o jsonpath='{.status.nodeName}')
log "VM web-1 Running on $SRC"
sleep 8
k apply -f - >/dev/null <<EOF
apiVersion: ferry.dev/v1alpha1
kind: VirtualMachineMigration
metadata: {name: web-1-move, namespace: $NS}
spec: {vmName: web-1, mode: Auto, bandwidth: 24Mi, maxDowntime: 300ms}
EOF
phase=""
for _ in $(seq 1 600); do
  phase=$(k get vmm -n $NS web-1-move -o jsonpath='{.status.phase}')
  case "$phase" in Succeeded | Failed | Cancelled) break ;; esac
  sleep 0.5
done
k get vmm -n $NS web-1-move -o wide >&2 || true
[ "$phase" = Succeeded ] || { log "migration ended $phase"; k get vmm -n $NS web-1-move -o yaml >&2; exit 1; }
DST=$(k get vm -n $NS web-1 -o jsonpath='{.status.nodeName}')
log "migration Succeeded: $SRC -> $DST, downtime $(k get vmm -n $NS web-1-move -o jsonpath='{.status.downtime}')"
sleep 15  # the outcome scraped and the VM flipped
T_MIG_END=$(date +%s)

# ---- 4. every PromQL expression against Prometheus; a handler stopped ---------------------------
stop_pid() {  # PID: SIGTERM, then wait up to 20 s for it to exit
  local _
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.2; done
}
stop_pid "${PIDS[1]}"  # handler B
sleep 12
"$PY" "$ROOT/tests/deploy/promql_report.py" "$PROM" "$ROOT" "$T_START" | tee "$OUT/promql-report.txt"

# ---- 5. the picture -------------------------------------------------------------------------------
if [ "$PNG" != none ]; then
  "$PY" "$ROOT/tests/deploy/dashboard_png.py" "$PROM" "$ROOT/deploy/monitoring/ferry-dashboard.json" \
    "$T_START" "$T_MIG_END" "$PNG" "web-1: $SRC -> $DST"
  log "picture: $PNG"
fi

# ---- 6. the audit log: nothing refused ------------------------------------------------------------
# The API server audits a watch when it ends: stop the operators and handler A first.
for p in "${PIDS[0]}" "${PIDS[2]}" "${PIDS[3]}"; do stop_pid "$p"; done
sleep 1
"$PY" "$ROOT/tests/deploy/audit_report.py" "$OUT/audit.log" "$ROOT/deploy/base" | tee "$OUT/audit-report.txt"
log "reports: $OUT/audit-report.txt $OUT/promql-report.txt"

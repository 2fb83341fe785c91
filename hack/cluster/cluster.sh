#!/usr/bin/env bash
# Ferry's local cluster: every part of Ferry on one machine, from real parts.
#
#   hack/cluster/cluster.sh up [--nodes N] [--build DIR]   bring it up (idempotent; N default 3)
#   hack/cluster/cluster.sh down                           stop everything, then check-clean
#   hack/cluster/cluster.sh status                         processes, leader, nodes, Hypervisors
#   hack/cluster/cluster.sh check-clean                    exit 1 (and say what) if anything is left
#   hack/cluster/cluster.sh env                            the file to source: KUBECONFIG, PATH, ...
#   hack/cluster/cluster.sh leader [--identity]            the operator replica holding the Lease
#                                                          (--identity: with its start, operator-1_start2)
#   hack/cluster/cluster.sh kill NAME [SIGNAL]             crash a component (default SIGKILL); it
#                                                          is restarted a second later, as a pod is
#     NAME: operator-1 | operator-2 | leader | standby | handler-node-a ... | prometheus
#
# What `up` starts (state, logs and pids under $FERRY_CLUSTER_DIR, default /tmp/ferry-cluster):
#   * the lab's N simulated nodes (hack/lab/lab.sh: network namespaces, one libvirtd each);
#   * kube-apiserver + etcd on loopback (hack/kube/up.sh), Ferry's CRDs, namespace ferry-system;
#   * a Node object per lab node (node-a, node-b, ...) with the usual labels and Ready=True;
#   * one `ferry-handler agent` per node in the host namespace: its libvirtd by unix socket, the
#     API server on loopback, /metrics on 127.0.0.1 (a DaemonSet pod, restarted when it exits);
#   * `ferry-operator` twice (operator-1, operator-2) with leader election (a Deployment with two
#     replicas), /metrics on 127.0.0.1;
#   * Prometheus (Debian's package) on 127.0.0.1, scraping the operators and handlers.
# Nothing in the host namespace connects to a lab address: the handlers use unix sockets, and
# only libvirtd and QEMU inside the nodes' namespaces use the lab network (blackhole checked).
#
# Binaries: --build DIR (or FERRY_BUILD) holding handler/ferry-handler, operator/ferry-operator
# and operator/kubectl/kubectl-ferry (default build/release). Node sizing for the lab's small
# guests: FERRY_NODE_MEMORY (allocatable memory per node, default 1Gi) and FERRY_NODE_CPUS
# (allocatable vCPUs per node, default 8), whatever the machine has.
# The lab is shared by everyone on the machine: wrap a session in
#   flock /tmp/ferry-lab-session.lock ...   and bring the cluster down before releasing it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2; }

load_build() {
  BUILD=$(cat "$DIR/build" 2>/dev/null || echo "${FERRY_BUILD:-$ROOT/build/release}")
  HANDLER=$BUILD/handler/ferry-handler
  OPERATOR=$BUILD/operator/ferry-operator
  KUBECTL_FERRY_DIR=$BUILD/operator/kubectl
}

# ---- component command lines ------------------------------------------------------------------
# The host memory the handler reports as capacity: libvirt's node memory (not /proc/meminfo).
mem_bytes() { "$LAB_SH" virsh "$1" nodeinfo | awk '/^Memory size/ {printf "%.0f\n", $3 * 1024}'; }
quantity_bytes() {  # 1Gi, 512Mi -> bytes
  case "$1" in
    *Gi) echo $((${1%Gi} << 30)) ;; *Mi) echo $((${1%Mi} << 20)) ;;
    *[0-9]) echo "$1" ;; *) die "memory quantity like 1Gi or 512Mi, got '$1'" ;;
  esac
}

handler_cmd() {  # LETTER
  local l=$1 node ip reserve ratio
  node=$(node_name "$l")
  ip=$("$LAB_SH" peer-uri "$l" | sed -E 's|.*://([^/]*)/.*|\1|')
  reserve=$(($(mem_bytes "$l") - $(quantity_bytes "${FERRY_NODE_MEMORY:-1Gi}")))
  [ "$reserve" -gt 0 ] || reserve=0
  ratio=$(awk -v c="${FERRY_NODE_CPUS:-8}" -v n="$(nproc)" 'BEGIN {printf "%g", c / n}')
  echo "$HANDLER" agent --node "$node" --libvirt-uri "$("$LAB_SH" uri "$l")" \
    --kubeconfig "$KDIR/kubeconfig" --emulator "$LAB/qemu-bpo/qemu-system-x86_64" --virt-type qemu \
    --machine pc-i440fx-7.2 --default-cpu-model qemu64 --console-log-dir /var/log/libvirt/qemu \
    --migration-uri "$("$LAB_SH" peer-uri "$l")" --migration-address "$ip" \
    --ops-address "127.0.0.1:$(port_of "handler-$node")" --heartbeat 10s --shutdown-grace 10s \
    --reserved-memory "$reserve" --cpu-allocation-ratio "$ratio"
}

operator_cmd() {  # REPLICA (1, 2)
  echo "$OPERATOR" --kubeconfig "$KDIR/kubeconfig" --leader-elect true --id "operator-$1_start{start}" \
    --lease-namespace "$LEASE_NS" --lease-name "$LEASE_NAME" \
    --ops-address "127.0.0.1:$(port_of "operator-$1")"
}

write_prometheus_config() {
  local n
  mkdir -p "$DIR/prometheus/data"
  {
    echo "# Ferry's local cluster: every target on loopback (hack/cluster/cluster.sh)"
    echo "global: {scrape_interval: 2s, evaluation_interval: 5s}"
    echo "scrape_configs:"
    echo "  - job_name: ferry-operator"
    echo "    static_configs:"
    for n in 1 2; do
      echo "      - {targets: ['127.0.0.1:$(port_of "operator-$n")'], labels: {replica: operator-$n}}"
    done
    echo "  - job_name: ferry-handler"
    echo "    static_configs:"
    for n in $(cluster_nodes); do
      echo "      - {targets: ['127.0.0.1:$(port_of "handler-$n")'], labels: {node: $n}}"
    done
  } >"$DIR/prometheus/prometheus.yml"
}

prometheus_cmd() {
  echo prometheus --config.file="$DIR/prometheus/prometheus.yml" --storage.tsdb.path="$DIR/prometheus/data" \
    --storage.tsdb.retention.time=1d --web.listen-address="127.0.0.1:$(port_of prometheus)" \
    --log.level=warn
}

has_leader() { [ -n "$(leader)" ]; }
hv_ready() { [ "$(k get hv "$1" -o jsonpath='{.status.ready}' 2>/dev/null)" = true ]; }
prometheus_ready() { curl -sf "http://127.0.0.1:$(port_of prometheus)/-/ready" >/dev/null; }

write_env() {
  cat >"$DIR/env" <<EOF
# Ferry's local cluster: . $DIR/env
export FERRY_CLUSTER_DIR='$DIR'
export KUBECONFIG='$KDIR/kubeconfig'
export PATH='$KUBECTL_FERRY_DIR':"\$PATH"
export FERRY_PROMETHEUS_URL='http://127.0.0.1:$(port_of prometheus)'
EOF
}

# ---- verbs ------------------------------------------------------------------------------------
healthy() {
  local c
  [ "$(cat "$DIR/state" 2>/dev/null)" = up ] || return 1
  for c in $(components); do component_alive "$c" || return 1; done
  k get --raw /readyz >/dev/null 2>&1
}

# Whatever made `up` stop half-way: take everything down again, keep the logs.
up_failed() {
  local rc=$?
  trap - EXIT
  log "start-up failed; taking everything down (logs kept in $LOGS)"
  cmd_down >/dev/null 2>&1 || true
  exit $((rc == 0 ? 1 : rc))
}

cmd_up() {
  local nodes=${FERRY_CLUSTER_NODES:-3} t0=$SECONDS l n names
  while [ $# -gt 0 ]; do
    case "$1" in
      --nodes) nodes=${2:?--nodes N}; shift 2 ;;
      --build) FERRY_BUILD=$(cd "${2:?--build DIR}" && pwd); export FERRY_BUILD; shift 2 ;;
      *) usage ;;
    esac
  done
  [ "$(id -u)" = 0 ] || die "needs root (network namespaces, libvirtd)"
  if [ -f "$DIR/state" ]; then
    if healthy; then
      log "already up ($DIR); nothing to do"
      cmd_status
      return 0
    fi
    die "a cluster was left in $DIR by a run that did not finish (state: $(cat "$DIR/state")); run: $0 down"
  fi
  if ! "$LAB_SH" check-clean >/dev/null 2>&1; then
    die "the lab is in use or was left by a crashed run ($("$LAB_SH" check-clean 2>&1 | grep left | tr '\n' ' ')); if nobody uses it: hack/lab/lab.sh down"
  fi
  load_build
  for b in "$HANDLER" "$OPERATOR" "$KUBECTL_FERRY_DIR/kubectl-ferry"; do
    [ -x "$b" ] || die "$b not found: build it, or name the build directory with --build DIR"
  done
  command -v prometheus >/dev/null || die "prometheus not found (hack/install-deps.sh)"
  mkdir -p "$DIR"
  rm -rf "$RUN" "$LOGS" "$DIR/prometheus" "$DIR/env" "$DIR/ports"
  mkdir -p "$RUN" "$LOGS"
  echo "$BUILD" >"$DIR/build"
  echo starting >"$DIR/state"
  trap up_failed EXIT

  log "lab: $nodes nodes"
  FERRY_LAB_NODES=$nodes "$LAB_SH" up 2>"$LOGS/lab-up.log" || { tail -5 "$LOGS/lab-up.log" >&2; false; }
  "$LAB_SH" check-blackhole 2>/dev/null
  log "kube-apiserver + etcd"
  "$KUBE_HACK/up.sh" "$KDIR" >"$LOGS/kube-up.log" 2>&1 || { tail -5 "$LOGS/kube-up.log" >&2; false; }
  k apply -f "$ROOT/crds/" >/dev/null
  k wait --for condition=established --timeout=60s crd --all >/dev/null
  k create namespace "$LEASE_NS" >/dev/null

  names=(operator-1 operator-2 prometheus)
  for n in $(cluster_nodes); do names+=("handler-$n"); done
  read -r -a ports <<<"$(free_ports ${#names[@]})"
  for i in "${!names[@]}"; do echo "${names[$i]} ${ports[$i]}"; done >"$DIR/ports"

  # shellcheck disable=SC2046
  KUBECONFIG=$KDIR/kubeconfig "$CLUSTER_HACK/register-node.sh" $("$LAB_SH" nodes)
  log "handlers: $(cluster_nodes | tr '\n' ' ')"
  for l in $("$LAB_SH" nodes); do
    # shellcheck disable=SC2046  # the command line is word-split on purpose (no spaces inside)
    spawn "handler-$(node_name "$l")" $(handler_cmd "$l")
  done
  for n in $(cluster_nodes); do wait_until 60 "Hypervisor $n ready" hv_ready "$n"; done
  log "operator: two replicas"
  # shellcheck disable=SC2046
  spawn operator-1 $(operator_cmd 1)
  # shellcheck disable=SC2046
  spawn operator-2 $(operator_cmd 2)
  wait_until 60 "an operator replica to hold the Lease" has_leader
  log "prometheus"
  write_prometheus_config
  # shellcheck disable=SC2046
  spawn prometheus $(prometheus_cmd)
  wait_until 60 "Prometheus ready" prometheus_ready
  write_env
  echo up >"$DIR/state"
  trap - EXIT
  log "up in $((SECONDS - t0)) s; leader $(leader)"
  echo ". $DIR/env    # KUBECONFIG, kubectl-ferry on PATH, FERRY_PROMETHEUS_URL"
}

cmd_down() {
  local c rc=0
  # shellcheck disable=SC2046  # component names have no spaces
  stop $(components)
  "$LAB_SH" down >/dev/null 2>&1 || rc=1
  if [ -d "$KDIR" ]; then "$KUBE_HACK/down.sh" "$KDIR" >/dev/null 2>&1 || rc=1; fi
  rm -rf "$RUN" "$DIR/state" "$DIR/env" "$DIR/ports" "$DIR/build" "$DIR/prometheus"
  cmd_check_clean || rc=1
  return $rc
}

cmd_check_clean() {
  local left=0 p c
  for c in $(components); do echo "left: pid file of $c"; left=1; done
  for p in $(pgrep -f -- "$DIR" 2>/dev/null || true); do
    [ "$p" = $$ ] || [ "$p" = "$BASHPID" ] && continue
    alive "$p" && ours "$p" && { echo "left: process $p ($(tr '\0' ' ' <"/proc/$p/cmdline" | cut -c1-100))"; left=1; }
  done
  [ -f "$DIR/state" ] && { echo "left: $DIR/state ($(cat "$DIR/state"))"; left=1; }
  [ -d "$KDIR" ] && { echo "left: kube-apiserver directory $KDIR"; left=1; }
  "$LAB_SH" check-clean || left=1
  [ $left = 0 ] && log "clean: no cluster processes, API server or lab left"
  return $left
}

cmd_status() {
  local c p
  [ -f "$DIR/state" ] || { echo "no cluster in $DIR"; return 1; }
  echo "cluster $DIR: $(cat "$DIR/state"); leader: $(leader)"
  printf '%-22s %-8s %-8s %s\n' COMPONENT PID PORT STATE
  for c in $(components); do
    p=$(child_pid "$c")
    printf '%-22s %-8s %-8s %s\n' "$c" "${p:--}" "$(port_of "$c")" "$(alive "$p" && echo running || echo restarting)"
  done
  echo "Prometheus: http://127.0.0.1:$(port_of prometheus)"
  k get nodes -L ferry.dev/lab-node 2>/dev/null || true
  k get hv 2>/dev/null || true
}

resolve() {  # NAME -> component (leader / standby resolved through the Lease)
  local who
  case "$1" in
    leader) who=$(leader); [ -n "$who" ] || die "no replica holds the Lease"; echo "$who" ;;
    standby) who=$(leader); [ "$who" = operator-1 ] && echo operator-2 || echo operator-1 ;;
    *) [ -f "$RUN/$1.sup" ] || die "no component $1 ($(components | tr '\n' ' '))"; echo "$1" ;;
  esac
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  check-clean) cmd_check_clean ;;
  env) [ -f "$DIR/env" ] || die "no cluster up in $DIR"; echo "$DIR/env" ;;
  leader) if [ "${2:-}" = --identity ]; then lease_holder; else leader; fi ;;
  kill) kill_child "$(resolve "${2:?NAME}")" "${3:-KILL}" ;;
  *) usage ;;
esac

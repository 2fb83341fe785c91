# hack/cluster/lib.sh - helpers of hack/cluster/cluster.sh. Sourced, never run.
# shellcheck shell=bash

CLUSTER_HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$CLUSTER_HACK/../.." && pwd)
LAB_SH=$ROOT/hack/lab/lab.sh
KUBE_HACK=$ROOT/hack/kube
DIR=${FERRY_CLUSTER_DIR:-/tmp/ferry-cluster}
KDIR=$DIR/kube
RUN=$DIR/run
LOGS=$DIR/logs
LAB=${FERRY_LAB_DIR:-/tmp/ferry-lab}
LETTERS=ABCDEFGHIJ
# The Lease the operator replicas campaign for (ferry-operator's defaults).
LEASE_NS=ferry-system
LEASE_NAME=ferry-operator

log() { printf '[cluster %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Node names: the lab's node letter A -> Kubernetes node node-a.
node_name() { echo "node-$(tr 'A-Z' 'a-z' <<<"$1")"; }
letter_of() {
  local l
  l=$(tr 'a-z' 'A-Z' <<<"${1#node-}")
  [[ "$1" == node-? ]] && [[ "$LETTERS" == *"$l"* ]] || die "unknown node '$1' (node-a, node-b, ...)"
  echo "$l"
}
cluster_nodes() { local l; for l in $("$LAB_SH" nodes); do node_name "$l"; done; }

alive() {  # PID: running and not a zombie
  [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]
}
# ours PID: the process was started for this cluster (its command line names DIR), which guards
# against a pid reused by something else after a crash.
ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$DIR"; }
sup_pid() { cat "$RUN/$1.sup" 2>/dev/null || true; }
child_pid() { cat "$RUN/$1.pid" 2>/dev/null || true; }
component_alive() { local p; p=$(sup_pid "$1"); alive "$p" && ours "$p"; }
components() { ls "$RUN" 2>/dev/null | sed -n 's/\.sup$//p' | sort; }

# spawn NAME CMD...: CMD under supervise.sh (restarted when it exits), detached: own session,
# stdin from /dev/null, every inherited descriptor above 2 closed (so a CTest or $(...) that
# started the cluster never waits for it).
spawn() {
  local name=$1
  shift
  rm -f "$RUN/$name.stop" "$RUN/$name.pid"
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid "$CLUSTER_HACK/supervise.sh" "$DIR" "$name" "$@" </dev/null >>"$LOGS/$name.log" 2>&1
  ) &
  echo "$!" >"$RUN/$name.sup"
  local i
  for i in $(seq 1 50); do [ -s "$RUN/$name.pid" ] && return 0; sleep 0.1; done
  die "$name did not start (see $LOGS/$name.log)"
}

# stop NAME...: no restart any more, SIGTERM to every child at once, SIGKILL to any still running
# 20 s later; then the supervisors. All at once: a handler takes a few seconds to stop.
stop() {
  local name child sup i
  for name in "$@"; do
    touch "$RUN/$name.stop"
    child=$(child_pid "$name")
    if alive "$child" && ours "$child"; then kill -TERM "$child" 2>/dev/null || true; fi
  done
  for name in "$@"; do
    child=$(child_pid "$name")
    for i in $(seq 1 200); do alive "$child" || break; sleep 0.1; done
    if alive "$child" && ours "$child"; then
      log "$name (pid $child) still running 20 s after SIGTERM: SIGKILL"
      kill -KILL "$child" 2>/dev/null || true
    fi
  done
  for name in "$@"; do
    sup=$(sup_pid "$name")
    for i in $(seq 1 50); do alive "$sup" || break; sleep 0.1; done
    if alive "$sup" && ours "$sup"; then kill -KILL "$sup" 2>/dev/null || true; fi
    rm -f "$RUN/$name.sup" "$RUN/$name.pid"
  done
}

# kill_child NAME [SIGNAL]: what a crash does (default SIGKILL); the supervisor restarts it.
kill_child() {
  local name=$1 sig=${2:-KILL} child
  child=$(child_pid "$name")
  alive "$child" && ours "$child" || die "$name is not running"
  kill -"$sig" "$child"
  log "$name (pid $child) sent SIG$sig"
}

# free_ports N: N loopback ports in 20000-32000 that no socket uses (the kube scripts' range:
# below the kernel's ephemeral ports, so no outgoing connection holds one).
free_ports() {
  local n=$1 p used picked=()
  used=" $(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' | tr '\n' ' ') "
  while [ ${#picked[@]} -lt "$n" ]; do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12001))
    [[ "$used" == *" $p "* ]] && continue
    used+="$p "
    picked+=("$p")
  done
  echo "${picked[@]}"
}
port_of() { awk -v n="$1" '$1 == n {print $2}' "$DIR/ports" 2>/dev/null; }

k() { KUBECONFIG=$KDIR/kubeconfig kubectl --request-timeout=20s "$@"; }

wait_until() {  # SECONDS WHAT CMD...: until CMD succeeds, else die
  local secs=$1 what=$2 i
  shift 2
  for i in $(seq 1 $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "timed out after $secs s waiting for $what"
}

# The identity holding the Lease: replica and start (operator-1_start2), "" when none does.
lease_holder() {
  k get lease -n "$LEASE_NS" "$LEASE_NAME" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true
}
# The replica that holds the Lease (operator-1 / operator-2), "" when none does.
leader() { local h; h=$(lease_holder); echo "${h%_start*}"; }

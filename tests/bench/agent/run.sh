#!/usr/bin/env bash
# Resident memory and CPU of the node agent (`ferry-handler agent`): idle on a node running N
# guests (default 20), then while one migration leaves that node. Prints a table; the numbers
# are written down in docs/handler.md. Needs root (the lab) and takes the lab for ~3 minutes:
#   flock /tmp/ferry-lab-session.lock tests/bench/agent/run.sh BUILD_DIR [N]
# BUILD_DIR holds a Release ferry-handler (the ASan build doubles memory and CPU). Brings up the
# lab (hack/lab), a kube-apiserver of its own (hack/kube), one agent per lab node, and always
# takes all of it down again.
set -euo pipefail
BUILD=$(cd "${1:?BUILD_DIR}" && pwd)
N=${2:-20}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
KDIR=$BUILD/agent_bench_kube
export FERRY_HANDLER=$BUILD/handler/ferry-handler AGENT_LAB_STATE=$BUILD/agent-bench
SAMPLE_S=${SAMPLE_S:-30}

cleanup() {
  set +e
  [ -f "$KDIR/env" ] && (. "$KDIR/env" && "$ROOT/tests/lab/agent/handlers.sh" down >/dev/null 2>&1)
  "$ROOT/hack/kube/down.sh" "$KDIR" >/dev/null 2>&1
  "$ROOT/hack/lab/lab.sh" down >/dev/null 2>&1
}
trap cleanup EXIT
"$ROOT/hack/lab/lab.sh" up >/dev/null
"$ROOT/hack/kube/up.sh" "$KDIR" >/dev/null
. "$KDIR/env"
kubectl apply -f "$ROOT/crds/" >/dev/null
kubectl wait --for condition=established --timeout=60s crd --all >/dev/null
"$ROOT/tests/lab/agent/handlers.sh" up >/dev/null
. "$ROOT/tests/lab/agent/lib.sh"

# usage PID SECONDS -> "<max RSS MiB> <CPU % of one core>" over SECONDS, sampled every second
usage() {
  local pid=$1 secs=$2 hz t0 t1 rss max=0 i
  hz=$(getconf CLK_TCK)
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  for i in $(seq 1 "$secs"); do
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    [ "$rss" -gt "$max" ] && max=$rss
    sleep 1
  done
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  awk -v m="$max" -v d="$((t1 - t0))" -v hz="$hz" -v s="$secs" \
    'BEGIN { printf "%.1f %.2f\n", m / 1024, 100 * d / hz / s }'
}

log "booting $N guests on lab-a"
for i in $(seq 1 "$N"); do make_vm "idle-$i" lab-a 128 8 0; done
running() { [ "$(kubectl get vm -n "$NS" -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c '^Running$')" -ge "$N" ]; }
wait_for 300 "$N VMs Running" running
sleep 15  # let boots and first reports settle
A=$(handler_pid A)
B=$(handler_pid B)
read -r a_idle_rss a_idle_cpu < <(usage "$A" "$SAMPLE_S")
read -r b_idle_rss b_idle_cpu < <(usage "$B" 5)

log "one migration out of lab-a (256 MiB guest, link capped at 8 MiB/s)"
boot_vm mover A 256 32 4
start_vmm mover-out mover lab-a lab-b '{"mode":"Auto","allowPostCopy":false,"allowAutoConverge":false,"bandwidth":"8Mi","maxDowntime":"300ms"}'
wait_for 60 "mover-out Running" is Running vmm_phase mover-out
secs=$((SAMPLE_S < 20 ? SAMPLE_S : 20))
usage "$B" "$secs" >"$STATE/b-mig" &
read -r a_mig_rss a_mig_cpu < <(usage "$A" "$secs")
wait
read -r b_mig_rss b_mig_cpu <"$STATE/b-mig"
phase=$(vmm_phase mover-out)
wait_for 120 "mover-out terminal" terminal mover-out
result=$(finish_vmm mover-out mover)

printf '\nferry-handler agent (%s), %d guests on lab-a, samples of %d s (idle) and %d s (migration)\n' \
  "$(basename "$BUILD")" "$N" "$SAMPLE_S" "$secs"
printf '%-34s %12s %12s\n' "" "RSS (MiB)" "CPU (%)"
printf '%-34s %12s %12s\n' "lab-a idle, $N domains" "$a_idle_rss" "$a_idle_cpu"
printf '%-34s %12s %12s\n' "lab-a, source of one migration" "$a_mig_rss" "$a_mig_cpu"
printf '%-34s %12s %12s\n' "lab-b idle, 0 domains" "$b_idle_rss" "$b_idle_cpu"
printf '%-34s %12s %12s\n' "lab-b, target of one migration" "$b_mig_rss" "$b_mig_cpu"
printf 'the migration was %s while sampled and ended %s\n' "$phase" "$result"

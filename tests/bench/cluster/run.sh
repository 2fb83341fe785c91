#!/usr/bin/env bash
# Ferry's headline numbers on the local cluster (hack/cluster). Needs root and takes the lab
# (it holds /tmp/ferry-lab-session.lock while it runs, ~4 minutes):
#   tests/bench/cluster/run.sh BUILD_DIR [RUNS]
# BUILD_DIR holds Release binaries (ferry-operator, ferry-handler, kubectl-ferry; the ASan build
# is several times slower). Prints, and writes to BUILD_DIR/cluster-bench.txt:
#   1. control plane: `kubectl ferry migrate --wait` on an idle cluster, RUNS times (default 10):
#      create → Scheduled, → TargetReady, → Running (the source's engine started), → Succeeded,
#      as the client saw each phase arrive on its watch; p50 and max
#   2. drain of a node holding 4 guests (128 MiB, 32 MiB working set rewritten at 8 MiB/s),
#      every migration capped at BW (default 32 MiB/s) by a MigrationPolicy: total time of
#      `kubectl ferry drain --wait` against the bound that link cap and the parallelism limits
#      (2 outbound migrations per node) set, bytes moved, downtime per guest (p50, max)
#   3. resident memory (max VmRSS) of both operator replicas and every handler during the drain
#   and the machine's load average before and after.
set -euo pipefail
BUILD=$(cd "${1:?BUILD_DIR with Release binaries}" && pwd)
RUNS=${2:-10}
BW_MIB=${BW_MIB:-32}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
CL=$ROOT/hack/cluster/cluster.sh
export FERRY_CLUSTER_DIR=${FERRY_CLUSTER_DIR:-/tmp/ferry-cluster-bench}
OUT=$BUILD/cluster-bench.txt

exec 9>/tmp/ferry-lab-session.lock
flock 9
trap '"$CL" down >/dev/null 2>&1 || true' EXIT
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
"$CL" up --nodes 3 --build "$BUILD" >/dev/null
# shellcheck source=/dev/null
. "$("$CL" env)"
k() { kubectl --request-timeout=20s "$@"; }
note() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

vm() {  # NAME WS RATE [LABELS]
  k apply -f - >/dev/null <<EOF
apiVersion: ferry.dev/v1alpha1
kind: VirtualMachine
metadata: {name: $1, namespace: default, labels: {bench: "true"${4:+, $4}}}
spec:
  running: true
  cpus: 1
  memory: 128Mi
  kernelBoot:
    kernel: ${FERRY_LAB_DIR:-/tmp/ferry-lab}/images/vmlinuz
    initrd: ${FERRY_LAB_DIR:-/tmp/ferry-lab}/images/initrd.cpio.gz
    cmdline: "console=ttyS0 panic=-1 loglevel=4 ferry.mem=$2 ferry.rate=$3 ferry.hb=200"
EOF
}
running() { k wait --for=jsonpath='{.status.phase}'=Running --timeout=180s "vm/$1" >/dev/null; }
# p50 and max of numbers on stdin
stats() { sort -g | awk '{v[NR]=$1} END {if (NR==0) {print "- -"; exit} printf "%.0f %.0f\n", v[int((NR+1)/2)], v[NR]}'; }

# ---- 1. control plane latency -----------------------------------------------------------------
note "control plane: $RUNS migrations of an idle guest"
vm lat-1 16 1
running lat-1
sleep 5  # its first boot settles
: >"$BUILD/cluster-bench-latency.jsonl"
for i in $(seq 1 "$RUNS"); do
  kubectl ferry migrate lat-1 --wait -o json | jq -c '.timeline' >>"$BUILD/cluster-bench-latency.jsonl"
done
lat() { jq -r --arg p "$1" '.[] | select(.phase == $p) | .seconds * 1000' "$BUILD/cluster-bench-latency.jsonl" | stats; }
read -r sch_p50 sch_max <<<"$(lat Scheduled)"
read -r tr_p50 tr_max <<<"$(lat TargetReady)"
read -r run_p50 run_max <<<"$(lat Running)"
read -r ok_p50 ok_max <<<"$(lat Succeeded)"
k delete vm lat-1 --wait=false >/dev/null

# ---- 2. drain of a node with 4 guests ---------------------------------------------------------
note "drain: 4 guests on one node, ${BW_MIB} MiB/s per migration"
nodes=$(k get nodes -o jsonpath='{.items[*].metadata.name}')
X=node-a
for n in $nodes; do [ "$n" = "$X" ] || k cordon "$n" >/dev/null; done
for i in 1 2 3 4; do vm "drain-$i" 32 8 "drain: \"true\""; done
for i in 1 2 3 4; do running "drain-$i"; done
for n in $nodes; do [ "$n" = "$X" ] || k uncordon "$n" >/dev/null; done
k apply -f - >/dev/null <<EOF
apiVersion: ferry.dev/v1alpha1
kind: MigrationPolicy
metadata: {name: bench-drain}
spec: {vmSelector: {matchLabels: {drain: "true"}}, bandwidth: ${BW_MIB}Mi, maxDowntime: 300ms}
EOF
sleep 10  # guests past boot, working sets written

# resident memory of every Ferry process, sampled every 0.5 s while the drain runs
rss_sampler() {
  local f c p r
  declare -A max
  while [ ! -e "$FERRY_CLUSTER_DIR/rss.stop" ]; do
    for f in "$FERRY_CLUSTER_DIR"/run/*.pid; do
      c=$(basename "$f" .pid)
      [ "$c" = prometheus ] && continue
      p=$(cat "$f" 2>/dev/null) || continue
      r=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
      [ -n "$r" ] && [ "$r" -gt "${max[$c]:-0}" ] && max[$c]=$r
    done
    sleep 0.5
  done
  for c in "${!max[@]}"; do echo "$c $((max[$c] / 1024))"; done | sort >"$FERRY_CLUSTER_DIR/rss.txt"
}
rm -f "$FERRY_CLUSTER_DIR/rss.stop"
rss_sampler &
sampler=$!
drain_json=$(kubectl ferry drain "$X" --wait -o json) || true
touch "$FERRY_CLUSTER_DIR/rss.stop"
wait $sampler
k uncordon "$X" >/dev/null
total=$(jq -r '.seconds * 10 | round / 10' <<<"$drain_json")
drained=$(jq -r .drained <<<"$drain_json")
read -r dt_p50 dt_max <<<"$(jq -r '.migrations[].downtimeMs' <<<"$drain_json" | stats)"
# bytes each migration moved (the source's last progress report), and the bound: the busiest
# outbound slots move everything at BW each, 2 at a time, but never faster than the largest one
bytes=$(for m in $(jq -r '.migrations[].name' <<<"$drain_json"); do
  k get vmm "$m" -o jsonpath='{.status.progress.processedBytes}{"\n"}'; done)
sum_mib=$(awk '{s += $1} END {printf "%.1f", s / 1048576}' <<<"$bytes")
max_mib=$(awk '$1 > m {m = $1} END {printf "%.1f", m / 1048576}' <<<"$bytes")
bound=$(awk -v s="$sum_mib" -v m="$max_mib" -v bw="$BW_MIB" 'BEGIN {b = s / (2 * bw); if (m / bw > b) b = m / bw; printf "%.1f", b}')
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "Ferry local cluster benchmark, $(date -u +%FT%TZ), $(nproc) CPUs, load average before $LOAD0, after $LOAD1"
  echo "binaries: $BUILD"
  echo
  echo "1. control plane, kubectl ferry migrate --wait of an idle 128 MiB guest, $RUNS runs (ms after the create; p50 / max)"
  echo "   Scheduled       $sch_p50 / $sch_max"
  echo "   TargetReady     $tr_p50 / $tr_max"
  echo "   Running         $run_p50 / $run_max"
  echo "   Succeeded       $ok_p50 / $ok_max"
  echo
  echo "2. drain of $X with 4 guests (128 MiB, 32 MiB working set at 8 MiB/s), ${BW_MIB} MiB/s per migration, 2 outbound at a time"
  echo "   drained: $drained in ${total} s; moved ${sum_mib} MiB (largest ${max_mib} MiB); bound from the link cap and parallelism ${bound} s"
  echo "   downtime per guest: p50 ${dt_p50} ms, max ${dt_max} ms"
  jq -r '.migrations[] | "   \(.vm) -> \(.target) \(.phase) \(.mode) \(.seconds // "-") s, downtime \(.downtimeMs // "-") ms"' <<<"$drain_json"
  echo
  echo "3. resident memory during the drain (max VmRSS, MiB)"
  sed 's/^/   /' "$FERRY_CLUSTER_DIR/rss.txt"
} | tee "$OUT"

#!/usr/bin/env bash
# Dirty-rate sweep: the same guest and link, dirtying 0/25/50/100/200 % of the bandwidth cap,
# migrated by each method, RUNS times per point; prints every run and then its own summary
# (summarize.py: medians, total time / (RAM / cap), bytes / RAM, downtime, the guest's work
# rate during the migration as a fraction of before, Auto vs the best fixed mode, link
# utilisation, the dirty rate the guest achieved, what TLS costs). Not part of CI.
#   tests/bench/migration/sweep.sh PATH/TO/ferry-handler     (root; brings the lab up and down)
# Methods:
#   auto      ferry-handler migrate (Auto, defaults: the dirty rate measured for 2 s first)
#   auto-1s   Auto with --premeasure 1
#   auto-old  Auto without the measurement (--no-premeasure: the policy reacts during pre-copy)
#   auto-2s   Auto with --premeasure 2 given explicitly
#   precopy   ferry-handler --mode precopy (downtime steps, auto-converge, abort at timeout)
#   postcopy  ferry-handler --mode postcopy (switch after the first pass)
#   virsh     plain `virsh migrate --live --p2p` (libvirt/QEMU defaults; aborted after PLAIN_LIMIT)
#   auto-tls  Auto over TLS (qemu+tls:// between the daemons, VIR_MIGRATE_TLS for QEMU)
# env: RAM=256 WS=128 BW=32 RATES="0 25 50 100 200"
#      METHODS="auto auto-old precopy postcopy virsh auto-tls"
#      RUNS=3 PLAIN_LIMIT=60 (s) KEEP_LAB=1 (do not bring the lab up/down; the caller holds it)
#      SETTLE=3 (s the guest runs on after each migration, for its work rate after)
# The guest's work: its heartbeat's verified= counter (pages it reads back, 256 per 5 ms tick
# while its vCPU keeps up); before = the 1.5 s before ferry-handler starts, during = the
# migration job (from ferry-handler's initial SetMaxDowntime action, after the measurement,
# for the job's total time), after = SETTLE s after, in the guest's own clock
# (summarize.py work).
# Wrap in `flock /tmp/ferry-lab-session.lock` on a shared machine.
set -euo pipefail
H=${1:-${FERRY_HANDLER:-}}
[ -n "$H" ] && [ -x "$H" ] || { echo "usage: $0 PATH/TO/ferry-handler" >&2; exit 2; }
H=$(cd "$(dirname "$H")" && pwd)/$(basename "$H")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
L=$(cd "$HERE/../../.." && pwd)/hack/lab/lab.sh
RAM=${RAM:-256} WS=${WS:-128} BW=${BW:-32}
RATES=${RATES:-"0 25 50 100 200"}
METHODS=${METHODS:-"auto auto-old precopy postcopy virsh auto-tls"}
SETTLE=${SETTLE:-3}
RUNS=${RUNS:-3}
PLAIN_LIMIT=${PLAIN_LIMIT:-60}
RESULTS=${RESULTS:-/tmp/ferry-sweep-$(date +%Y%m%d-%H%M%S).jsonl}
OUT=$(mktemp /tmp/ferry-sweep-run.XXXXXX)
if [ -z "${KEEP_LAB:-}" ]; then
  trap '"$L" down >/dev/null 2>&1 || true; rm -f "$OUT"' EXIT
  "$L" up
else
  trap 'rm -f "$OUT"' EXIT
fi
"$L" check-blackhole
VM=$("$L" vm)
SRC=$("$L" uri A) DST=$("$L" peer-uri B) TGT=$("$L" uri B)
DST_TLS=$("$L" peer-uri-tls B A) TLS_DIR=$("$L" tls-dir A)
now_ms() { local t=$EPOCHREALTIME; echo $(( ${t/./} / 1000 )); }
raw() { sed -nE "s/^$1:[[:space:]]*([0-9]+).*/\1/p" <<<"$2" | head -1; }

# ferry-handler in the host namespace: its own connections are unix sockets only.
run_ferry() {  # extra args -> one JSON object
  local rc=0 r
  "$H" migrate "$VM" --from "$SRC" --to "$DST" --to-client "$TGT" --bandwidth "$BW" --quiet "$@" \
    > "$OUT" 2>&1 || rc=$?
  r=$(grep '^RESULT ' "$OUT" | sed 's/^RESULT //' || true)
  [ -n "$r" ] || { jq -cn --arg rc "$rc" '{ok: false, reason: ("no result, exit " + $rc)}'; return; }
  jq -c '{ok: (.outcome == "Succeeded"), outcome, total_ms, downtime_ms, bytes_sent, mode, tls,
          start: ([.actions[] | select(.kind == "StartDecision") | .reason | split(":")[0]] | first),
          measured_mib_s: ([.actions[] | select(.kind == "StartDecision") | .reason |
            (try (capture("dirty rate (?<r>[0-9.]+) MiB/s measured").r | tonumber) catch null)] | first),
          actions: ([.actions[].kind] | map(select(. != "SetMaxDowntime")) | unique)}' <<<"$r"
}

run_virsh() {  # plain `virsh migrate --live --p2p` with libvirt/QEMU defaults and the same cap
  local t0 rc=0 pid st
  t0=$(now_ms)
  "$L" run A virsh -q -c "$SRC" migrate --live --p2p --persistent --undefinesource \
    --bandwidth "$BW" "$VM" "$DST" > "$OUT" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ $(( $(now_ms) - t0 )) -gt $(( PLAIN_LIMIT * 1000 )) ]; then
      "$L" virsh A domjobabort "$VM" >/dev/null 2>&1 || true
    fi
    sleep 0.5
  done
  wait "$pid" || rc=$?
  if [ $rc != 0 ]; then
    jq -cn --argjson w $(( $(now_ms) - t0 )) '{ok: false, outcome: "Failed", total_ms: $w, mode: "precopy"}'
    return
  fi
  st=$("$L" virsh B domjobinfo --completed --keep-completed --rawstats "$VM" 2>/dev/null || true)
  local t d b
  t=$(raw time_elapsed "$st") d=$(raw downtime "$st") b=$(raw data_processed "$st")
  jq -cn --argjson t "${t:-null}" --argjson d "${d:-null}" --argjson b "${b:-null}" \
    '{ok: true, outcome: "Succeeded", total_ms: $t, downtime_ms: $d, bytes_sent: $b, mode: "precopy"}'
}

# The dirty rate the guest achieved on the source while it was being migrated: the mean of
# its heartbeats' rate= after the start (a throttled or starved vCPU dirties less).
achieved_rate() {  # serial-line offset -> MiB/s
  tail -n +"$(( $1 + 1 ))" "$("$L" serial A)" | grep -a 'lab: hb=' | sed -E 's/.*rate=([0-9.]+).*/\1/' |
    awk '{s += $1; n++} END {if (n) printf "%.1f", s / n; else print "null"}'
}

echo "# sweep $(date -u +%FT%TZ) on $(hostname): $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg);" \
  "RAM=${RAM}MiB WS=${WS}MiB cap=${BW}MiB/s runs=$RUNS" | tee "$RESULTS.txt"
: > "$RESULTS"
for rate in $RATES; do
  dirty=$(( BW * rate / 100 ))
  for run in $(seq 1 "$RUNS"); do
    for m in $METHODS; do
      "$L" boot "$RAM" "$WS" "$dirty" >/dev/null 2>&1 || "$L" boot "$RAM" "$WS" "$dirty"
      sleep 2
      offset=$(wc -l < "$("$L" serial A)")
      u0=$(grep -a 'lab: hb=' "$("$L" serial A)" | tail -1 | sed -E 's/.* up=([0-9.]+).*/\1/')
      t0=$(now_ms)
      case "$m" in
        auto) line=$(run_ferry) ;;
        auto-old) line=$(run_ferry --no-premeasure) ;;
        auto-1s) line=$(run_ferry --premeasure 1) ;;
        auto-2s) line=$(run_ferry --premeasure 2) ;;
        precopy) line=$(run_ferry --mode precopy) ;;
        postcopy) line=$(run_ferry --mode postcopy) ;;
        auto-tls) line=$(run_ferry --to "$DST_TLS" --tls on --tls-dir "$TLS_DIR") ;;
        virsh) line=$(run_virsh) ;;
        *) echo "unknown method $m" >&2; exit 2 ;;
      esac
      wall=$(( $(now_ms) - t0 ))
      # The job starts after ferry-handler's set-up (and, for auto, the measurement): its
      # initial max downtime is set right before the migrate call.
      pre=0
      [ "$m" = virsh ] || pre=$(grep -m1 'action SetMaxDowntime' "$OUT" | sed -E 's/^\[ *([0-9.]+)s\].*/\1/' || true)
      job=$(jq -r '.total_ms // empty' <<<"$line")
      sleep "$SETTLE"
      work=$(python3 "$HERE/summarize.py" work "$("$L" serial A)" "$("$L" serial B)" "${u0:-0}" \
        "${pre:-0}" "${job:-$wall}" "$SETTLE" || echo null)
      line=$(jq -c --argjson work "$work" --argjson wall "$wall" '. + {work: $work, wall_ms: $wall}' <<<"$line")
      line=$(jq -c --arg m "$m" --argjson rate "$rate" --argjson dirty "$dirty" --argjson run "$run" \
        --argjson got "$(achieved_rate "$offset")" --argjson ram "$RAM" --argjson bw "$BW" \
        '. + {method: $m, rate_pct: $rate, dirty_mib_s: $dirty, run: $run, achieved_mib_s: $got,
              ram_mib: $ram, cap_mib_s: $bw}' <<<"$line")
      echo "$line" >> "$RESULTS"
      jq -r '"\(.rate_pct)% \(.method) run \(.run): \(if .ok then "ok" else "FAILED" end) total \(.total_ms // "-") ms, downtime \(.downtime_ms // "-") ms, sent \(((.bytes_sent // 0) / 1048576) | floor) MiB, guest dirtied \(.achieved_mib_s // "-") MiB/s, work during/before \(.work.during_fraction // "-"), \(.mode // "-") \(.start // "")\(if .measured_mib_s then " (measured \(.measured_mib_s) MiB/s)" else "" end) \(.actions // [] | join("+"))"' <<<"$line" |
        tee -a "$RESULTS.txt"
    done
  done
done
python3 "$HERE/summarize.py" "$RESULTS" | tee -a "$RESULTS.txt"
echo "raw results: $RESULTS; log and summary: $RESULTS.txt"

#!/usr/bin/env bash
# Dirty-rate sweep: the same guest and link, dirtying 0/25/50/100/200 % of the bandwidth cap,
# migrated by Ferry's Auto policy, by plain `virsh migrate --live` (libvirt/QEMU defaults), and
# by Ferry's fixed post-copy (for the "best fixed mode" comparison). Prints one line per run
# and a table: success, total time, downtime, bytes sent / guest RAM, and efficiency
# η = (guest RAM / bandwidth) / total time.
#   tests/bench/migration/sweep.sh PATH/TO/ferry-handler     (root; brings the lab up and down)
# env: RAM=256 WS=128 BW=32 RATES="0 25 50 100 200" METHODS="auto virsh postcopy"
#      PLAIN_LIMIT=60 (s; a plain pre-copy still running then is aborted and counted as failed)
#      KEEP_LAB=1 (do not bring the lab up/down)
set -euo pipefail
H=${1:-${FERRY_HANDLER:-}}
[ -n "$H" ] && [ -x "$H" ] || { echo "usage: $0 PATH/TO/ferry-handler" >&2; exit 2; }
H=$(cd "$(dirname "$H")" && pwd)/$(basename "$H")
L=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/hack/lab/lab.sh
RAM=${RAM:-256} WS=${WS:-128} BW=${BW:-32}
RATES=${RATES:-"0 25 50 100 200"}
METHODS=${METHODS:-"auto virsh postcopy"}
PLAIN_LIMIT=${PLAIN_LIMIT:-60}
RESULTS=${RESULTS:-/tmp/ferry-sweep-$(date +%Y%m%d-%H%M%S).txt}
OUT=$(mktemp /tmp/ferry-sweep-run.XXXXXX)
if [ -z "${KEEP_LAB:-}" ]; then trap '"$L" down >/dev/null 2>&1 || true; rm -f "$OUT"' EXIT; "$L" up; else trap 'rm -f "$OUT"' EXIT; fi
VM=$("$L" vm)
SRC=$("$L" uri A) DST=$("$L" peer-uri B)
now_ms() { local t=$EPOCHREALTIME; echo $(( ${t/./} / 1000 )); }
raw() { sed -nE "s/^$1:[[:space:]]*([0-9]+).*/\1/p" <<<"$2" | head -1; }

run_ferry() {  # extra args -> "ok total_ms downtime_ms bytes"
  local rc=0
  "$L" run A "$H" migrate "$VM" --from "$SRC" --to "$DST" --bandwidth "$BW" --quiet "$@" > "$OUT" 2>&1 || rc=$?
  local r; r=$(grep '^RESULT ' "$OUT" | sed 's/^RESULT //')
  [ -n "$r" ] || { echo "0 - - -"; return; }
  jq -r '"\(if .outcome=="Succeeded" then 1 else 0 end) \(.total_ms) \(.downtime_ms // "-") \(.bytes_sent) \(.mode) \([.actions[].kind] | map(select(. != "SetMaxDowntime")) | join("+") | if .=="" then "-" else . end)"' <<<"$r"
}

run_virsh() {  # plain `virsh migrate --live --p2p` with libvirt/QEMU defaults and the same cap
  local t0 rc=0 pid
  t0=$(now_ms)
  "$L" run A virsh -q -c "$SRC" migrate --live --p2p --persistent --undefinesource --bandwidth "$BW" "$VM" "$DST" > "$OUT" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if [ $(( $(now_ms) - t0 )) -gt $(( PLAIN_LIMIT * 1000 )) ]; then "$L" virsh A domjobabort "$VM" >/dev/null 2>&1 || true; fi
    sleep 0.5
  done
  wait "$pid" || rc=$?
  local wall=$(( $(now_ms) - t0 ))
  if [ $rc != 0 ]; then echo "0 $wall - - precopy -"; return; fi
  local st; st=$("$L" virsh B domjobinfo --completed --keep-completed --rawstats "$VM" 2>/dev/null || true)
  echo "1 $(raw time_elapsed "$st") $(raw downtime "$st") $(raw data_processed "$st") precopy -"
}

printf '%-5s %-6s %-9s %-3s %-8s %-9s %-8s %-6s %-9s %s\n' rate% dirty method ok total_s downtime_ms sent/RAM eta mode actions | tee "$RESULTS"
for rate in $RATES; do
  dirty=$(( BW * rate / 100 ))
  for m in $METHODS; do
    "$L" boot "$RAM" "$WS" "$dirty" >/dev/null 2>&1 || "$L" boot "$RAM" "$WS" "$dirty"
    sleep 3
    case "$m" in
      auto) line=$(run_ferry) ;;
      postcopy) line=$(run_ferry --mode postcopy) ;;
      virsh) line=$(run_virsh) ;;
    esac
    read -r ok total down bytes mode acts <<<"$line"
    ratio=-; eta=-; secs=-
    [ "$bytes" != - ] && [ -n "$bytes" ] && ratio=$(awk -v b="$bytes" -v r="$RAM" 'BEGIN{printf "%.2f", b/1048576/r}')
    [ "$total" != - ] && [ -n "$total" ] && secs=$(awk -v t="$total" 'BEGIN{printf "%.1f", t/1000}')
    [ "$ok" = 1 ] && eta=$(awk -v t="$total" -v r="$RAM" -v b="$BW" 'BEGIN{printf "%.2f", (r/b)/(t/1000)}')
    printf '%-5s %-6s %-9s %-3s %-8s %-9s %-8s %-6s %-9s %s\n' "$rate" "$dirty" "$m" "$([ "$ok" = 1 ] && echo yes || echo NO)" \
      "$secs" "$down" "$ratio" "$eta" "${mode:--}" "${acts:--}" | tee -a "$RESULTS"
  done
done
echo "results: $RESULTS (RAM=${RAM}MiB WS=${WS}MiB cap=${BW}MiB/s; η=(RAM/cap)/total)"

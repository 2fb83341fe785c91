#!/usr/bin/env bash
# Ferry migration demo: two simulated nodes, one busy guest, one live migration with
# `ferry-handler migrate` (Auto policy), the result, and proof that the guest kept running.
#   hack/lab/demo.sh PATH/TO/ferry-handler        (or FERRY_HANDLER=...)
# env: DEMO_RAM=256 DEMO_WS=128 DEMO_DIRTY=96 (MiB/s) DEMO_BW=32 (MiB/s cap, 0 = none)
# Needs root; the first run downloads QEMU 10 (bookworm-backports) and a kernel .deb.
# Always tears the lab down (no processes, namespaces or routes left), even on failure.
set -euo pipefail
H=${1:-${FERRY_HANDLER:-}}
[ -n "$H" ] && [ -x "$H" ] || { echo "usage: $0 PATH/TO/ferry-handler" >&2; exit 2; }
H=$(cd "$(dirname "$H")" && pwd)/$(basename "$H")
L=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lab.sh
RAM=${DEMO_RAM:-256} WS=${DEMO_WS:-128} DIRTY=${DEMO_DIRTY:-96} BW=${DEMO_BW:-32}
OUT=$(mktemp /tmp/ferry-demo.XXXXXX)
trap '"$L" down >/dev/null 2>&1 || true; "$L" check-clean || true; rm -f "$OUT"' EXIT

echo "== bringing up two nodes (network namespaces, one libvirtd each)"
"$L" up
echo "== booting a ${RAM} MiB guest on node A, dirtying ${DIRTY} MiB/s of a ${WS} MiB working set"
"$L" boot "$RAM" "$WS" "$DIRTY"
sleep 2
VM=$("$L" vm)
before=$("$L" hb A | cut -d' ' -f1)
# ferry-handler runs here, in the host namespace, and opens only unix sockets (A's libvirtd,
# B's for the target's state); A's libvirtd dials B's over the lab link.
args=(migrate "$VM" --from "$("$L" uri A)" --to "$("$L" peer-uri B)" --to-client "$("$L" uri B)")
[ "$BW" != 0 ] && args+=(--bandwidth "$BW")
echo "== live migration A -> B: ferry-handler ${args[*]}"
rc=0
"$H" "${args[@]}" | tee "$OUT" || rc=$?
sleep 2
after=$("$L" hb B | cut -d' ' -f1)
errs=$("$L" hb B | cut -d' ' -f2)
R=$(grep '^RESULT ' "$OUT" | sed 's/^RESULT //')
echo
echo "================ Ferry migration demo ================"
jq -r '"outcome:   \(.outcome)  (guest on the \(.guest))",
       "mode:      \(.mode)",
       "total:     \(.total_ms) ms",
       "downtime:  \(.downtime_ms // "n/a") ms",
       "sent:      \(.bytes_sent / 1048576 | floor) MiB = \((.bytes_sent / .memory_bytes * 100 | floor) / 100) x guest RAM",
       "actions:   \([.actions[] | "\(.kind)@\(.at_ms)ms"] | join(", "))"' <<<"$R"
[ -n "$(jq -r '.actions[] | select(.kind=="SwitchToPostCopy") | .reason' <<<"$R")" ] &&
  echo "why:       $(jq -r '.actions[] | select(.kind=="SwitchToPostCopy") | .reason' <<<"$R")"
state_b=$("$L" virsh B domstate "$VM" 2>/dev/null | head -1 || true)
if [ "$rc" = 0 ] && [ "$state_b" = running ] && [ -n "$after" ] && [ "$after" -gt "$before" ] && [ "$errs" = 0 ]; then
  echo "heartbeat: #$before on A before the migration -> #$after now on B: the guest kept running (memory check errs=0)"
  echo "======================================================"
  exit 0
fi
echo "heartbeat: FAILED (rc=$rc, B state '$state_b', heartbeat A #$before -> B #${after:-none}, errs=${errs:-?})"
exit 1

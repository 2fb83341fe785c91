#!/usr/bin/env bash
# tests/lab/agent/handlers.sh up|down: the two node agents of the lab tests (ctest fixture
# agent_handlers). up starts `ferry-handler agent` for lab-a and lab-b and waits until both
# serve their node (caches synced, Hypervisor ready); down stops them with SIGTERM.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case "${1:-}" in
  up)
    rm -f "$STATE"/handler-*.log
    $L check-blackhole >/dev/null
    handler_start A
    handler_start B
    for n in lab-a lab-b; do
      for i in $(seq 1 100); do
        [ "$(k get hv "$n" -o jsonpath='{.status.ready}' 2>/dev/null)" = true ] && break
        sleep 0.2
      done
      [ "$(k get hv "$n" -o jsonpath='{.status.ready}' 2>/dev/null)" = true ] || fail "Hypervisor $n not ready"
    done
    k get hv -o wide
    ;;
  down)
    handler_stop A
    handler_stop B
    ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac

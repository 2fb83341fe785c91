#!/usr/bin/env bash
# e2e_source_handler_killed: the source node's handler is stopped while its migration runs,
# twice: SIGKILL (a crash), then SIGTERM (a pod deleted or rolled; the handler detaches from the
# libvirt job, which runs on, and exits 0 promptly). Each time it is restarted (as its DaemonSet
# pod would be), re-attaches to the libvirt job instead of starting it again, and reports
# Succeeded; one copy of the guest, on the target, its heartbeat continuing.
TEST=e2e_source_handler_killed
. "$(dirname "$0")/lib.sh"

# stop_source_handler_mid_migration SIGNAL: migrates e2e-1 off its node and sends SIGNAL to that
# node's handler once bytes move; sets src and dst.
stop_source_handler_mid_migration() {
  local sig=$1 name before log exits attaches
  src=$(vm_node e2e-1)
  guest_on "$src" e2e-1
  before=$(hb "$src" e2e-1)
  name=$(kf migrate e2e-1 --bandwidth 8Mi -o json | jq -r .metadata.name)
  wait_for 60 "$name Running" is Running vmm_phase "$name"
  wait_for 30 "$name moving bytes" bash -c "[ \"\$(kubectl get vmm -n $NS $name -o jsonpath='{.status.progress.processedBytes}')\" -gt 0 ] 2>/dev/null"
  dst=$(jp vmm "$name" '{.status.targetNode}')
  log="$FERRY_CLUSTER_DIR/logs/handler-$src.log"
  exits=$(grep -c "supervise: handler-$src exited" "$log" || true)
  attaches=$(grep -c 'found Running after a restart: attach' "$log" || true)
  "$CL" kill "handler-$src" "$sig"
  if [ "$sig" = TERM ]; then
    # Graceful: it says it detaches, and exits 0 well within a pod's grace period (30 s).
    wait_for 10 "handler-$src to exit after SIGTERM" bash -c "[ \$(grep -c 'supervise: handler-$src exited' '$log') -gt $exits ]"
    grep "supervise: handler-$src exited" "$log" | tail -1 | grep -q "status 0$" ||
      fail "handler-$src did not exit 0 after SIGTERM: $(grep "supervise: handler-$src exited" "$log" | tail -1)"
    grep -q 'Stopping: detaching from running migrations' "$log" || fail "no detach on SIGTERM"
  fi
  wait_for 120 "$name terminal" terminal "$name"
  [ "$(vmm_phase "$name")" = Succeeded ] || fail "$name $(vmm_phase "$name") after SIG$sig: $(jp vmm "$name" '{.status.message}')"
  [ -n "$(vmm_events "$name" Attach)" ] || fail "no Attach Event after SIG$sig (the restarted handler did not re-attach)"
  [ "$(grep -c 'found Running after a restart: attach' "$log")" -gt "$attaches" ] ||
    fail "the restarted handler of $src did not log its re-attach after SIG$sig"
  [ "$(vmm_events "$name" MigrationStarted | wc -l)" = 1 ] || fail "the migration was started more than once after SIG$sig"
  wait_for 30 "e2e-1 flipped to $dst" is "$dst" vm_node e2e-1
  guest_on "$dst" e2e-1
  [ "$(hb "$dst" e2e-1)" -gt "$before" ] || fail "heartbeat did not continue after SIG$sig"
}

ensure_vm e2e-1 128 32 2
stop_source_handler_mid_migration KILL
pass "handler of $src killed (SIGKILL) mid-migration: restarted, re-attached, Succeeded; one copy on $dst"
stop_source_handler_mid_migration TERM
pass "handler of $src stopped (SIGTERM) mid-migration: detached, exited 0, restarted, re-attached, Succeeded; one copy on $dst"

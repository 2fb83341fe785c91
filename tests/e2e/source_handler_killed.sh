#!/usr/bin/env bash
# e2e_source_handler_killed: the source node's handler is SIGKILLed while its migration runs;
# it is restarted (as its DaemonSet pod would be), re-attaches to the libvirt job instead of
# starting it again, and reports Succeeded; one copy of the guest, on the target.
TEST=e2e_source_handler_killed
. "$(dirname "$0")/lib.sh"

ensure_vm e2e-1 128 32 2
src=$(vm_node e2e-1)
guest_on "$src" e2e-1
before=$(hb "$src" e2e-1)
name=$(kf migrate e2e-1 --bandwidth 8Mi -o json | jq -r .metadata.name)
wait_for 60 "$name Running" is Running vmm_phase "$name"
wait_for 30 "$name moving bytes" bash -c "[ \"\$(kubectl get vmm -n $NS $name -o jsonpath='{.status.progress.processedBytes}')\" -gt 0 ] 2>/dev/null"
dst=$(jp vmm "$name" '{.status.targetNode}')
log="$FERRY_CLUSTER_DIR/logs/handler-$src.log"
"$CL" kill "handler-$src" KILL
wait_for 120 "$name terminal" terminal "$name"
[ "$(vmm_phase "$name")" = Succeeded ] || fail "$name $(vmm_phase "$name"): $(jp vmm "$name" '{.status.message}')"
grep -q 'found Running after a restart: attach' "$log" || fail "the restarted handler did not re-attach"
[ -n "$(vmm_events "$name" Attach)" ] || fail "no Attach Event"
[ "$(vmm_events "$name" MigrationStarted | wc -l)" = 1 ] || fail "the migration was started more than once"
wait_for 30 "e2e-1 flipped to $dst" is "$dst" vm_node e2e-1
guest_on "$dst" e2e-1
[ "$(hb "$dst" e2e-1)" -gt "$before" ] || fail "heartbeat did not continue"
pass "handler of $src killed mid-migration: restarted, re-attached, Succeeded; one copy on $dst"

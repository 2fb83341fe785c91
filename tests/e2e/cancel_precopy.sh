#!/usr/bin/env bash
# e2e_cancel_precopy: `kubectl ferry cancel --wait` during pre-copy: the migration ends
# Cancelled, the guest keeps running on its source (heartbeat on), nothing is left on the
# target.
TEST=e2e_cancel_precopy
. "$(dirname "$0")/lib.sh"

ensure_vm e2e-1 128 32 2
src=$(vm_node e2e-1)
guest_on "$src" e2e-1
name=$(kf migrate e2e-1 --bandwidth 4Mi -o json | jq -r .metadata.name)
wait_for 60 "$name Running" is Running vmm_phase "$name"
wait_for 30 "$name moving bytes" bash -c "[ \"\$(kubectl get vmm -n $NS $name -o jsonpath='{.status.progress.processedBytes}')\" -gt 0 ] 2>/dev/null"
dst=$(jp vmm "$name" '{.status.targetNode}')
before=$(hb "$src" e2e-1)
out=$(kf cancel "$name" --wait) || fail "cancel: $out"
grep -q "^Cancelled: default/e2e-1 stays on $src" <<<"$out" || fail "cancel outcome: $out"
[ -n "$(vmm_events "$name" CancelRequested)" ] || fail "no CancelRequested Event"
guest_on "$src" e2e-1
[ "$(hb "$src" e2e-1)" -gt "$before" ] || fail "heartbeat stopped"
wait_for 30 "nothing of e2e-1 on $dst" is "" domain_state "$dst" e2e-1
pass "cancelled in pre-copy ($src -> $dst): guest on $src, heartbeat $before -> $(hb "$src" e2e-1), nothing on $dst"

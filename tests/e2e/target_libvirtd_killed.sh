#!/usr/bin/env bash
# e2e_target_libvirtd_killed: the target node's libvirtd is SIGKILLed during the migration:
# the VMM ends Failed with libvirt's reason, the guest runs on its source, and once the daemon
# is back its node's Hypervisor is ready again with no copy of the guest on it.
TEST=e2e_target_libvirtd_killed
. "$(dirname "$0")/lib.sh"

ensure_vm e2e-1 128 32 2
src=$(vm_node e2e-1)
guest_on "$src" e2e-1
name=$(kf migrate e2e-1 --bandwidth 4Mi -o json | jq -r .metadata.name)
trap '"$L" start-daemon "$(letter "${dst:-node-a}")" >/dev/null 2>&1 || true' EXIT
wait_for 60 "$name Running" is Running vmm_phase "$name"
wait_for 30 "$name moving bytes" bash -c "[ \"\$(kubectl get vmm -n $NS $name -o jsonpath='{.status.progress.processedBytes}')\" -gt 0 ] 2>/dev/null"
dst=$(jp vmm "$name" '{.status.targetNode}')
"$L" kill-daemon "$(letter "$dst")"
wait_for 90 "$name terminal" terminal "$name"
[ "$(vmm_phase "$name")" = Failed ] || fail "$name ended $(vmm_phase "$name"), want Failed"
msg=$(jp vmm "$name" '{.status.message}')
grep -qiE 'destination|connection|peer|closed|reset' <<<"$msg" || fail "the reason does not say what happened: $msg"
"$L" start-daemon "$(letter "$dst")" >/dev/null 2>&1
wait_for 40 "Hypervisor $dst ready again" is true k get hv "$dst" -o jsonpath='{.status.ready}'
guest_on "$src" e2e-1
wait_for 30 "no e2e-1 on $dst" bash -c "s=\$(\"$L\" virsh $(letter "$dst") domstate ${NS}_e2e-1 2>/dev/null | head -1); [ \"\$s\" != running ] && [ \"\$s\" != paused ]"
pass "target libvirtd killed: Failed ($msg); guest on $src; $dst ready again, no copy there"

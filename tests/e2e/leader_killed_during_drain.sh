#!/usr/bin/env bash
# e2e_leader_killed_during_drain: `kubectl ferry drain --wait` runs while the leading operator
# replica is SIGKILLed after the first evacuation migration started. Another operator process
# (the standby, or the killed replica restarted under a new identity) takes the Lease once it
# expires and finishes the drain; no VM gets a second evacuation migration; every guest ends
# on one node only, running, memory intact.
TEST=e2e_leader_killed_during_drain
. "$(dirname "$0")/lib.sh"

# Two test guests on one node X that holds no strict-affinity pair (a drain of X can finish):
# e2e-1 (left by the earlier tests, or created) and drain-2, moved to X when placed elsewhere.
ensure_vm e2e-1 128 32 2
PAIR=$(vm_node db-1)
X=$(vm_node e2e-1)
if [ "$X" = "$PAIR" ]; then
  X=$(other_node "$PAIR")
  out=$(kf migrate e2e-1 --to "$X" --wait) || fail "moving e2e-1 to $X: $out"
fi
ensure_vm drain-2 128 32 2
if [ "$(vm_node drain-2)" != "$X" ]; then
  out=$(kf migrate drain-2 --to "$X" --wait) || fail "moving drain-2 to $X: $out"
fi
# Slow enough that the drain outlives the operator's failover (Lease 15 s).
k apply -f - >/dev/null <<EOF2
apiVersion: ferry.dev/v1alpha1
kind: MigrationPolicy
metadata: {name: e2e-drain}
spec: {vmSelector: {matchLabels: {e2e: "true"}}, bandwidth: 8Mi, maxDowntime: 300ms,
  completionTimeoutPerGiB: 600s}
EOF2
trap 'k delete migrationpolicy e2e-drain >/dev/null 2>&1 || true; k uncordon "$X" >/dev/null 2>&1 || true' EXIT
on_x=$(k get vm -n "$NS" -o jsonpath="{range .items[?(@.status.nodeName==\"$X\")]}{.metadata.name}{\"\\n\"}{end}")
for vm in $on_x; do guest_on "$X" "$vm"; done
leader=$("$CL" leader)
leader_id=$("$CL" leader --identity)
[ -n "$leader" ] || fail "no operator leader"

kf drain "$X" --wait >"$FERRY_CLUSTER_DIR/e2e-drain.out" 2>&1 &
drain_pid=$!
wait_for 60 "an evacuation migration Running" bash -c \
  "kubectl get vmm -n $NS -l ferry.dev/evacuation-node=$X -o jsonpath='{.items[*].status.phase}' | grep -qw Running"
"$CL" kill leader KILL
# The Lease (15 s) expires; the standby or the restarted replica (a new identity) takes it.
wait_for 60 "another operator process leading" bash -c \
  "l=\$(\"$CL\" leader --identity); [ -n \"\$l\" ] && [ \"\$l\" != $leader_id ]"
rc=0
wait "$drain_pid" || rc=$?
out=$(cat "$FERRY_CLUSTER_DIR/e2e-drain.out")
[ $rc = 0 ] || fail "drain exit status $rc: $out"
grep -q "$X drained: no running VMs left" <<<"$out" || fail "drain summary: $out"
for vm in $on_x; do
  n=$(k get vmm -n "$NS" -l "ferry.dev/evacuation-node=$X" -o json | jq --arg vm "$vm" '[.items[] | select(.spec.vmName == $vm)] | length')
  [ "$n" = 1 ] || fail "$vm has $n evacuation migrations off $X, want exactly 1"
  to=$(vm_node "$vm")
  [ "$to" != "$X" ] || fail "$vm still on $X"
  guest_on "$to" "$vm"
done
[ "$(vm_node web-1 2>/dev/null)" = "" ] || [ "$(vm_node web-1)" != "$(vm_node web-2)" ] || fail "anti-affinity broken"
wait_for 30 "the killed replica back as a standby" bash -c "\"$CL\" status | grep -q '^$leader .* running'"
pass "leader $leader_id killed mid-drain; $("$CL" leader --identity) finished it: $(echo $on_x) off $X, one migration each"

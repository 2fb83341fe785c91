#!/usr/bin/env bash
# e2e_flow: the README's flow on the local cluster. The samples are applied and every VM boots
# on a node that respects its server group; batch-1 is migrated with `kubectl ferry migrate
# --wait` to the node of the strict-affinity pair (db-1 + cache-1); that node is drained with
# `kubectl ferry drain --wait`: every VM that may move goes where `kubectl ferry plan-drain`
# said, strict anti-affinity holds, the pair is reported as blocked and keeps running; the node
# is uncordoned. Prometheus scrapes every operator replica and handler.
TEST=e2e_flow
. "$(dirname "$0")/lib.sh"

k apply -f "$ROOT/crds/samples/servergroup.yaml" -f "$ROOT/crds/samples/migrationpolicy.yaml" \
  -f "$ROOT/crds/samples/virtualmachines.yaml" >/dev/null
VMS="web-1 web-2 db-1 cache-1 batch-1"
for vm in $VMS; do wait_for 90 "VM $vm Running" is Running vm_phase "$vm"; done
for vm in $VMS; do guest_on "$(vm_node "$vm")" "$vm"; done
[ "$(vm_node web-1)" != "$(vm_node web-2)" ] || fail "web-1 and web-2 share $(vm_node web-1) (strict anti-affinity)"
DB=$(vm_node db-1)
[ "$(vm_node cache-1)" = "$DB" ] || fail "cache-1 on $(vm_node cache-1), db-1 on $DB (strict affinity)"
wait_for 30 "ServerGroup web compliant" is true jp sg web '{.status.compliant}'
pass "5 VMs booted: web-1 $(vm_node web-1), web-2 $(vm_node web-2) (apart); db-1 + cache-1 on $DB (together); batch-1 $(vm_node batch-1)"

# Migrate batch-1 onto the pair's node, so that its drain has a VM to move. When batch-1 was
# placed there already, it is moved off first (the placement engine may choose either).
from=$(vm_node batch-1)
if [ "$from" = "$DB" ]; then
  from=$(other_node "$DB")
  out=$(kf migrate batch-1 --to "$from" --wait) || fail "kubectl ferry migrate batch-1 --to $from failed: $out"
  guest_on "$from" batch-1
fi
before=$(hb "$from" batch-1)
to=$DB
out=$(kf migrate batch-1 --to "$to" --wait) || fail "kubectl ferry migrate batch-1 --to $to failed: $out"
grep -q "^Succeeded: default/batch-1 moved $from -> $to" <<<"$out" || fail "unexpected outcome: $out"
grep -q "^phases: .*Running +.*Succeeded +" <<<"$out" || fail "no phase timeline: $out"
guest_on "$to" batch-1
[ "$(hb "$to" batch-1)" -gt "$before" ] || fail "batch-1's heartbeat did not continue from $before"
no_tcp_to_lab
pass "$(grep '^Succeeded' <<<"$out")"

# Plan, then drain the pair's node.
plan=$(kf plan-drain "$DB" -o json) || fail "plan-drain $DB: $plan"
blocked=$(jq -r '[.blockers[] | select(.running) | .vm] | sort | join(" ")' <<<"$plan")
[ "$blocked" = "default/cache-1 default/db-1" ] || fail "plan-drain blockers: '$blocked', want the db pair: $plan"
jq -e '[.blockers[].code] | all(. == "MayNotMoveAlone")' <<<"$plan" >/dev/null || fail "blocker codes: $plan"
declare -A planned=()
while read -r vm target; do planned[$vm]=$target; done < <(jq -r '.steps[] | select(.running and .action == "Migrate") | "\(.vm | sub("^default/"; "")) \(.target)"' <<<"$plan")
[ ${#planned[@]} -ge 1 ] || fail "plan-drain moves nothing off $DB: $plan"
rc=0
out=$(kf drain "$DB" --wait) || rc=$?
[ $rc = 2 ] || fail "drain exit status $rc, want 2 (the affinity pair stays): $out"
grep -q "drain of $DB stopped: 2 VM(s) may not leave it" <<<"$out" || fail "drain summary: $out"
grep -qE "^default/db-1 +.*(may not|alone|affinity)" <<<"$out" || fail "drain does not report db-1: $out"
for vm in "${!planned[@]}"; do
  guest_on "${planned[$vm]}" "$vm"
  grep -qE "^default/$vm +$DB +${planned[$vm]} +Succeeded" <<<"$out" || fail "summary row of $vm: $out"
done
guest_on "$DB" db-1
guest_on "$DB" cache-1
[ "$(vm_node web-1)" != "$(vm_node web-2)" ] || fail "anti-affinity broken after the drain"
wait_for 30 "NodeLockBlocked on ServerGroup db" is True jp sg db '{.status.conditions[?(@.type=="NodeLockBlocked")].status}'
pass "drain of $DB: ${!planned[*]} went where plan-drain said (${planned[*]}); web-1 $(vm_node web-1) / web-2 $(vm_node web-2) still apart; db-1 + cache-1 reported and still on $DB"

k uncordon "$DB" >/dev/null
wait_for 30 "the evacuation annotation removed" is "" k get node "$DB" -o jsonpath='{.metadata.annotations.ferry\.dev/evacuation}'
wait_for 30 "NodeLockBlocked cleared" bash -c "[ \"\$(kubectl get sg -n $NS db -o jsonpath='{.status.conditions[?(@.type==\"NodeLockBlocked\")].status}')\" != True ]"

# Prometheus scrapes both operator replicas and every handler, on loopback.
up=$(curl -sf "$FERRY_PROMETHEUS_URL/api/v1/query" --data-urlencode 'query=up' | jq -r '[.data.result[] | select(.value[1] == "1")] | length')
[ "$up" = 5 ] || fail "Prometheus: $up of 5 targets up"
leader=$(curl -sf "$FERRY_PROMETHEUS_URL/api/v1/query" --data-urlencode 'query=sum(ferry_operator_leader)' | jq -r '.data.result[0].value[1]')
[ "$leader" = 1 ] || fail "Prometheus: sum(ferry_operator_leader) = $leader, want exactly one leader"
pass "uncordoned; Prometheus scrapes 5 targets, exactly one leading operator replica"

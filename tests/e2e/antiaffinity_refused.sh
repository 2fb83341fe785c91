#!/usr/bin/env bash
# e2e_antiaffinity_refused: `kubectl ferry explain web-1 --to <web-2's node>` shows that node
# rejected for strict anti-affinity, and a migration there is refused (Failed, TargetRejected)
# with the same reason; web-1 keeps running where it was, web-2 is untouched.
TEST=e2e_antiaffinity_refused
. "$(dirname "$0")/lib.sh"

k apply -f "$ROOT/crds/samples/servergroup.yaml" -f "$ROOT/crds/samples/virtualmachines.yaml" >/dev/null
for vm in web-1 web-2; do wait_for 90 "VM $vm Running" is Running vm_phase "$vm"; done
src=$(vm_node web-1)
dst=$(vm_node web-2)
guest_on "$src" web-1
before=$(hb "$src" web-1)

out=$(kf explain web-1 --to "$dst") || fail "explain: $out"
grep -q "^default/web-1 on $src: refused to move to $dst" <<<"$out" || fail "explain headline: $out"
row=$(grep -E "^$dst +Rejected" <<<"$out") || fail "explain has no Rejected row for $dst: $out"
grep -q "anti-affinity" <<<"$row" || fail "explain's reason for $dst: $row"
json=$(kf explain web-1 --to "$dst" -o json)
[ "$(jq -r .decision <<<"$json")" = TargetRejected ] || fail "explain -o json decision: $json"
free=$(kf explain web-1 -o json | jq -r .target)
[ -n "$free" ] && [ "$free" != "$src" ] && [ "$free" != "$dst" ] || fail "explain without --to chose '$free'"
pass "explain: $dst rejected ($(sed -E 's/ +/ /g' <<<"$row")); without --to the engine picks $free"

rc=0
out=$(kf migrate web-1 --to "$dst" --name web-1-to-web-2s-node --wait) || rc=$?
[ $rc = 1 ] || fail "migrate to $dst: exit status $rc, want 1: $out"
grep -q "^Failed (TargetRejected): default/web-1 stays on $src: .*anti-affinity" <<<"$out" || fail "outcome: $out"
msg=$(jp vmm web-1-to-web-2s-node '{.status.message}')
grep -q "anti-affinity" <<<"$msg" || fail "VMM message: $msg"
[ -z "$(jp vmm web-1-to-web-2s-node '{.status.targetNode}')" ] || [ "$(domain_state "$dst" web-1)" = "" ] ||
  fail "a domain of web-1 appeared on $dst"
guest_on "$src" web-1
guest_on "$dst" web-2
[ "$(hb "$src" web-1)" -gt "$before" ] || fail "web-1's heartbeat did not go on"
k delete vmm -n "$NS" web-1-to-web-2s-node >/dev/null
pass "migration to $dst refused: $msg; web-1 runs on $src, web-2 on $dst"

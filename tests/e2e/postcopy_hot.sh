#!/usr/bin/env bash
# e2e_postcopy_hot: a guest dirtying memory far faster than its 32 MiB/s migration link, under
# a MigrationPolicy that allows post-copy: `kubectl ferry migrate --wait` (mode Auto) shows the
# switch on its live line, the VMM's Events record the convergence steps and the switch, and
# the guest runs on the target with its memory intact.
TEST=e2e_postcopy_hot
. "$(dirname "$0")/lib.sh"

k apply -f - >/dev/null <<EOF2
apiVersion: ferry.dev/v1alpha1
kind: MigrationPolicy
metadata: {name: e2e-hot}
spec:
  vmSelector: {matchLabels: {app: hot}}
  allowPostCopy: true
  allowAutoConverge: false
  bandwidth: 32Mi
  maxDowntime: 300ms
EOF2
ensure_vm hot-1 256 128 96 "" "app: hot"
src=$(vm_node hot-1)
guest_on "$src" hot-1
out=$(kf migrate hot-1 --mode Auto --wait) || fail "migrate hot-1: $out"
name=$(sed -n 's|^virtualmachinemigration.ferry.dev/\(.*\) created$|\1|p' <<<"$out")
dst=$(jp vmm "$name" '{.status.targetNode}')
grep -q "^Succeeded: default/hot-1 moved $src -> $dst .*switched to post-copy" <<<"$out" || fail "outcome: $out"
grep -q "Running  post-copy since" <<<"$out" || fail "the live line never showed post-copy: $out"
# Auto measures the dirty rate first: a guest this hot starts post-copy first (the StartDecision
# Event says so with the numbers); were the measurement off, the reactive path shows pre-copy
# progress before its switch.
start=$(vmm_events "$name" StartDecision)
grep -q "postcopy-first" <<<"$start" ||
  grep -q "Running  [0-9]*%  remaining .* dirty .* vs transfer .*ETA" <<<"$out" ||
  fail "neither a post-copy-first start (StartDecision: '$start') nor a pre-copy progress line: $out"
[ "$(jp vmm "$name" '{.status.effectiveOptions.policy}')" = e2e-hot ] || fail "policy not applied"
switch=$(vmm_events "$name" SwitchToPostCopy)
[ -n "$switch" ] || fail "no SwitchToPostCopy Event on $name"
[ -n "$(vmm_events "$name" Succeeded)" ] || fail "no Succeeded Event"
guest_on "$dst" hot-1
pass "hot-1 $src -> $dst through post-copy: Event StartDecision: ${start:-none}; SwitchToPostCopy: $switch"
delete_vm hot-1
k delete migrationpolicy e2e-hot >/dev/null

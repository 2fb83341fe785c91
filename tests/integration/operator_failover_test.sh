#!/usr/bin/env bash
# Two ferry-operator processes against the real API server: one leads (its /readyz and
# /metrics say so), the other stands by; the leader is killed with SIGKILL (no lease release)
# and the standby must take over within the lease duration (15 s) plus one retry period (2 s).
#   operator_failover_test.sh PATH/TO/ferry-operator      (KUBECONFIG from hack/kube/with-env.sh)
set -euo pipefail
OP=${1:?usage: operator_failover_test.sh PATH/TO/ferry-operator}
W=$(mktemp -d /tmp/ferry-op-failover.XXXXXX)
NS=ferry-failover-$RANDOM
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$W"/*.log; do echo "--- $f"; cat "$f"; done; echo "FAIL (again, after the logs): $*"; exit 1; }
wait_for() {  # wait_for SECONDS CMD...
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@"; do [ "$(date +%s)" -lt "$deadline" ] || return 1; sleep 0.2; done
}
port_of() { sed -n 's/.*"Serving \/healthz \/readyz \/metrics".* address="127.0.0.1:\([0-9]*\)".*/\1/p' "$W/$1.log"; }

kubectl create namespace "$NS" >/dev/null
start() {
  "$OP" --kubeconfig "$KUBECONFIG" --lease-namespace "$NS" --namespace "$NS" --id "$1" \
    --ops-address 127.0.0.1:0 >"$W/$1.log" 2>&1 &
  pids+=($!)
}
start op-a
wait_for 30 grep -q "Acquired the lease" "$W/op-a.log" || fail "op-a never acquired the lease"
start op-b
wait_for 30 grep -q '"New leader".* leader="op-a"' "$W/op-b.log" || fail "op-b did not observe op-a as leader"
grep -q "Acquired the lease" "$W/op-b.log" && fail "op-b acquired the lease while op-a held it"

pa=$(port_of op-a); pb=$(port_of op-b)
[ -n "$pa" ] && [ -n "$pb" ] || fail "no ops port in the logs"
wait_for 30 curl -fsS "http://127.0.0.1:$pa/readyz" -o /dev/null || fail "leader op-a never became ready"
curl -fsS "http://127.0.0.1:$pa/healthz" | grep '^ok$' >/dev/null || fail "op-a /healthz"
curl -fsS "http://127.0.0.1:$pa/metrics" | grep '^ferry_operator_leader 1' >/dev/null || fail "op-a metrics do not say leader"
curl -fsS "http://127.0.0.1:$pb/metrics" | grep '^ferry_operator_leader 0' >/dev/null || fail "op-b metrics do not say standby"
curl -fsS "http://127.0.0.1:$pb/readyz" -o /dev/null || fail "standby op-b not ready"
holder=$(kubectl -n "$NS" get lease ferry-operator -o jsonpath='{.spec.holderIdentity}')
[ "$holder" = op-a ] || fail "lease holder is '$holder', want op-a"

t0=$(date +%s.%N)
kill -9 "${pids[0]}"
wait_for 30 grep -q "Acquired the lease" "$W/op-b.log" || fail "op-b did not take over within 30 s"
t1=$(date +%s.%N)
took=$(echo "$t1 - $t0" | bc)
holder=$(kubectl -n "$NS" get lease ferry-operator -o jsonpath='{.spec.holderIdentity}')
[ "$holder" = op-b ] || fail "lease holder is '$holder' after failover, want op-b"
wait_for 10 sh -c "curl -fsS http://127.0.0.1:$pb/metrics | grep '^ferry_operator_leader 1'" >/dev/null || fail "op-b metrics do not say leader"
echo "failover: op-b took over ${took} s after op-a was killed (lease 15 s, retry 2 s)"
awk -v t="$took" 'BEGIN { exit !(t <= 18.0) }' || fail "takeover took ${took} s > 18 s"
# A clean SIGTERM releases the lease at once.
kill -TERM "${pids[1]}"
wait_for 10 sh -c "[ -z \"\$(kubectl -n $NS get lease ferry-operator -o jsonpath='{.spec.holderIdentity}')\" ]" \
  || fail "op-b did not release the lease on SIGTERM"
kubectl delete namespace "$NS" --wait=false >/dev/null
echo "PASS"

#!/usr/bin/env bash
# rbac_can_i_test.sh ROOT (KUBECONFIG: a test API server with RBAC authorization): binds
# deploy/'s roles to their ServiceAccounts and asks the API server's authorizer, as each
# account (`kubectl auth can-i --as`), for what each side needs (allowed) and for what it must
# not have (denied): Secrets and anything else it does not read, and what the operator-handler
# protocol (docs/adr/0004) gives to the other side.
set -euo pipefail
ROOT=$1
cd "$ROOT"
kubectl apply -f deploy/base/namespace.yaml -f deploy/base/operator-rbac.yaml -f deploy/base/handler-rbac.yaml >/dev/null
OP=system:serviceaccount:ferry-system:ferry-operator
HA=system:serviceaccount:ferry-system:ferry-handler
fail=0 checked=0
# expect yes|no AS VERB RESOURCE[/NAME][#SUBRESOURCE] [NAMESPACE (default tenant-a; - = all)]
expect() {
  local want=$1 as=$2 verb=$3 res=$4 ns=${5:-tenant-a} got args=()
  [ "$ns" = - ] && args=(--all-namespaces) || args=(-n "$ns")
  if [[ "$res" == *"#"* ]]; then args+=(--subresource="${res#*#}"); res=${res%%#*}; fi
  got=$(kubectl auth can-i --as="$as" "$verb" "$res" "${args[@]}" 2>/dev/null || true)
  checked=$((checked + 1))
  if [ "$got" != "$want" ]; then
    echo "FAIL: ${as##*:} $verb $res ($ns): got '$got', want '$want'"
    fail=$((fail + 1))
  fi
}
F=.ferry.dev
# ---- the operator: what its controllers read and write
for v in get list watch update patch; do expect yes $OP $v virtualmachines$F; done
expect yes $OP update virtualmachines$F#status
for v in get list watch create update; do expect yes $OP $v virtualmachinemigrations$F; done
expect yes $OP update virtualmachinemigrations$F#status
for v in get list watch; do expect yes $OP $v servergroups$F; expect yes $OP $v migrationpolicies$F -; expect yes $OP $v hypervisors$F -; expect yes $OP $v nodes -; expect yes $OP $v namespaces -; done
expect yes $OP update servergroups$F#status
expect yes $OP patch nodes -
expect yes $OP create events
expect yes $OP patch events
expect yes $OP create leases.coordination.k8s.io ferry-system
expect yes $OP get leases.coordination.k8s.io/ferry-operator ferry-system
expect yes $OP update leases.coordination.k8s.io/ferry-operator ferry-system
# ... and nothing else: no Secrets, ConfigMaps, Pods; nothing the handlers own
for v in get list watch; do expect no $OP $v secrets; expect no $OP $v secrets -; expect no $OP $v configmaps; expect no $OP $v pods; done
expect no $OP create hypervisors$F -
expect no $OP update hypervisors$F -
expect no $OP update hypervisors$F#status -
expect no $OP patch hypervisors$F#status -
expect no $OP patch virtualmachinemigrations$F#status
expect no $OP patch virtualmachines$F#status
expect no $OP delete virtualmachines$F
expect no $OP create virtualmachines$F
expect no $OP delete virtualmachinemigrations$F
expect no $OP update servergroups$F
expect no $OP update migrationpolicies$F -
expect no $OP update nodes -
expect no $OP update nodes#status -
expect no $OP delete nodes -
expect no $OP update leases.coordination.k8s.io/other ferry-system
expect no $OP update leases.coordination.k8s.io/ferry-operator kube-system
expect no $OP create leases.coordination.k8s.io kube-system
expect no $OP delete events
expect no $OP create pods/eviction
# ---- the handler: its node's VMs and migrations (status), its Hypervisor, Events
for v in get list watch; do expect yes $HA $v virtualmachines$F; expect yes $HA $v virtualmachinemigrations$F; expect yes $HA $v hypervisors$F -; done
expect yes $HA patch virtualmachines$F
expect yes $HA update virtualmachines$F#status
expect yes $HA update virtualmachinemigrations$F#status
expect yes $HA patch virtualmachinemigrations$F#status
expect yes $HA create hypervisors$F -
expect yes $HA update hypervisors$F#status -
expect yes $HA create events
expect yes $HA patch events
# ... and nothing the operator owns: VM and migration objects (labels, node, finalizer
# ferry.dev/migration, creation), placement, Nodes, the Lease; no Secrets or other reads
for v in get list watch; do expect no $HA $v secrets; expect no $HA $v secrets -; expect no $HA $v configmaps; expect no $HA $v pods; expect no $HA $v nodes -; expect no $HA $v leases.coordination.k8s.io ferry-system; done
expect no $HA update virtualmachines$F
expect no $HA create virtualmachines$F
expect no $HA delete virtualmachines$F
expect no $HA update virtualmachinemigrations$F
expect no $HA patch virtualmachinemigrations$F
expect no $HA create virtualmachinemigrations$F
expect no $HA delete virtualmachinemigrations$F
expect no $HA update servergroups$F#status
expect no $HA list servergroups$F
expect no $HA list migrationpolicies$F -
expect no $HA list namespaces -
expect no $HA patch nodes -
expect no $HA update nodes#status -
expect no $HA create leases.coordination.k8s.io ferry-system
expect no $HA update leases.coordination.k8s.io/ferry-operator ferry-system
expect no $HA update hypervisors$F -
expect no $HA patch hypervisors$F -
expect no $HA delete hypervisors$F -
expect no $HA delete events
echo "rbac_can_i: $checked checks, $fail failed"
[ "$fail" -eq 0 ]

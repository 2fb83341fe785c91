#!/usr/bin/env bash
# hack/cluster/register-node.sh LETTER...: the Node object a kubelet would create for each lab
# node (A -> node-a), Ready, with its lab address, on the API server of $KUBECONFIG. Used by
# hack/cluster/cluster.sh and tests/deploy/cluster_proof.sh: there is no kubelet in either.
set -euo pipefail
LAB_SH=$(cd "$(dirname "${BASH_SOURCE[0]}")/../lab" && pwd)/lab.sh
k() { kubectl --request-timeout=20s "$@"; }
[ $# -ge 1 ] || { echo "usage: $0 LETTER..." >&2; exit 2; }
for l in "$@"; do
  node="node-$(tr 'A-Z' 'a-z' <<<"$l")"
  ip=$("$LAB_SH" peer-uri "$l" | sed -E 's|.*://([^/]*)/.*|\1|')
  now=$(date -u +%FT%TZ)
  k apply -f - >/dev/null <<EOF2
apiVersion: v1
kind: Node
metadata:
  name: $node
  labels:
    kubernetes.io/hostname: $node
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    ferry.dev/lab-node: "$l"
EOF2
  k patch node "$node" --subresource=status --type merge -p "{\"status\":{
    \"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",
      \"message\":\"simulated node of Ferry's local cluster\",\"lastHeartbeatTime\":\"$now\",
      \"lastTransitionTime\":\"$now\"}],
    \"addresses\":[{\"type\":\"InternalIP\",\"address\":\"$ip\"},{\"type\":\"Hostname\",\"address\":\"$node\"}],
    \"nodeInfo\":{\"architecture\":\"amd64\",\"operatingSystem\":\"linux\",\"kernelVersion\":\"$(uname -r)\",
      \"osImage\":\"Ferry lab node $l\",\"containerRuntimeVersion\":\"\",\"kubeletVersion\":\"\",
      \"kubeProxyVersion\":\"\",\"machineID\":\"\",\"systemUUID\":\"\",\"bootID\":\"\"}}}" >/dev/null
  # The API server taints a new Node not-ready (admission plugin TaintNodesByCondition); the
  # node lifecycle controller of kube-controller-manager would lift it once the node is Ready.
  # There is no controller-manager here: lift it as it would.
  k patch node "$node" --type merge -p '{"spec":{"taints":null}}' >/dev/null
done

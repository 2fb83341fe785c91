#!/usr/bin/env bash
# Adds objects and watch streams exactly as a real kube-apiserver serves them (server-set
# metadata, managedFields, Status errors) to the fuzz corpora: starts a throw-away API server
# (hack/kube/up.sh, loopback), installs the CRDs, the samples and hack/fuzz/capture/, lists
# every kind Ferry reads and records watch streams with changes in flight and a 410 Expired,
# then stops the server. When the QEMU lab is up (hack/lab/lab.sh up), also libvirt's own XML
# from node A's daemon (capabilities, domain capabilities, the guest's definition) and QEMU's
# version banner. Files are named by SHA-1, as hack/fuzz/seeds.py names them.
#   hack/fuzz/capture.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DIR=$(mktemp -d /tmp/ferry-fuzz-capture.XXXXXX)
OUT=$DIR/out
mkdir -p "$OUT"
trap 'hack/kube/down.sh "$DIR/kube" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
hack/kube/build.sh >/dev/null
hack/kube/up.sh "$DIR/kube" >/dev/null
. "$DIR/kube/env"
export KUBECONFIG

kubectl apply -f crds/ >/dev/null
kubectl wait --for condition=established --timeout=60s crd --all >/dev/null
kubectl apply -f crds/samples/ >/dev/null
kubectl apply -f hack/fuzz/capture/objects.yaml >/dev/null
kubectl create -f hack/fuzz/capture/hypervisor.json >/dev/null
kubectl patch hypervisor node-a --subresource=status --type=merge \
  -p "$(jq -c '{status: .status}' hack/fuzz/capture/hypervisor.json)" >/dev/null
kubectl patch node node-a --subresource=status --type=merge -p \
  '{"status":{"capacity":{"cpu":"2","memory":"24Gi"},"allocatable":{"cpu":"2","memory":"22Gi"},"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"ok","lastHeartbeatTime":"2026-11-29T10:00:00Z","lastTransitionTime":"2026-11-29T09:00:00Z"}],"nodeInfo":{"architecture":"amd64","operatingSystem":"linux","kernelVersion":"6.1.0","osImage":"Debian GNU/Linux 12","containerRuntimeVersion":"none","kubeletVersion":"v1.31.14","kubeProxyVersion":"v1.31.14","machineID":"m","systemUUID":"s","bootID":"b"},"addresses":[{"type":"InternalIP","address":"10.0.0.1"}]}}' >/dev/null

n=0
for kind in virtualmachines virtualmachinemigrations servergroups migrationpolicies hypervisors nodes leases events; do
  kubectl get "$kind" -A -o json | jq -c '.items[]' > "$OUT/$kind.jsonl"
  n=$((n + $(wc -l < "$OUT/$kind.jsonl")))
done

# Watch streams: changes while watching (ADDED then MODIFIED/DELETED frames as sent).
api=/apis/ferry.dev/v1alpha1/namespaces/default
rv=$(kubectl get --raw "$api/virtualmachines" | jq -r .metadata.resourceVersion)
kubectl get --raw "$api/virtualmachines?watch=1&timeoutSeconds=4&allowWatchBookmarks=true" > "$OUT/watch-vm" &
wpid=$!
sleep 1
for vm in $(kubectl get vm -o name | head -3); do kubectl label "$vm" fuzz=changed >/dev/null; done
kubectl delete -f crds/samples/servergroup.yaml >/dev/null
kubectl get --raw "$api/virtualmachines?watch=1&timeoutSeconds=1&resourceVersion=$rv" > "$OUT/watch-vm-from-rv" || true
kubectl get --raw "/api/v1/namespaces/default/events?watch=1&timeoutSeconds=1" > "$OUT/watch-events" || true
kubectl get --raw "$api/virtualmachines?watch=1&timeoutSeconds=1&resourceVersion=1" > "$OUT/watch-expired" || true
wait "$wpid" || true

LAB=hack/lab/lab.sh
if U=$("$LAB" uri A 2>/dev/null) && timeout 10 virsh -q -c "$U" version >/dev/null 2>&1; then
  timeout 20 virsh -q -c "$U" capabilities > "$OUT/libvirt-caps.xml"
  timeout 20 virsh -q -c "$U" domcapabilities --virttype qemu > "$OUT/libvirt-domcaps.xml"
  for d in $(timeout 10 virsh -q -c "$U" list --all --name); do
    timeout 10 virsh -q -c "$U" dumpxml "$d" > "$OUT/libvirt-dom-$d.xml"
    timeout 10 virsh -q -c "$U" dumpxml --migratable "$d" > "$OUT/libvirt-dom-$d-migratable.xml"
  done
  for q in /tmp/ferry-lab/qemu-bpo/usr/bin/qemu-system-x86_64 /usr/bin/qemu-system-x86_64; do
    [ -x "$q" ] && "$q" --version > "$OUT/libvirt-qemu-version-$(basename "$(dirname "$(dirname "$(dirname "$q")")")")" || true
  done
else
  echo "capture.sh: the lab is not up; no libvirt XML captured"
fi

python3 - "$OUT" "$ROOT/tests/fuzz/corpus" <<'PY'
import hashlib, os, sys
out, corpus = sys.argv[1], sys.argv[2]
added = {}
def put(target, data):
    d = os.path.join(corpus, target); os.makedirs(d, exist_ok=True)
    p = os.path.join(d, hashlib.sha1(data).hexdigest())
    if not os.path.exists(p):
        open(p, "wb").write(data); added[target] = added.get(target, 0) + 1
for f in sorted(os.listdir(out)):
    data = open(os.path.join(out, f), "rb").read()
    if f.startswith("libvirt-"):
        if data.strip():
            put("domain_xml_fuzz", data)
    elif f.endswith(".jsonl"):
        for line in data.splitlines():
            if line.strip():
                put("api_codec_fuzz", line); put("packed_object_fuzz", line)
    elif data.strip():
        put("watch_decoder_fuzz", b"\x00\x07" + data)
        put("watch_decoder_fuzz", b"\x9c\x31" + data)
for t in sorted(added): print(f"capture.sh: {t}: {added[t]} new inputs")
PY
echo "capture.sh: $n objects captured from $(kubectl version -o json 2>/dev/null | jq -r .serverVersion.gitVersion)"

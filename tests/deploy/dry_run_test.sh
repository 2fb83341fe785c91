#!/usr/bin/env bash
# dry_run_test.sh RENDERER ROOT WORKDIR (with KUBECONFIG of a test API server, Ferry's CRDs
# installed): the API server accepts deploy/ (`kubectl apply -k` as a user runs it) and the
# chart rendered three ways, in server-side dry runs; kubectl validates every field against
# the server's OpenAPI first (unknown fields and wrong types are errors). The namespaces and
# the test-only Prometheus Operator CRDs (testdata/monitoring-crds.yaml) are created for real,
# as an install needs them to exist.
set -euo pipefail
R=$1 ROOT=$2 WORK=$3
mkdir -p "$WORK"
cd "$ROOT"
kubectl apply -f tests/deploy/testdata/monitoring-crds.yaml
kubectl wait --for condition=established --timeout=60s crd/servicemonitors.monitoring.coreos.com crd/prometheusrules.monitoring.coreos.com
kubectl apply -f deploy/base/namespace.yaml
kubectl create namespace virt --dry-run=client -o yaml | kubectl apply -f -
# A CRD's schema reaches kubectl's validation through the published OpenAPI a moment later.
for i in $(seq 1 30); do
  kubectl explain servicemonitor.spec.jobLabel >/dev/null 2>&1 && kubectl explain prometheusrule.spec.groups >/dev/null 2>&1 && break
  sleep 1
done

echo "== kubectl apply -k deploy/"
kubectl apply --dry-run=server --validate=strict -k deploy/ | tee "$WORK/deploy.out"
"$R" --include-crds charts/ferry >"$WORK/chart-defaults.yaml"
"$R" --name prod --namespace virt -f tests/deploy/testdata/values-full.yaml charts/ferry >"$WORK/chart-full.yaml"
"$R" -f tests/deploy/testdata/values-minimal.yaml charts/ferry >"$WORK/chart-minimal.yaml"
for f in chart-defaults chart-full chart-minimal; do
  echo "== chart: $f"
  kubectl apply --dry-run=server --validate=strict -f "$WORK/$f.yaml" | tee "$WORK/$f.out"
done
# Every object was accepted: one line per object, none missing.
python3 - "$WORK" <<'PY'
import sys, yaml
work = sys.argv[1]
for f in ("chart-defaults", "chart-full", "chart-minimal"):
    n = sum(1 for d in yaml.safe_load_all(open(f"{work}/{f}.yaml")) if d)
    lines = [l for l in open(f"{work}/{f}.out") if "(server dry run)" in l]
    assert len(lines) == n, f"{f}: {n} objects, {len(lines)} accepted"
lines = [l for l in open(f"{work}/deploy.out") if "(server dry run)" in l]
assert len(lines) == 22, f"deploy/: {len(lines)} objects accepted, want 22"
print("dry run: every object accepted")
PY

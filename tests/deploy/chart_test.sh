#!/usr/bin/env bash
# chart_test.sh RENDERER ROOT WORKDIR: charts/ferry rendered with its defaults equals deploy/
# (kubectl kustomize) object for object (compare_chart.py); rendered with every value set and
# with monitoring off, it renders what those values say; the rules it renders with other
# thresholds still pass promtool.
set -euo pipefail
R=$1 ROOT=$2 WORK=$3
mkdir -p "$WORK"
cd "$ROOT"
kubectl kustomize deploy >"$WORK/kustomize.yaml"
"$R" --include-crds charts/ferry >"$WORK/chart-defaults.yaml"
python3 tests/deploy/compare_chart.py "$WORK/kustomize.yaml" "$WORK/chart-defaults.yaml"

"$R" --name prod --namespace virt -f tests/deploy/testdata/values-full.yaml charts/ferry >"$WORK/chart-full.yaml"
"$R" -f tests/deploy/testdata/values-minimal.yaml charts/ferry >"$WORK/chart-minimal.yaml"
python3 - "$WORK" <<'PY'
import sys, yaml
work = sys.argv[1]
def load(name):
    return [d for d in yaml.safe_load_all(open(f"{work}/{name}")) if d]
def one(docs, kind, name=None):
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]
full = load("chart-full.yaml")
names = sorted(f'{d["kind"]}/{d["metadata"]["name"]}' for d in full)
assert all("prod-ferry" in n or n.startswith("ConfigMap/prod-ferry") for n in names), names
dep = one(full, "Deployment")
c = dep["spec"]["template"]["spec"]["containers"][0]
assert c["image"] == "registry.example.org/ferry/ferry-operator:0.1.0-test", c["image"]
assert dep["spec"]["replicas"] == 3
assert "--max-migrations=10" in c["args"] and "--rebalance=true" in c["args"], c["args"]
assert "--lease-name=prod-ferry-operator" in c["args"], c["args"]
assert c["args"][-1] == "--context=in-cluster-test", c["args"]
assert dep["metadata"]["namespace"] == "virt"
role = one(full, "Role")
assert role["rules"][1]["resourceNames"] == ["prod-ferry-operator"], role["rules"]
ds = one(full, "DaemonSet")
h = ds["spec"]["template"]["spec"]["containers"][0]
assert h["image"] == "registry.example.org/ferry/ferry-handler-custom:0.1.0-test", h["image"]
assert "--migration-uri=qemu+tls://$(NODE_IP)/system" in h["args"], h["args"]
assert {"name": "images", "hostPath": {"path": "/var/lib/ferry/images"}} in ds["spec"]["template"]["spec"]["volumes"]
# values maps merge with the defaults, as in Helm
assert ds["spec"]["template"]["spec"]["nodeSelector"] == {"ferry.dev/hypervisor": "true", "kubernetes.io/os": "linux"}
rule = one(full, "PrometheusRule")
exprs = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
assert 'le="0.5"' in exprs["FerryMigrationDowntimeAboveMaximum"]["expr"]
assert exprs["FerryPostCopyTooLong"]["for"] == "10m"
assert exprs["FerryPostCopyTooLong"]["labels"] == {"severity": "critical", "team": "virt"}
assert "offset 1h" in exprs["FerryMigrationsStuckInPhase"]["expr"]
assert rule["metadata"]["labels"]["release"] == "kube-prometheus"
yaml.safe_dump(rule["spec"], open(f"{work}/full-rules.yaml", "w"), sort_keys=False)
mini = load("chart-minimal.yaml")
kinds = sorted({d["kind"] for d in mini})
assert kinds == ["ClusterRole", "ClusterRoleBinding", "DaemonSet", "Deployment", "Service", "ServiceAccount"], kinds
args = one(mini, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
assert args[0] == "--leader-elect=false" and not any(a.startswith("--lease") for a in args), args
print(f"full values: {len(full)} objects; minimal: {len(mini)} objects")
PY
promtool check rules "$WORK/full-rules.yaml"
echo "chart_test: OK"

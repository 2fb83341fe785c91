#!/usr/bin/env bash
# flags_test.sh RENDERER ROOT OPERATOR HANDLER WORKDIR: every flag the manifests pass (deploy/,
# and the chart with every value set) is one the binaries list in --help, so a pod never
# crash-loops on an unknown flag.
set -euo pipefail
R=$1 ROOT=$2 OPERATOR=$3 HANDLER=$4 WORK=$5
mkdir -p "$WORK"
cd "$ROOT"
"$OPERATOR" --help >"$WORK/operator.help"
"$HANDLER" agent --help >"$WORK/handler.help"
kubectl kustomize deploy >"$WORK/deploy.yaml"
"$R" --name prod --namespace virt -f tests/deploy/testdata/values-full.yaml charts/ferry >"$WORK/chart-full.yaml"
python3 - "$WORK" <<'PY'
import re, sys, yaml
work = sys.argv[1]
def flags(help_file):
    return set(re.findall(r"(--[a-z0-9][a-z0-9-]*)", open(f"{work}/{help_file}").read()))
known = {"ferry-operator": flags("operator.help"), "ferry-handler": flags("handler.help")}
checked = bad = 0
for f in ("deploy.yaml", "chart-full.yaml"):
    for d in yaml.safe_load_all(open(f"{work}/{f}")):
        if not d or d["kind"] not in ("Deployment", "DaemonSet"):
            continue
        binary = "ferry-operator" if d["kind"] == "Deployment" else "ferry-handler"
        args = d["spec"]["template"]["spec"]["containers"][0]["args"]
        if binary == "ferry-handler":
            assert args[0] == "agent", args
            args = args[1:]
        for a in args:
            name = a.split("=", 1)[0]
            checked += 1
            if name not in known[binary]:
                print(f"{f}: {binary} has no flag {name} (--help lists {sorted(known[binary])})")
                bad += 1
print(f"{checked} flags checked, {bad} unknown")
sys.exit(1 if bad else 0)
PY

#!/usr/bin/env python3
"""compare_chart.py KUSTOMIZE_OUT CHART_OUT: the Helm chart rendered with its defaults holds
the same objects as deploy/ (kustomize), field for field, once Helm's own labels
(helm.sh/chart, app.kubernetes.io/managed-by, instance, version) are set aside. The Namespace
is deploy/'s alone (Helm installs into one); CRDs are compared with --include-crds output."""
import json
import sys

import yaml

HELM_LABELS = {"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance",
               "app.kubernetes.io/version"}


def strip_labels(m):
    if isinstance(m, dict):
        for k in HELM_LABELS:
            m.pop(k, None)


def normalize(o):
    strip_labels(o.get("metadata", {}).get("labels"))
    spec = o.get("spec", {})
    if isinstance(spec, dict):
        sel = spec.get("selector")
        if isinstance(sel, dict):
            strip_labels(sel.get("matchLabels"))
            if o["kind"] == "Service":
                strip_labels(sel)
        strip_labels(spec.get("template", {}).get("metadata", {}).get("labels"))
    return o


def load(path):
    out = {}
    with open(path) as f:
        for doc in yaml.safe_load_all(f):
            if not doc:
                continue
            key = (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])
            if key in out:
                sys.exit(f"{path}: {key} twice")
            out[key] = normalize(doc)
    return out


def main():
    kust, chart = load(sys.argv[1]), load(sys.argv[2])
    kust = {k: v for k, v in kust.items() if k[0] != "Namespace"}
    failures = 0
    for key in sorted(set(kust) | set(chart)):
        if key not in chart:
            print(f"only in deploy/: {key}")
            failures += 1
        elif key not in kust:
            print(f"only in the chart: {key}")
            failures += 1
        elif kust[key] != chart[key]:
            print(f"differs: {key}")
            a = json.dumps(kust[key], indent=1, sort_keys=True).splitlines()
            b = json.dumps(chart[key], indent=1, sort_keys=True).splitlines()
            import difflib
            for line in list(difflib.unified_diff(a, b, "deploy", "chart", lineterm=""))[:60]:
                print("   ", line if len(line) < 200 else line[:200] + "...")
            failures += 1
    print(f"{len(kust)} objects in deploy/, {len(chart)} in the chart; {failures} difference(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

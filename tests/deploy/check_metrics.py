#!/usr/bin/env python3
"""check_metrics.py ROOT: every metric the dashboard and the alert rules query is one the
binaries register (the family names in the C++ sources, histograms with _bucket/_sum/_count),
and the dashboard is well formed (schema version, unique panel ids, panels inside the 24-column
grid and not overlapping, a Prometheus datasource and an expression on every query)."""
import json
import re
import sys
from pathlib import Path

import yaml

root = Path(sys.argv[1])
errors = []

# ---- what the code registers
families = {}  # name -> kind
name_re = re.compile(r'"(ferry_[a-z0-9_]+)"')
for src in list((root / "lib").rglob("*.cc")) + list((root / "operator").rglob("*.cc")) + \
        list((root / "handler").rglob("*.cc")):
    text = src.read_text()
    for m in re.finditer(r'Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\("(ferry_[a-z0-9_]+)"\)', text):
        families[m.group(2)] = m.group(1)
    for m in re.finditer(r'G\(registry,\s*"(ferry_[a-z0-9_]+)"', text):  # migration_metrics.cc helper
        families[m.group(1)] = "Gauge"
    # The Manager's families: <metrics_prefix>_leader, _cached_objects, _cache_bytes,
    # _informer_handler_errors, with the prefix each binary sets.
    for m in re.finditer(r'metrics_prefix = "(ferry_[a-z0-9_]+)"', text):
        for suffix in ("leader", "cached_objects", "cache_bytes", "informer_handler_errors"):
            families[f"{m.group(1)}_{suffix}"] = "Gauge"
if len(families) < 20:
    errors.append(f"only {len(families)} metric families found in the sources; the scan is broken")

def known(metric):
    if metric in families:
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        if metric.endswith(suffix) and families.get(metric[: -len(suffix)]) == "Histogram":
            return True
    return False

metric_re = re.compile(r'\b(ferry_[a-z0-9_]+)\b')
used = {}

def check_expr(where, expr):
    if not expr or not expr.strip():
        errors.append(f"{where}: empty expression")
        return
    for metric in metric_re.findall(expr):
        used.setdefault(metric, []).append(where)
        if not known(metric):
            errors.append(f"{where}: {metric} is not a metric the code registers")

# ---- alert rules
rule = yaml.safe_load((root / "deploy/monitoring/prometheusrule.yaml").read_text())
for g in rule["spec"]["groups"]:
    for r in g["rules"]:
        check_expr(f"rule {r.get('alert') or r.get('record')}", r["expr"])

# ---- dashboard
dash = json.loads((root / "deploy/monitoring/ferry-dashboard.json").read_text())
if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 39:
    errors.append(f"dashboard schemaVersion {dash.get('schemaVersion')}: want 39 or newer")
if not dash.get("uid") or not dash.get("title"):
    errors.append("dashboard needs a uid and a title")
ids, cells = set(), {}
for p in dash["panels"]:
    where = f"panel {p.get('id')} '{p.get('title')}'"
    if p.get("id") in ids:
        errors.append(f"{where}: duplicate id")
    ids.add(p.get("id"))
    g = p["gridPos"]
    if g["x"] < 0 or g["w"] <= 0 or g["x"] + g["w"] > 24 or g["h"] <= 0:
        errors.append(f"{where}: gridPos {g} outside the 24-column grid")
    for x in range(g["x"], g["x"] + g["w"]):
        for y in range(g["y"], g["y"] + g["h"]):
            if (x, y) in cells:
                errors.append(f"{where}: overlaps panel {cells[(x, y)]}")
                break
            cells[(x, y)] = p.get("id")
    if p["type"] == "row":
        continue
    if not p.get("targets"):
        errors.append(f"{where}: no queries")
    for t in p.get("targets", []):
        if t.get("datasource", p.get("datasource", {})).get("type") != "prometheus":
            errors.append(f"{where}: query {t.get('refId')} has no Prometheus datasource")
        check_expr(f"{where} query {t.get('refId')}", t.get("expr", ""))

unused = sorted(f for f in families if f not in used and not any(u.startswith(f + "_") for u in used))
print(f"{len(families)} metric families in the code; {len(used)} used by the dashboard and rules")
print("not shown anywhere (fine, listed for review): " + ", ".join(unused))
for e in errors:
    print("ERROR:", e)
sys.exit(1 if errors else 0)

#!/usr/bin/env python3
"""promql_report.py PROMETHEUS_URL ROOT T_START: evaluates every PromQL expression of the
dashboard (Grafana's $__rate_interval as 30s, $__range as the run so far) and of the alert
rules against a Prometheus scraping the local cluster, over the run [T_START, now] (a range
query, step 2 s: a gauge such as a running migration's progress exists only while it runs),
and prints for each how many series returned data and the largest value seen. For each rule
it also evaluates every metric selector the rule reads, and the full expression (the alert's
condition, before its `for:`) at the end and over the run. Exits 1 if a query fails; queries
without data are listed at the end (a short run does not take every path)."""
import json
import math
import re
import sys
import time
import urllib.parse
import urllib.request

import yaml

prom, root, t_start = sys.argv[1], sys.argv[2], int(sys.argv[3])
now = time.time()
rng = f"{int(now - t_start) + 30}s"
failures = 0


def get(path, params):
    url = f"{prom}{path}?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=30) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(body)
    return body["data"]["result"]


def over_run(expr):
    """(series with data over the run, their largest value)"""
    res = get("/api/v1/query_range", {"query": expr, "start": t_start, "end": f"{now:.3f}", "step": 2})
    vals = [float(v[1]) for s in res for v in s["values"] if not math.isnan(float(v[1]))]
    return len(res), (max(vals) if vals else None)


def at_end(expr):
    return get("/api/v1/query", {"query": expr, "time": f"{now:.3f}"})


def show(kind, name, expr):
    """Prints one line; returns the number of series over the run (None on error)."""
    global failures
    e = expr.replace("$__rate_interval", "30s").replace("$__range", rng)
    try:
        n, top = over_run(e)
    except Exception as ex:  # noqa: BLE001 - report and go on
        print(f"ERROR {kind} {name}: {ex}")
        failures += 1
        return None
    print(f"{n:4} series  max {'-' if top is None else f'{top:.4g}':>10}  {kind:9} {name}")
    return n


dash = json.load(open(f"{root}/deploy/monitoring/ferry-dashboard.json"))
print(f"== dashboard queries over the run ({int(now - t_start)} s): series with data, largest value")
empty_dash = []
for p in dash["panels"]:
    for t in p.get("targets", []):
        if show("dashboard", f"{p['title']} [{t['refId']}]: {t['expr']}", t["expr"]) == 0:
            empty_dash.append(f"{p['title']} [{t['refId']}]")

rule = yaml.safe_load(open(f"{root}/deploy/monitoring/prometheusrule.yaml"))
print("== alert rules: the condition over the run and at the end, and every metric selector it reads")
metrics_without_data = set()
conditions = []
for g in rule["spec"]["groups"]:
    for r in g["rules"]:
        expr = " ".join(r["expr"].split())
        n = show("condition", r["alert"], expr)
        if n is not None:
            end = at_end(expr)
            conditions.append(f"{r['alert']}: {'true' if n else 'false'} during the run, "
                              f"{'true for ' + ', '.join(sorted(json.dumps(s['metric'], sort_keys=True) for s in end)) if end else 'false'} at the end")
        for m in sorted(set(re.findall(r"\b((?:ferry_[a-z0-9_]+)|up)\b(\{[^}]*\})?", expr))):
            sel = m[0] + m[1]
            if show("  reads", sel, sel) == 0:
                metrics_without_data.add(sel)
print("== alert conditions (before `for:`)")
for c in conditions:
    print("  " + c)
print("== dashboard queries without data: " + (", ".join(empty_dash) or "none"))
print("== rule selectors without data: " + (", ".join(sorted(metrics_without_data)) or "none"))
sys.exit(1 if failures else 0)

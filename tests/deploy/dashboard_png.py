#!/usr/bin/env python3
"""dashboard_png.py PROMETHEUS_URL DASHBOARD_JSON T_START T_END OUT_PNG TITLE: draws the
dashboard's main panels from Prometheus range queries over [T_START, T_END] (the panels'
own expressions and legends; Grafana's $__rate_interval as 30s, $__range as the window), as
Grafana would show them, into one PNG."""
import json
import re
import sys
import urllib.parse
import urllib.request
from datetime import datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

prom, dash_file, t0, t1, out, title = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
MAIN = ["Active migrations by phase", "Progress of running migrations", "Dirty rate vs transfer rate",
        "Downtime by mode (p50 / p95 / p99, dashboard range)", "Duration by mode (p50 / p95 / p99, dashboard range)",
        "Results over time", "Operator leader", "Handlers: scraped and libvirtd answering",
        "Placement decision latency (p50 / p99)"]
panels = {p["title"]: p for p in json.load(open(dash_file))["panels"]}
step = 2


def expand(expr, instant=False):
    return expr.replace("$__rate_interval", "30s").replace("$__range", f"{t1 - t0}s")


def get(path, params):
    with urllib.request.urlopen(f"{prom}{path}?" + urllib.parse.urlencode(params), timeout=30) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return body["data"]["result"]


def legend(fmt, labels):
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt or "{{__name__}}")


def scale(unit, values):
    if unit == "Bps":
        return [v / 2**20 for v in values], "MiB/s"
    if unit == "s":
        return values, "s"
    return values, {"percent": "%"}.get(unit, "")


fig, axes = plt.subplots(3, 3, figsize=(18, 11.5))
fig.suptitle(f"Ferry dashboard — live migration on the local cluster ({title}), "
             f"{datetime.fromtimestamp(t0):%Y-%m-%d %H:%M:%S}–{datetime.fromtimestamp(t1):%H:%M:%S}", fontsize=13)
for ax, name in zip(axes.flat, MAIN):
    p = panels[name]
    unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    ax.set_title(name, fontsize=10)
    if p["type"] == "bargauge":
        labels, vals = [], []
        for t in p["targets"]:
            for s in get("/api/v1/query", {"query": expand(t["expr"]), "time": t1}):
                v = float(s["value"][1])
                if v == v:  # not NaN
                    labels.append(legend(t.get("legendFormat"), s["metric"]))
                    vals.append(v)
        ax.barh(labels, vals, color="#3274d9")
        for i, v in enumerate(vals):
            ax.text(v, i, f" {v:.3g} s", va="center", fontsize=8)
        ax.set_xlabel("seconds")
        if not vals:
            ax.text(0.5, 0.5, "no data", ha="center", transform=ax.transAxes)
        continue
    stacked = p.get("fieldConfig", {}).get("defaults", {}).get("custom", {}).get("stacking", {}).get("mode") == "normal"
    bars = p.get("fieldConfig", {}).get("defaults", {}).get("custom", {}).get("drawStyle") == "bars"
    series = []
    for t in p["targets"]:
        for s in get("/api/v1/query_range", {"query": expand(t["expr"]), "start": t0, "end": t1, "step": step}):
            xs = [datetime.fromtimestamp(float(v[0])) for v in s["values"]]
            ys, ylabel = scale(unit, [float(v[1]) for v in s["values"]])
            # Series that stay 0 or NaN (label values exported at 0 that nothing used) only
            # crowd the legend of a time series; a state timeline shows every row.
            if p["type"] != "state-timeline" and not any(y == y and y != 0 for y in ys):
                continue
            series.append((legend(t.get("legendFormat"), s["metric"]), xs, ys, ylabel))
    if p["type"] == "state-timeline":
        for i, (lab, xs, ys, _) in enumerate(series):
            colors = ["#56a64b" if y >= 1 else ("#3274d9" if "leader" in name.lower() else "#e02f44") for y in ys]
            ax.scatter(xs, [i] * len(xs), c=colors, marker="s", s=18)
        ax.set_yticks(range(len(series)))
        ax.set_yticklabels([s[0] for s in series], fontsize=8)
        ax.set_ylim(-0.5, len(series) - 0.5)
    else:
        for lab, xs, ys, ylabel in series:
            if bars:
                ax.bar(xs, ys, width=step / 86400 * 0.9, label=lab)
            else:
                ax.plot(xs, ys, label=lab, linewidth=1.6)
            ax.set_ylabel(ylabel)
        if series:
            ax.legend(fontsize=7, loc="upper left")
        else:
            ax.text(0.5, 0.5, "no data", ha="center", transform=ax.transAxes)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(alpha=0.3)
fig.tight_layout(rect=[0, 0, 1, 0.96])
fig.savefig(out, dpi=80)
# A palette of 64 colours keeps the picture small enough to commit (matplotlib needs Pillow).
from PIL import Image  # noqa: E402

Image.open(out).convert("RGB").quantize(colors=64).save(out, optimize=True)
print(f"wrote {out}")

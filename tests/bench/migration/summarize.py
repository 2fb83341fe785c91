#!/usr/bin/env python3
"""Summary of a sweep (sweep.sh's JSON lines): per dirty rate and method the median of the runs,
then per rate Auto against the best fixed mode and what TLS costs. Prints Markdown tables.

  tests/bench/migration/summarize.py /tmp/ferry-sweep-*.jsonl

Per method and rate: successes/runs, and over the successful runs the median total time,
downtime, bytes sent / guest RAM, link utilisation = bytes sent / (cap x total time), and the
dirty rate the guest achieved on the source while it was migrated (its heartbeat). A method
that failed in most runs has no median time: it counts as not converging."""
import json
import statistics
import sys
from collections import defaultdict

MIB = 1024 * 1024
FIXED = ("precopy", "postcopy", "virsh")


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec="{:.1f}"):
    return "-" if x is None else spec.format(x)


def main(path):
    runs = [json.loads(l) for l in open(path) if l.strip()]
    if not runs:
        sys.exit("no runs in " + path)
    by = defaultdict(list)
    for r in runs:
        by[(r["rate_pct"], r["method"])].append(r)
    rates = sorted({r["rate_pct"] for r in runs})
    methods = list(dict.fromkeys(r["method"] for r in runs))
    cap, ram = runs[0]["cap_mib_s"], runs[0]["ram_mib"]
    print()
    print(f"Guest {ram} MiB, link capped at {cap} MiB/s; medians of the successful runs.")
    print()
    print("| dirty % of cap | asked MiB/s | method | ok | total s | downtime ms | sent / RAM "
          "| link utilisation | guest dirtied MiB/s | mode used | actions |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for rate in rates:
        for m in methods:
            rs = by.get((rate, m), [])
            if not rs:
                continue
            ok = [r for r in rs if r.get("ok")]
            total = med([r["total_ms"] / 1000 for r in ok]) if len(ok) * 2 > len(rs) else None
            down = med([r.get("downtime_ms") for r in ok])
            sent = med([r["bytes_sent"] / MIB / ram for r in ok if r.get("bytes_sent")])
            util = med([r["bytes_sent"] / MIB / (cap * r["total_ms"] / 1000)
                        for r in ok if r.get("bytes_sent") and r.get("total_ms")])
            got = med([r.get("achieved_mib_s") for r in rs])
            modes = sorted({r.get("mode") or "-" for r in ok}) or ["-"]
            acts = sorted({a for r in ok for a in (r.get("actions") or [])}) or ["-"]
            summary[(rate, m)] = total
            print(f"| {rate} | {rs[0]['dirty_mib_s']} | {m} | {len(ok)}/{len(rs)} | {fmt(total)} "
                  f"| {fmt(down, '{:.0f}')} | {fmt(sent, '{:.2f}')} | {fmt(util, '{:.2f}')} "
                  f"| {fmt(got)} | {'/'.join(modes)} | {'+'.join(acts)} |")
    print()
    print("| dirty % of cap | Auto s | best fixed mode | its s | Auto / best | Auto over TLS s "
          "| TLS / plain |")
    print("|---|---|---|---|---|---|---|")
    for rate in rates:
        auto = summary.get((rate, "auto"))
        fixed = [(summary[(rate, m)], m) for m in FIXED if summary.get((rate, m)) is not None]
        best, best_m = min(fixed) if fixed else (None, "none converged")
        ratio = auto / best if auto and best else None
        tls = summary.get((rate, "auto-tls"))
        tls_ratio = tls / auto if tls and auto else None
        print(f"| {rate} | {fmt(auto)} | {best_m} | {fmt(best)} | {fmt(ratio, '{:.2f}')} "
              f"| {fmt(tls)} | {fmt(tls_ratio, '{:.2f}')} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])

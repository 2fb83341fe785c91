#!/usr/bin/env python3
"""Summary of a sweep (sweep.sh's JSON lines): per dirty rate and method the median of the runs,
then per rate the goals, Auto against the best fixed mode and what TLS costs. Markdown tables.

  tests/bench/migration/summarize.py /tmp/ferry-sweep-*.jsonl
  tests/bench/migration/summarize.py work SERIAL_A SERIAL_B U0 PRE_S JOB_MS SETTLE_S   (sweep.sh)

Per method and rate: successes/runs, and over the successful runs the median total time
(libvirt's job time) / (RAM / cap), the wall time of the whole command (for auto: with the
dirty-rate measurement before the job) / (RAM / cap), downtime, bytes sent / guest RAM, the
guest's work rate during the migration as a fraction of its rate before (and after), link
utilisation = bytes sent / (cap x total time), the dirty rate the guest achieved on the
source while it was migrated (its heartbeat), and for auto the rate measured before the start
and the start it chose. A method that failed in most runs has no median
time: it counts as not converging."""
import json
import re
import statistics
import sys
from collections import defaultdict

MIB = 1024 * 1024
FIXED = ("precopy", "postcopy", "virsh")
HB = re.compile(r"lab: hb=(\d+) up=([0-9.]+) .*verified=(\d+)")


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec="{:.1f}"):
    return "-" if x is None else spec.format(x)


def heartbeats(*paths):
    """(up, verified) of every heartbeat in the serial logs, once each, in the guest's time."""
    seen = {}
    for p in paths:
        try:
            with open(p, errors="replace") as f:
                for line in f:
                    m = HB.search(line)
                    if m:
                        seen[int(m.group(1))] = (float(m.group(2)), int(m.group(3)))
        except OSError:
            pass
    return sorted(seen.values())


def rate(hbs, a, b):
    """Work (verified pages) per second of guest time between guest times a and b."""
    before = [h for h in hbs if h[0] <= a]
    inside = [h for h in hbs if a < h[0] <= b]
    if not inside:
        return None
    p = before[-1] if before else inside[0]
    q = inside[-1]
    if q[0] - p[0] < 0.1:
        return None
    return (q[1] - p[1]) / (q[0] - p[0])


def work(args):
    serial_a, serial_b, u0, pre_s, job_ms, settle = args
    u0, pre_s, job_s, settle = float(u0), float(pre_s), float(job_ms) / 1000, float(settle)
    hbs = heartbeats(serial_a, serial_b)
    start, end = u0 + pre_s, u0 + pre_s + job_s
    r = {"before": rate(hbs, u0 - 1.5, u0), "during": rate(hbs, start, end),
         "after": rate(hbs, end + 0.5, end + settle)}
    for k in ("during", "after"):
        r[k + "_fraction"] = (round(r[k] / r["before"], 3)
                              if r[k] is not None and r["before"] else None)
    print(json.dumps(r))


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
    bound = ram / cap
    print()
    print(f"Guest {ram} MiB, link capped at {cap} MiB/s (RAM / cap = {bound:.1f} s); medians of "
          "the successful runs (work: of all runs with heartbeats).")
    print()
    print("| dirty % of cap | method | ok | total / (RAM/cap) | wall / (RAM/cap) | downtime ms "
          "| sent / RAM | work during / before | work after / before | link utilisation "
          "| guest dirtied MiB/s | measured MiB/s | mode used | start | actions |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for rate_pct in rates:
        for m in methods:
            rs = by.get((rate_pct, m), [])
            if not rs:
                continue
            ok = [r for r in rs if r.get("ok")]
            total = med([r["total_ms"] / 1000 for r in ok]) if len(ok) * 2 > len(rs) else None
            wall = med([r["wall_ms"] / 1000 for r in ok if r.get("wall_ms")])
            down = med([r.get("downtime_ms") for r in ok])
            sent = med([r["bytes_sent"] / MIB / ram for r in ok if r.get("bytes_sent")])
            util = med([r["bytes_sent"] / MIB / (cap * r["total_ms"] / 1000)
                        for r in ok if r.get("bytes_sent") and r.get("total_ms")])
            got = med([r.get("achieved_mib_s") for r in rs])
            measured = med([r.get("measured_mib_s") for r in rs])
            during = med([(r.get("work") or {}).get("during_fraction") for r in rs])
            after = med([(r.get("work") or {}).get("after_fraction") for r in rs])
            modes = sorted({r.get("mode") or "-" for r in ok}) or ["-"]
            starts = sorted({r.get("start") or "-" for r in rs if r.get("start")}) or ["-"]
            acts = sorted({a for r in ok for a in (r.get("actions") or [])}) or ["-"]
            summary[(rate_pct, m)] = {"total": total, "sent": sent, "during": during,
                                      "ok": len(ok), "runs": len(rs),
                                      "postcopy": "postcopy" in modes}
            print(f"| {rate_pct} | {m} | {len(ok)}/{len(rs)} "
                  f"| {fmt(total / bound if total else None, '{:.2f}')} "
                  f"| {fmt(wall / bound if wall else None, '{:.2f}')} | {fmt(down, '{:.0f}')} "
                  f"| {fmt(sent, '{:.2f}')} | {fmt(during, '{:.2f}')} | {fmt(after, '{:.2f}')} "
                  f"| {fmt(util, '{:.2f}')} | {fmt(got)} | {fmt(measured)} | {'/'.join(modes)} "
                  f"| {'/'.join(starts)} | {'+'.join(acts)} |")
    print()
    print("Goals for auto: total <= 1.1 x RAM/cap, sent <= 1.05 x RAM where post-copy is used, "
          "every run succeeds, work during >= fixed post-copy's.")
    print()
    print("| dirty % of cap | auto total / bound | sent / RAM | ok | work during: auto "
          "| postcopy | auto-old | goals met | best fixed mode | Auto / best | Auto over TLS "
          "/ plain |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for rate_pct in rates:
        a = summary.get((rate_pct, "auto"))
        if a is None:
            continue
        pc = summary.get((rate_pct, "postcopy")) or {}
        old = summary.get((rate_pct, "auto-old")) or {}
        missed = []
        if a["total"] is None or a["total"] > 1.1 * bound:
            missed.append("time")
        if a["postcopy"] and (a["sent"] is None or a["sent"] > 1.05):
            missed.append("bytes")
        if a["ok"] != a["runs"]:
            missed.append("success")
        if a["during"] is not None and pc.get("during") is not None and \
                a["during"] < pc["during"] - 0.02:
            missed.append("slowdown")
        fixed = [(summary[(rate_pct, m)]["total"], m) for m in FIXED
                 if summary.get((rate_pct, m)) and summary[(rate_pct, m)]["total"] is not None]
        best, best_m = min(fixed) if fixed else (None, "none converged")
        ratio = a["total"] / best if a["total"] and best else None
        tls = (summary.get((rate_pct, "auto-tls")) or {}).get("total")
        tls_ratio = tls / a["total"] if tls and a["total"] else None
        print(f"| {rate_pct} | {fmt(a['total'] / bound if a['total'] else None, '{:.2f}')} "
              f"| {fmt(a['sent'], '{:.2f}')} | {a['ok']}/{a['runs']} | {fmt(a['during'], '{:.2f}')} "
              f"| {fmt(pc.get('during'), '{:.2f}')} | {fmt(old.get('during'), '{:.2f}')} "
              f"| {'all' if not missed else 'not: ' + ', '.join(missed)} | {best_m} "
              f"| {fmt(ratio, '{:.2f}')} | {fmt(tls_ratio, '{:.2f}')} |")


if __name__ == "__main__":
    if len(sys.argv) == 8 and sys.argv[1] == "work":
        work(sys.argv[2:])
    elif len(sys.argv) == 2:
        main(sys.argv[1])
    else:
        sys.exit(__doc__)

#!/usr/bin/env python3
"""audit_report.py AUDIT_LOG RBAC_DIR: from the API server's audit log (Metadata level, the
two ServiceAccounts only), fails if any request of ferry-operator or ferry-handler was refused
(403) and lists, for each, the permissions deploy/'s roles grant and which of them the run
exercised (an unexercised one is a path the run did not take, e.g. evacuation). Only the
binaries' requests (user agents ferry/..., ferry-handler/NODE) count; the proof's own
`kubectl auth can-i` checks with the same tokens (discovery, SelfSubjectAccessReview) are
counted apart."""
import collections
import json
import sys
from pathlib import Path

import yaml

SA = {"system:serviceaccount:ferry-system:ferry-operator": "ferry-operator",
      "system:serviceaccount:ferry-system:ferry-handler": "ferry-handler"}
used = collections.defaultdict(collections.Counter)
refused = []
total = collections.Counter()
kubectl = collections.Counter()
for line in open(sys.argv[1]):
    ev = json.loads(line)
    who = SA.get(ev.get("user", {}).get("username"))
    if not who or ev.get("stage") not in ("ResponseComplete", "ResponseStarted", "Panic"):
        continue
    if ev.get("userAgent", "").startswith("kubectl"):
        kubectl[who] += 1
        if ev.get("responseStatus", {}).get("code", 0) == 403:
            refused.append(f"{who} (kubectl) {ev['verb']} {ev['requestURI']}: 403")
        continue
    ref = ev.get("objectRef")
    if ref is None:  # a non-resource URL (/version, discovery): open to every authenticated user
        ref = {"resource": ev["requestURI"].split("?")[0], "apiGroup": "(non-resource URL)"}
    res = ref.get("resource", "") + ("/" + ref["subresource"] if ref.get("subresource") else "")
    code = ev.get("responseStatus", {}).get("code", 0)
    if ev["stage"] == "ResponseStarted" and ev["verb"] != "watch":
        continue
    if ev["stage"] == "ResponseComplete" and ev["verb"] == "watch":
        continue  # counted when it started
    total[who] += 1
    used[who][(ref.get("apiGroup", ""), res, ev["verb"])] += 1
    if code == 403:
        refused.append(f"{who} {ev['verb']} {res} {ref.get('namespace', '')}/{ref.get('name', '')}: 403")

granted = collections.defaultdict(list)
for f in sorted(Path(sys.argv[2]).glob("*-rbac.yaml")):
    for doc in yaml.safe_load_all(f.read_text()):
        if not doc or doc["kind"] not in ("ClusterRole", "Role"):
            continue
        who = doc["metadata"]["name"].replace("-leader-election", "")
        for rule in doc["rules"]:
            for g in rule["apiGroups"]:
                for r in rule["resources"]:
                    for v in rule["verbs"]:
                        granted[who].append((g, r, v))

for who in ("ferry-operator", "ferry-handler"):
    print(f"== {who}: {total[who]} requests by the binary "
          f"(+{kubectl[who]} by the proof's kubectl checks with the same token)")
    for g, r, v in granted[who]:
        n = used[who].get((g, r, v), 0)
        print(f"  {'used' if n else 'NOT USED':8} {v:6} {(g + '/' if g else '') + r:45} {n}")
    extra = [k for k in used[who] if k not in set(granted[who])]
    for g, r, v in extra:
        print(f"  not in deploy/ (default roles or refused) {v} {g}/{r} {used[who][(g, r, v)]}")
print(f"refused requests (403): {len(refused)}")
for r in refused[:50]:
    print("  " + r)
sys.exit(1 if refused or not total else 0)

#!/usr/bin/env python3
"""Seeds the fuzz corpora (tests/fuzz/corpus/<target>/) from the tests' own fixtures: JSON
objects of the testdata files and of the unit tests' raw strings, domain and capabilities XML,
kubeconfigs, quantity and duration literals; watch streams built from those objects; byte
strings for the convergence policy. Files are named by their SHA-1, as libFuzzer names them, so
re-running adds only what is new. Objects captured from a live API server are added by
hack/fuzz/capture.sh.
    hack/fuzz/seeds.py
"""
import glob
import hashlib
import json
import os
import random
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, hashlib.sha1(data).hexdigest())
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        return 1
    return 0


def raw_strings(path):
    text = open(path, encoding="utf-8").read()
    # R"(...)" and R"delim(...)delim"
    for m in re.finditer(r'R"([^(\s]*)\((.*?)\)\1"', text, re.S):
        yield m.group(2)


def literals(path):
    text = open(path, encoding="utf-8").read()
    for m in re.finditer(r'(?<![R\w])"((?:[^"\\\n]|\\.){0,60})"', text):
        yield bytes(m.group(1), "utf-8").decode("unicode_escape").encode("latin-1", "replace").decode("utf-8", "replace")


def json_objects():
    objs = []
    for f in glob.glob(os.path.join(ROOT, "tests", "**", "testdata", "*.json"), recursive=True):
        data = json.load(open(f))
        objs.extend(x for x in (data if isinstance(data, list) else [data]) if isinstance(x, dict))
    for f in glob.glob(os.path.join(ROOT, "tests", "unit", "**", "*.cc"), recursive=True):
        for s in raw_strings(f):
            try:
                v = json.loads(s)
            except ValueError:
                continue
            if isinstance(v, dict):
                objs.append(v)
    return objs


def main():
    added = {}
    objs = json_objects()
    for o in objs:
        text = json.dumps(o, separators=(",", ":"))
        for t in ("api_codec_fuzz", "packed_object_fuzz"):
            added[t] = added.get(t, 0) + put(t, text)
    rnd = random.Random(1)
    # Watch streams: 2 bytes that choose the cuts, then frames as the API server writes them.
    frames = [json.dumps({"type": rnd.choice(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]), "object": o},
                         separators=(",", ":")) + "\n" for o in objs]
    frames.append('{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",'
                  '"message":"too old resource version","reason":"Expired","code":410}}\n')
    for i in range(40):
        k = rnd.randint(1, 4)
        stream = "".join(rnd.choice(frames) for _ in range(k))
        added["watch_decoder_fuzz"] = added.get("watch_decoder_fuzz", 0) + put(
            "watch_decoder_fuzz", bytes([rnd.randrange(256), rnd.randrange(256)]) + stream.encode())
    for f in glob.glob(os.path.join(ROOT, "tests", "unit", "**", "*.cc"), recursive=True):
        for s in raw_strings(f):
            st = s.lstrip()
            if st.startswith("<"):
                added["domain_xml_fuzz"] = added.get("domain_xml_fuzz", 0) + put("domain_xml_fuzz", s)
            elif "clusters:" in s or "current-context" in s or "apiVersion: v1" in s:
                added["kubeconfig_fuzz"] = added.get("kubeconfig_fuzz", 0) + put("kubeconfig_fuzz", s)
            elif st.startswith("QEMU emulator"):
                added["domain_xml_fuzz"] = added.get("domain_xml_fuzz", 0) + put("domain_xml_fuzz", s)
    for name, target in (("quantity_test.cc", "quantity_fuzz"), ("time_test.cc", "duration_fuzz")):
        for f in glob.glob(os.path.join(ROOT, "tests", "unit", "**", name), recursive=True):
            for s in literals(f):
                if s and " " not in s.strip():
                    added[target] = added.get(target, 0) + put(target, s)
    for i in range(24):  # the policy reads its configuration and samples from any bytes
        n = rnd.choice([64, 256, 1024, 4096])
        added["convergence_policy_fuzz"] = added.get("convergence_policy_fuzz", 0) + put(
            "convergence_policy_fuzz", bytes(rnd.randrange(256) for _ in range(n)))
    for t in sorted(added):
        print(f"{t}: {added[t]} new seeds, {len(os.listdir(os.path.join(CORPUS, t)))} in the corpus")


if __name__ == "__main__":
    main()

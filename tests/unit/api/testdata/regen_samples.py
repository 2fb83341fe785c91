#!/usr/bin/env python3
"""Regenerates samples.json (a JSON copy of every object in crds/samples/*.yaml).

The C++ unit tests have no YAML parser; they decode this JSON copy, and samples_test.cc
checks that it lists the same kind/name pairs as the YAML files, so a stale copy fails.
Run after editing crds/samples:  python3 tests/unit/api/testdata/regen_samples.py
"""
import glob
import json
import os

import yaml  # python3-yaml

here = os.path.dirname(os.path.abspath(__file__))
samples = os.path.join(here, "..", "..", "..", "..", "crds", "samples")
objects = []
for path in sorted(glob.glob(os.path.join(samples, "*.yaml"))):
    with open(path) as f:
        objects += [doc for doc in yaml.safe_load_all(f) if doc]
with open(os.path.join(here, "samples.json"), "w") as f:
    json.dump(objects, f, indent=1)
    f.write("\n")
print(f"wrote {len(objects)} objects")

#!/usr/bin/env bash
# rules_test.sh ROOT WORKDIR: the PrometheusRule of deploy/monitoring passes `promtool check
# rules`, and its unit tests (rules_test.yaml: every alert fires, and stays quiet on near
# misses) pass `promtool test rules`.
set -euo pipefail
ROOT=$1 WORK=$2
command -v promtool >/dev/null || { echo "promtool not found (Debian package prometheus; hack/install-deps.sh)" >&2; exit 1; }
mkdir -p "$WORK"
python3 - "$ROOT/deploy/monitoring/prometheusrule.yaml" "$WORK/ferry-rules.yaml" <<'PY'
import sys, yaml
rule = yaml.safe_load(open(sys.argv[1]))
assert rule["kind"] == "PrometheusRule", rule["kind"]
yaml.safe_dump(rule["spec"], open(sys.argv[2], "w"), sort_keys=False)
PY
cp "$ROOT/tests/deploy/rules_test.yaml" "$WORK/rules_test.yaml"
cd "$WORK"
promtool check rules ferry-rules.yaml
promtool test rules rules_test.yaml

#!/usr/bin/env bash
# Writes the reference answers for the quantity and duration corpora (tests/fuzz/oracle/*.tsv),
# computed by Kubernetes' resource.ParseQuantity and Go's time.ParseDuration themselves: the
# oracle (hack/fuzz/oracle/main.go) is built inside the Kubernetes source tree hack/kube/build.sh
# unpacked (not after KUBE_BUILD_PRUNE=1). The unit test QuantityOracleTest/DurationOracleTest
# compares Ferry's parsers with these answers. Run after the corpora grew (hack/fuzz/run.sh).
#   hack/fuzz/oracle.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. hack/kube/lib.sh
K=$KUBE_CACHE_DIR/gopath/src/k8s.io/kubernetes
[ -d "$K/staging/src/k8s.io/apimachinery/pkg/api/resource" ] ||
  { echo "oracle.sh: no Kubernetes source tree in $K (run hack/kube/build.sh without KUBE_BUILD_PRUNE)" >&2; exit 2; }
GO=$(command -v go || echo /usr/lib/go-1.19/bin/go)
mkdir -p "$K/ferry-fuzz-oracle"
cp hack/fuzz/oracle/main.go "$K/ferry-fuzz-oracle/main.go"
BIN=$(mktemp -d)/oracle
trap 'rm -rf "$(dirname "$BIN")"' EXIT
(cd "$K" && GOPATH=$KUBE_CACHE_DIR/gopath GO111MODULE=off GOFLAGS=-mod=vendor \
   GOCACHE=$KUBE_CACHE_DIR/gocache "$GO" build -o "$BIN" ./ferry-fuzz-oracle)
for kind in quantity duration; do
  out=tests/fuzz/oracle/$kind.tsv
  for f in tests/fuzz/corpus/${kind}_fuzz/*; do
    [ "$(stat -c %s "$f")" -le 256 ] && xxd -p -c 1000 "$f" | tr -d '\n' && echo
  done | grep . | sort -u | "$BIN" "$kind" > "$out.tmp"
  mv "$out.tmp" "$out"
  echo "oracle.sh: $out: $(wc -l < "$out") inputs, $(grep -c $'\terror$' "$out") refused"
done

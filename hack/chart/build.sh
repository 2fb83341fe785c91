#!/usr/bin/env bash
# hack/chart/build.sh OUT: builds ferry-chart-render (hack/chart/main.go) into OUT with
# Debian's Go 1.19 and Debian's Go libraries (sprig for Helm's template functions,
# sigs.k8s.io/yaml for toYaml), in GOPATH mode: nothing is downloaded. Skips the build when
# OUT is newer than main.go. Packages: hack/install-deps.sh.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUT" >&2; exit 2; }
OUT=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GO=${GO:-/usr/lib/go-1.19/bin/go}
[ -x "$GO" ] || { echo "build.sh: $GO not found (golang-1.19-go; hack/install-deps.sh)" >&2; exit 1; }
for d in github.com/Masterminds/sprig sigs.k8s.io/yaml; do
  [ -d "/usr/share/gocode/src/$d" ] || {
    echo "build.sh: /usr/share/gocode/src/$d missing (golang-github-masterminds-sprig-dev, golang-k8s-sigs-yaml-dev; hack/install-deps.sh)" >&2
    exit 1
  }
done
if [ -x "$OUT" ] && [ "$OUT" -nt "$HERE/main.go" ]; then exit 0; fi
mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# GOPATH mode over Debian's /usr/share/gocode, with a private cache. Debian installs the
# v3 modules without their /v3 suffix; a link gives their import paths (as dh-golang does).
mkdir -p "$WORK/src/ferry-chart-render" "$WORK/src/github.com/Masterminds/sprig" \
  "$WORK/src/github.com/Masterminds/semver"
ln -s /usr/share/gocode/src/github.com/Masterminds/sprig "$WORK/src/github.com/Masterminds/sprig/v3"
ln -s /usr/share/gocode/src/github.com/Masterminds/semver "$WORK/src/github.com/Masterminds/semver/v3"
cp "$HERE/main.go" "$WORK/src/ferry-chart-render/"
GO111MODULE=off GOPATH="$WORK:/usr/share/gocode" GOCACHE="${GOCACHE:-$(dirname "$OUT")/go-cache}" \
  GOFLAGS= CGO_ENABLED=0 "$GO" build -o "$OUT.tmp" ferry-chart-render
mv "$OUT.tmp" "$OUT"

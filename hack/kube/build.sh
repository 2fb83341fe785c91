#!/usr/bin/env bash
# hack/kube/build.sh - build the real upstream kube-apiserver v1.20.2 for the integration tests
# from Debian bookworm's "kubernetes" SOURCE package with Debian's Go 1.19.
#
# Result: $KUBE_CACHE/bin/kube-apiserver (default cache ${XDG_CACHE_HOME:-$HOME/.cache}/kube-1.20.2;
# any tool that builds into the same layout shares the binary).
# Idempotent: exits at once when that binary exists and prints "Kubernetes v1.20.2". A second
# concurrent run waits on $KUBE_CACHE/.build.lock and then reuses the result. A failed step prints
# its name and the tail of its log ($KUBE_CACHE/logs/*.log); stamps make a re-run resume.
# Cold build here: ~8 min on 2 CPUs, ~2 GB in the cache dir, network to the Debian mirror only.
#
# Environment:
#   KUBE_CACHE                   cache/work dir
#   KUBE_BUILD_FORCE=1           rebuild even if the binary is present
#   KUBE_BUILD_PRUNE=1           afterwards delete GOPATH tree, GOCACHE, apt lists (keeps bin/, src/)
#   KUBE_DEBIAN_MIRROR           default: this machine's apt mirror
#   KUBE_DEBIAN_SECURITY_MIRROR  default: this machine's apt security mirror
#   SOURCE_DATE_EPOCH            if set, the embedded buildDate
set -Eeuo pipefail

KUBE_VERSION=v1.20.2
KUBE_MAJOR=1
KUBE_MINOR=20
# Commit of the upstream tag v1.20.2: Debian's tarball has no .git, this only feeds the version
# strings (/version, --version) exactly as upstream's hack/lib/version.sh would.
KUBE_GIT_COMMIT=faecb196815e248d3ecfb03c680a4507229c2a56
DEB_SRC_PKG=kubernetes
DEB_SRC_VERSION=1.20.5+really1.20.2-1.1+deb12u1
# The orig tarball is upstream v1.20.2 with vendor/; pinned so a changed archive cannot slip in.
ORIG_TARBALL=kubernetes_1.20.5+really1.20.2.orig.tar.gz
ORIG_SHA256=b83c0780efb182d928dc63d46488a847f161f04e40a94b96bf5247dd671ecdfc
GO_PKG=golang-1.19-go
GO=/usr/lib/go-1.19/bin/go
# Debian's reflect2 1.0.2 replaces the vendored 1.0.1, which crashes at start-up with Go >= 1.18.
REFLECT2_DIR=/usr/share/gocode/src/github.com/modern-go/reflect2
PACKAGES=("$GO_PKG" golang-github-modern-go-reflect2-dev etcd-server openssl curl dpkg-dev xz-utils
          debian-archive-keyring)

apt_mirror() { # main|security: first matching URI of this machine's apt sources
  local want=$1 u
  for u in $(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}') \
           $(grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'); do
    case "$u" in
      *security*) [ "$want" = security ] && { echo "${u%/}"; return; } ;;
      *) [ "$want" = main ] && { echo "${u%/}"; return; } ;;
    esac
  done
  return 0
}

CACHE=${KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-1.20.2}
T0=$(date +%s)
STEP="" STEP_LOG=""
log() { printf '[build.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
log_tail() {
  if [ -n "$STEP_LOG" ] && [ -s "$STEP_LOG" ]; then
    printf 'build.sh: last lines of %s:\n' "$STEP_LOG" >&2
    tail -n 25 "$STEP_LOG" | sed 's/^/    /' >&2
  fi
}
die() { printf 'build.sh: ERROR: %s\n' "$*" >&2; [ -z "$STEP" ] || log_tail; STEP=""; exit 1; }
on_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -n "$STEP" ]; then
    printf 'build.sh: ERROR: step "%s" failed (exit code %s).\n' "$STEP" "$rc" >&2
    log_tail
  fi
}
trap on_exit EXIT
step() { STEP=$1; STEP_LOG=${2:-}; log "== $STEP"; if [ -n "$STEP_LOG" ]; then : >"$STEP_LOG"; fi; }
logged() { "$@" >>"$STEP_LOG" 2>&1; } # output into the step log (tail shown on failure)
binary_ok() { [ -x "$1" ] && [ "$("$1" --version 2>/dev/null)" = "Kubernetes $KUBE_VERSION" ]; }
done_msg() { echo "build.sh: $CACHE/bin/kube-apiserver is $KUBE_VERSION; $1"; }

if [ "${KUBE_BUILD_FORCE:-0}" != 1 ] && binary_ok "$CACHE/bin/kube-apiserver"; then
  done_msg "nothing to do."
  exit 0
fi

mkdir -p "$CACHE" || die "cannot create cache dir $CACHE"
CACHE=$(cd "$CACHE" && pwd -P)
BIN=$CACHE/bin LOGS=$CACHE/logs STAMPS=$CACHE/stamps
export GOPATH=$CACHE/gopath
K=$GOPATH/src/k8s.io/kubernetes # GOPATH mode: the tree must live at its import path
mkdir -p "$LOGS" "$STAMPS"

# One build per cache dir ($KUBE_CACHE/.build.lock); a second caller waits.
exec 9>"$CACHE/.build.lock"
if ! flock -n 9; then
  log "another build is using $CACHE; waiting for it (up to 1 h)"
  flock -w 3600 9 || die "timed out waiting for the lock $CACHE/.build.lock"
  if [ "${KUBE_BUILD_FORCE:-0}" != 1 ] && binary_ok "$BIN/kube-apiserver"; then
    done_msg "built by the other run."
    exit 0
  fi
fi
log "cache dir: $CACHE"

# ------------------------------------------------------------------ 1. Debian packages
step "check Debian packages: ${PACKAGES[*]}" "$LOGS/apt-install.log"
command -v dpkg-query >/dev/null && command -v apt-get >/dev/null ||
  die "this needs Debian 12 (bookworm): dpkg-query/apt-get not found"
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep '^install ok installed$' >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "missing packages: ${missing[*]} -- run hack/install-deps.sh as root"
    SUDO=(sudo)
  fi
  log "installing: ${missing[*]}"
  APT_INSTALL=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600
               install -y --no-install-recommends "${missing[@]}")
  if ! logged "${APT_INSTALL[@]}"; then
    log "apt-get install failed; running apt-get update and retrying"
    logged "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update
    logged "${APT_INSTALL[@]}"
  fi
fi
[ -x "$GO" ] || die "$GO not found although $GO_PKG is installed"
"$GO" version | grep 'go1\.19' >/dev/null || die "$GO is not Go 1.19: $("$GO" version)"
[ -f "$REFLECT2_DIR/reflect2.go" ] || die "$REFLECT2_DIR/reflect2.go missing (golang-github-modern-go-reflect2-dev)"

# ------------------------------------------------------------------ 2. source package
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }
SRC=$CACHE/src
DSC=$(ls "$SRC"/${DEB_SRC_PKG}_*.dsc 2>/dev/null | head -n1 || true)
if ! sha_ok "$SRC/$ORIG_TARBALL" "$ORIG_SHA256" || [ -z "$DSC" ]; then
  MIRROR=${KUBE_DEBIAN_MIRROR:-$(apt_mirror main)}
  SEC_MIRROR=${KUBE_DEBIAN_SECURITY_MIRROR:-$(apt_mirror security)}
  [ -n "$MIRROR" ] || die "no Debian mirror in /etc/apt; set KUBE_DEBIAN_MIRROR"
  step "download source package $DEB_SRC_PKG $DEB_SRC_VERSION (private apt config in $CACHE/apt)" "$LOGS/apt-source.log"
  rm -f "$STAMPS/extract" "$STAMPS/openapi"
  A=$CACHE/apt
  mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/sources.list.d"
  KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
  {
    echo "deb-src [signed-by=$KEYRING] $MIRROR bookworm main"
    echo "deb-src [signed-by=$KEYRING] $MIRROR bookworm-updates main"
    [ -z "$SEC_MIRROR" ] || echo "deb-src [signed-by=$KEYRING] $SEC_MIRROR bookworm-security main"
  } >"$A/sources.list"
  # /etc/apt is never modified: lists, cache and the deb-src list all live under $A.
  APT_PRIVATE=(-o "Dir::Etc::SourceList=$A/sources.list" -o "Dir::Etc::SourceParts=$A/sources.list.d"
               -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache"
               -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o Acquire::Languages=none)
  # as root apt downloads as _apt, which cannot write into a private dir under /root
  [ "$(id -u)" = 0 ] && APT_PRIVATE+=(-o APT::Sandbox::User=root)
  logged apt-get "${APT_PRIVATE[@]}" update
  # apt-get update exits 0 even when every index failed to download
  compgen -G "$A/lists/*_dists_bookworm_main_source_Sources*" >/dev/null ||
    die "could not download bookworm's Sources index from $MIRROR (network/proxy/mirror?); see $STEP_LOG"
  rm -rf "$SRC"
  mkdir -p "$SRC"
  if ! (cd "$SRC" && logged apt-get "${APT_PRIVATE[@]}" source --download-only "$DEB_SRC_PKG=$DEB_SRC_VERSION"); then
    log "version $DEB_SRC_VERSION not found; trying $DEB_SRC_PKG/bookworm (the orig sha256 is still enforced)"
    (cd "$SRC" && logged apt-get "${APT_PRIVATE[@]}" source --download-only "$DEB_SRC_PKG/bookworm")
  fi
  sha_ok "$SRC/$ORIG_TARBALL" "$ORIG_SHA256" ||
    die "$SRC/$ORIG_TARBALL missing or its sha256 is not $ORIG_SHA256 (not upstream v1.20.2?)"
  DSC=$(ls "$SRC"/${DEB_SRC_PKG}_*.dsc | head -n1)
fi
log "source: $DSC (orig sha256 ok)"

# ------------------------------------------------------------------ 3. GOPATH tree + reflect2 swap
if [ ! -f "$STAMPS/extract" ] || [ ! -d "$K/vendor" ]; then
  step "unpack into $K (pristine upstream tarball; Debian's kubectl-only patches skipped)" "$LOGS/extract.log"
  rm -f "$STAMPS/openapi"
  rm -rf "$K"
  mkdir -p "$(dirname "$K")"
  # apt verified the files against the signed Sources index; the .dsc's own signature needs
  # debian-keyring, so dpkg-source's warning about it is expected.
  logged dpkg-source --skip-patches -x "$DSC" "$K"
  [ -f "$K/cmd/kube-apiserver/apiserver.go" ] || die "unpacked tree lacks cmd/kube-apiserver"
  rm -rf "$K/vendor/github.com/modern-go/reflect2"
  mkdir -p "$K/vendor/github.com/modern-go/reflect2"
  cp -a "$REFLECT2_DIR/." "$K/vendor/github.com/modern-go/reflect2/"
  touch "$STAMPS/extract"
fi

# Debian's Go 1.19 in GOPATH mode; nothing from the network.
export GO111MODULE=off GOPROXY=off GOFLAGS='' GOENV=off CGO_ENABLED=0 GOCACHE=$CACHE/gocache GOTOOLCHAIN=local
unset GOROOT GOBIN GOOS GOARCH GOEXPERIMENT
mkdir -p "$GOCACHE"

# ------------------------------------------------------------------ 4. openapi generation
# pkg/generated/openapi/zz_generated.openapi.go is git-ignored upstream, so the tarball lacks it.
OPENAPI_OUT=$K/pkg/generated/openapi/zz_generated.openapi.go
if [ ! -f "$STAMPS/openapi" ] || [ ! -s "$OPENAPI_OUT" ]; then
  step "generate $OPENAPI_OUT with the vendored openapi-gen" "$LOGS/openapi.log"
  W=$CACHE/openapi-work
  rm -rf "$W"
  mkdir -p "$W" "$CACHE/tools"
  (cd "$K" && logged "$GO" build -o "$CACHE/tools/openapi-gen" k8s.io/kubernetes/vendor/k8s.io/kube-openapi/cmd/openapi-gen)
  # Same input dirs as upstream's Makefile.generated_files: Go dirs (staging/src/* named as
  # vendor/*) with a "// +k8s:" tag, minus code-generator and sample-apiserver, that mention
  # +k8s:openapi-gen=.
  (
    cd "$K"
    find -H . \( -path './_*' -o -path './.*' -o -path ./vendor \) -prune -o -type f -name '*.go' -print |
      sed -e 's|^./staging/src|vendor|' -e 's|/[^/]*$||' -e 's|^./||' | LC_ALL=C sort -u >"$W/all_go_dirs"
    xargs -a "$W/all_go_dirs" sh -c 'find "$@" -maxdepth 1 -type f -name "*.go"' sh |
      { xargs grep --color=never -l '^// *+k8s:' || true; } >"$W/k8s_tag_files"
    grep -v -e '^vendor/k8s.io/code-generator/' -e '^vendor/k8s.io/sample-apiserver/' "$W/k8s_tag_files" |
      { xargs grep --color=never -l '+k8s:openapi-gen=' || true; } |
      xargs -n1 dirname | LC_ALL=C sort -u >"$W/openapi_dirs"
  )
  n=$(wc -l <"$W/openapi_dirs")
  [ "$n" -ge 50 ] || die "found only $n packages with +k8s:openapi-gen tags (expected ~80); see $W"
  log "openapi-gen over $n packages"
  rm -f "$OPENAPI_OUT"
  (cd "$K" && logged "$CACHE/tools/openapi-gen" --logtostderr \
      -i "$(sed 's|^|k8s.io/kubernetes/|' "$W/openapi_dirs" | paste -sd, -)" \
      -p k8s.io/kubernetes/pkg/generated/openapi -O zz_generated.openapi \
      -h "$K/vendor/k8s.io/code-generator/hack/boilerplate.go.txt" \
      -r "$W/KUBE_violations.report")
  [ -s "$OPENAPI_OUT" ] || die "openapi-gen did not write $OPENAPI_OUT"
  # upstream's build fails when the API-rule report differs from the checked-in list; the same
  # check proves the generator saw exactly upstream's package set.
  diff "$W/KUBE_violations.report" "$K/api/api-rules/violation_exceptions.list" >>"$STEP_LOG" ||
    die "openapi API-rule violations differ from api/api-rules/violation_exceptions.list (see $STEP_LOG)"
  touch "$STAMPS/openapi"
fi

# ------------------------------------------------------------------ 5. go build
step "go build kube-apiserver ($("$GO" version | cut -d' ' -f3), GOPATH mode)" "$LOGS/go-build-apiserver.log"
BUILD_DATE=$(date ${SOURCE_DATE_EPOCH:+--date=@$SOURCE_DATE_EPOCH} -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS="-s -w -buildid="
for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  for kv in "gitVersion=$KUBE_VERSION" "gitMajor=$KUBE_MAJOR" "gitMinor=$KUBE_MINOR" \
            "gitCommit=$KUBE_GIT_COMMIT" "gitTreeState=clean" "buildDate=$BUILD_DATE"; do
    LDFLAGS+=" -X k8s.io/kubernetes/vendor/$p.$kv"
  done
done
OUT=$CACHE/bin.apiserver.new
rm -rf "$OUT"
mkdir -p "$OUT"
(cd "$K" && logged "$GO" build -trimpath -tags selinux,notest -ldflags "$LDFLAGS" \
    -o "$OUT/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
binary_ok "$OUT/kube-apiserver" ||
  die "$OUT/kube-apiserver does not report $KUBE_VERSION: $("$OUT/kube-apiserver" --version 2>&1 | head -n3)"
mkdir -p "$BIN"
mv -f "$OUT/kube-apiserver" "$BIN/kube-apiserver" # atomic: a reader never sees half a binary
rmdir "$OUT"
if [ "${KUBE_BUILD_PRUNE:-0}" = 1 ]; then
  step "prune build inputs (KUBE_BUILD_PRUNE=1)"
  chmod -R u+w "$GOPATH" "$GOCACHE" 2>/dev/null || true
  rm -rf "$GOPATH" "$GOCACHE" "$CACHE/apt/lists" "$CACHE/openapi-work" "$CACHE/tools" "$STAMPS"
fi
STEP=""
log "done in $(($(date +%s) - T0))s"
done_msg "built."

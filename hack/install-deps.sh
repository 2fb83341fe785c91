#!/usr/bin/env bash
# Installs every Debian package Ferry needs to build, test and run its local lab.
# Idempotent: packages already present are skipped; safe to run on every CI run.
# Usage: hack/install-deps.sh            (needs root or sudo for apt-get)
set -euo pipefail

PKGS=(
  # build
  build-essential cmake pkg-config ninja-build ccache
  libcpprest-dev libssl-dev zlib1g-dev libboost-system-dev
  nlohmann-json3-dev libvirt-dev prometheus-cpp-dev libyaml-cpp-dev libcli11-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # real parts for tests: kube-apiserver build (hack/kube/build.sh) + etcd
  golang-1.19-go golang-github-modern-go-reflect2-dev etcd-server openssl curl
  dpkg-dev xz-utils debian-archive-keyring
  # local lab: libvirtd nodes in network namespaces, QEMU guests (hack/lab/lab.sh)
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
  busybox-static iproute2 gcc libc6-dev procps psmisc util-linux
  # scripts
  jq python3 bc
  # local cluster: Prometheus scraping the operator and handlers on loopback (hack/cluster)
  prometheus
  # handler: domain XML parsing (libxml2, also a libvirt dependency)
  libxml2-dev
  # fuzzing (hack/fuzz/run.sh: libFuzzer; the test build takes FuzzedDataProvider.h from clang's headers)
  clang-16 libclang-rt-16-dev
  # structured logging (lib/log); printf-style messages into std::string (fmt::sprintf)
  libspdlog-dev libfmt-dev
  # deploy checks (promtool is in prometheus, above): the chart renderer (Go templates +
  # Helm's sprig functions + sigs.k8s.io/yaml, built by hack/chart/build.sh with golang-1.19-go)
  golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev python3-yaml
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
# apt lists may be missing on a fresh machine
if ! $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
fi

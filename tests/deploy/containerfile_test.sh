#!/usr/bin/env bash
# containerfile_test.sh ROOT OPERATOR HANDLER: each Containerfile's runtime stage installs the
# Debian package of every shared library its binary links directly (NEEDED entries of the
# binary built here, mapped to packages with dpkg -S), and copies in everything its build
# stage needs. Images cannot be built on this machine (no container runtime); this is what
# can be checked without one.
set -euo pipefail
ROOT=$1 OPERATOR=$2 HANDLER=$3
cd "$ROOT"
# Always in debian:bookworm-slim (essential, or required by apt itself); sanitizer runtimes
# exist only in the test build, never in a Release image.
BASE="libc6 libgcc-s1 libstdc++6 libasan8 libubsan1"
fail=0
check() {  # CONTAINERFILE BINARY
  local cf=$1 bin=$2 runtime lib pkg
  # Packages installed after the last FROM (the runtime stage).
  runtime=$(awk '/^FROM /{buf=""} {buf=buf"\n"$0} END{print buf}' "$cf" | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u)
  for lib in $(objdump -p "$bin" | awk '/NEEDED/ {print $2}'); do
    pkg=$(dpkg -S "*/$lib" 2>/dev/null | grep -E "/(usr/)?lib/$(gcc -dumpmachine)/" | head -1 | cut -d: -f1)
    [ -n "$pkg" ] || { echo "FAIL: $cf: no Debian package owns $lib"; fail=1; continue; }
    if [[ " $BASE " == *" $pkg "* ]]; then continue; fi
    if ! grep -qx "$pkg" <<<"$runtime"; then
      echo "FAIL: $cf: $(basename "$bin") needs $lib from $pkg, not installed in the runtime stage"
      fail=1
    else
      echo "ok: $(basename "$bin") $lib <- $pkg"
    fi
  done
  # The build stage's COPY sources exist, and they are all the top-level CMake project reads.
  local src
  for src in $(awk '/^COPY [^-]/ {print $2}' "$cf"); do
    [ -e "$src" ] || { echo "FAIL: $cf: COPY $src: no such path"; fail=1; }
  done
  for dir in $(sed -n 's/^add_subdirectory(\([a-z]*\))/\1/p' CMakeLists.txt); do
    grep -q "^COPY $dir $dir" "$cf" || { echo "FAIL: $cf: the build needs $dir/, not copied"; fail=1; }
  done
}
check deploy/containers/ferry-operator.Containerfile "$OPERATOR"
check deploy/containers/ferry-handler.Containerfile "$HANDLER"
[ "$fail" -eq 0 ] && echo "containerfile_test: OK"
exit "$fail"

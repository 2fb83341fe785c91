#!/usr/bin/env bash
# hack/kube/down.sh DIR - stop exactly the processes up.sh started for DIR, then remove DIR.
#
# A process is only signalled when /proc/PID/cmdline is the expected binary AND mentions DIR
# (guards against PID reuse and other instances). Safe on a missing, half-started or already
# stopped DIR (exit 0); refuses a directory up.sh did not create.
#
#   KEEP=1               keep DIR (logs, etcd data, PKI) instead of removing it
#   KUBE_DOWN_TIMEOUT    seconds to wait after SIGTERM before SIGKILL (default 15)
set -Euo pipefail
PROG=down.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[ $# -eq 1 ] && [ -n "$1" ] && [ "$1" != -h ] && [ "$1" != --help ] ||
  { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
if [ ! -e "$1" ]; then
  echo "$PROG: $1 does not exist; nothing to stop"
  exit 0
fi
[ -d "$1" ] || { echo "$PROG: ERROR: $1 is not a directory" >&2; exit 1; }
DIR=$(cd "$1" && pwd -P)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
[ "$DIR" != / ] || die "refusing to work on /"
[ -f "$DIR/$KUBE_MARKER" ] || die "$DIR is not an up.sh dir (no $KUBE_MARKER marker); not touching it"

exec 8>>"$DIR/.lock"
flock -w 120 8 || die "$DIR is locked by another up.sh/down.sh/restart-apiserver.sh"

rc=0
stop kube-apiserver || rc=1
stop etcd || rc=1

# drop port claims an interrupted up.sh/restart may have left for this DIR
if [ -d "$KUBE_PORT_DIR" ]; then
  grep -lxF -- "$DIR" "$KUBE_PORT_DIR"/claim.* 2>/dev/null | xargs -r rm -f || true
fi

if [ "$rc" != 0 ]; then
  echo "$PROG: ERROR: some processes of $DIR could not be stopped; $DIR kept" >&2
elif [ "${KEEP:-0}" = 1 ]; then
  echo "$PROG: kept $DIR"
else
  rm -rf -- "$DIR" && echo "$PROG: removed $DIR"
fi
exit "$rc"

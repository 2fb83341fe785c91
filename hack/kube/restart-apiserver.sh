#!/usr/bin/env bash
# hack/kube/restart-apiserver.sh DIR - stop ONLY the kube-apiserver of an up.sh DIR and start it
# again with the same port, flags and PKI (etcd and its data stay), then wait for /readyz.
# Open watches see their connection break (not a clean end of stream); clients must reconnect
# and may get 410 Gone (see docs/kube-test-server.md).
#
# Environment:
#   KUBE_RESTART_SIGNAL      TERM (default: graceful) or KILL (a crash)
#   KUBE_RESTART_GRACE       seconds after SIGTERM before SIGKILL (default 5). A 1.20 API server
#                            with an open watch stops listening at once but then waits up to 60 s
#                            for the watch to end, so with watches open this is the stop time.
#   KUBE_RESTART_DOWNTIME    seconds to keep the API server down before starting it (default 0)
#   KUBE_UP_TIMEOUT          seconds until it must be ready again (default 120)
set -Eeuo pipefail
PROG=restart-apiserver.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[ $# -eq 1 ] && [ -n "$1" ] && [ "$1" != -h ] && [ "$1" != --help ] ||
  { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ -d "$1" ] || { echo "$PROG: ERROR: $1: no such directory" >&2; exit 1; }
DIR=$(cd "$1" && pwd -P)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
trap 'note "unexpected failure at line $LINENO: $BASH_COMMAND"' ERR

TIMEOUT=${KUBE_UP_TIMEOUT:-120}
DOWNTIME=${KUBE_RESTART_DOWNTIME:-0}
SIG=${KUBE_RESTART_SIGNAL:-TERM}
GRACE=${KUBE_RESTART_GRACE:-5}
case "$SIG" in TERM | KILL) ;; *) die "KUBE_RESTART_SIGNAL must be TERM or KILL, got '$SIG'" ;; esac
[[ "$GRACE" =~ ^[0-9]+$ ]] || die "KUBE_RESTART_GRACE must be whole seconds, got '$GRACE'"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "KUBE_UP_TIMEOUT must be whole seconds, got '$TIMEOUT'"
[[ "$DOWNTIME" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "KUBE_RESTART_DOWNTIME must be seconds, got '$DOWNTIME'"
[ -f "$DIR/$KUBE_MARKER" ] && [ -s "$DIR/env" ] && [ -s "$DIR/run/kube-apiserver.args" ] ||
  die "$DIR is not a started up.sh dir (no env or run/kube-apiserver.args)"
exec 8>>"$DIR/.lock"
flock -w 120 8 || die "$DIR is locked by another up.sh/down.sh/restart-apiserver.sh"
running etcd || die "etcd of $DIR is not running; start the instance with up.sh"

API_PORT=$(sed -n "s/^export KUBE_APISERVER_PORT='\([0-9]*\)'$/\1/p" "$DIR/env")
[ -n "$API_PORT" ] || die "no KUBE_APISERVER_PORT in $DIR/env"
grep -Fx -- "--secure-port=$API_PORT" "$DIR/run/kube-apiserver.args" >/dev/null ||
  die "$DIR/run/kube-apiserver.args does not use port $API_PORT"

trap 'release_claims' EXIT
T0=$(now_us)
# Keep other instances from picking the port while it is unbound.
claim_port_exact "$API_PORT"
stop kube-apiserver "$SIG" "$GRACE" || die "could not stop kube-apiserver"
T_DOWN=$(now_us)
[ "$DOWNTIME" = 0 ] || sleep "$DOWNTIME"
T_START=$(now_us)
rc=0
start_apiserver "$API_PORT" $((T_START + TIMEOUT * 1000000)) || rc=$?
if [ $rc = 2 ]; then
  die "port $API_PORT was taken by another process while the API server was down"
elif [ $rc != 0 ]; then
  die "kube-apiserver did not come back"
fi
T1=$(now_us)
echo "$PROG: kube-apiserver (pid $(pid_of kube-apiserver)) ready again at https://127.0.0.1:$API_PORT" \
  "(SIG$SIG, stop $(secs "$T0" "$T_DOWN")s, start to /readyz $(secs "$T_START" "$T1")s)"

#!/usr/bin/env bash
# lifecycle_test.sh WORKDIR - end-to-end test of hack/kube/{up,restart-apiserver,etcd-compact,down}.sh
# with instances of its own under WORKDIR (never the shared "kube" fixture):
#   two instances started at once (A: defaults, B: --watch-cache=false), isolation, detachment,
#   refusals, restart keeps objects, an open watch breaks on restart, 410 Expired after restart
#   (A) and after compaction (B), down leaves no process/socket/dir, down is idempotent, a failed
#   start-up cleans up. Needs the kube-apiserver binary (hack/kube/build.sh). ~1 min.
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: lifecycle_test.sh WORKDIR" >&2; exit 2; }
HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../hack/kube" && pwd)
mkdir -p "$1" && W=$(cd "$1" && pwd -P) || exit 1
A=$W/a B=$W/b F=$W/failed X=$W/foreign
FAILS=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }
cleanup() { for d in "$A" "$B" "$F"; do [ -e "$d" ] && "$HACK/down.sh" "$d" >/dev/null 2>&1; done; rm -rf "$X"; }
trap cleanup EXIT
cleanup
rm -rf "$A" "$B" "$F" "$X"

# curl with DIR's token / a watch helper printing "<type> <code-or-name>" per event
K() { local d=$1; shift; curl -sS --max-time 20 --cacert "$d/pki/ca.crt" -H "Authorization: Bearer $(cat "$d/pki/admin.token")" "$@"; }
server() { sed -n "s/^export KUBE_SERVER='\(.*\)'$/\1/p" "$1/env"; }
cm_url() { echo "$(server "$1")/api/v1/namespaces/default/configmaps"; }
create_cm() { K "$1" -X POST -H 'Content-Type: application/json' -d "{\"metadata\":{\"name\":\"$2\"},\"data\":{\"k\":\"$3\"}}" "$(cm_url "$1")" | jq -r .metadata.resourceVersion; }
watch_from() { K "$1" -N "$(cm_url "$1")?watch=1&resourceVersion=$2&timeoutSeconds=${3:-2}" | jq -r '"\(.type) \(.object.code // .object.metadata.name)"'; }
pids() { cat "$1"/run/*.pid 2>/dev/null | tr '\n' ' '; }
ports() { awk '{print $2} /peer/{gsub(/\)/,"",$4); print $4}' "$1/ports" | tr '\n' ' '; }
no_leftovers() { # DIR "pids" "ports"
  local p st port
  for p in $2; do
    st=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$p/stat" 2>/dev/null) || continue
    [ "$st" = Z ] || { echo "  pid $p still running (state $st)"; return 1; }
  done
  for port in $3; do
    if ss -Htan "( sport = :$port )" | grep -v TIME-WAIT | grep -q .; then echo "  socket left on $port"; return 1; fi
  done
  [ ! -e "$1" ] || { echo "  $1 still exists"; return 1; }
}

echo "== two instances at once"
t0=$EPOCHREALTIME
# Output through a pipe, as under CTest: if a daemon inherited the pipe, cat would never see EOF
# and timeout would fire (exit 124).
timeout 180 bash -c "set -o pipefail; '$HACK/up.sh' '$A' 2>&1 | cat >'$W/a.log'" & pa=$!
timeout 180 bash -c "set -o pipefail; KUBE_APISERVER_ARGS=--watch-cache=false '$HACK/up.sh' '$B' 2>&1 | cat >'$W/b.log'" & pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
echo "   both up (and their output pipes closed) after $(since "$t0")s: $(head -n1 "$W/a.log" | sed 's/.* in /A in /') / $(head -n1 "$W/b.log" | sed 's/.* in /B in /')"
check "up.sh A exits 0" test $ra = 0
check "up.sh B exits 0" test $rb = 0
[ $ra = 0 ] && [ $rb = 0 ] || { cat "$W/a.log" "$W/b.log"; exit 1; }
check "A and B use different ports" test -z "$(comm -12 <(ports "$A" | tr ' ' '\n' | sort) <(ports "$B" | tr ' ' '\n' | sort) | grep .)"
check "kubectl get ns on A (kubeconfig)" bash -c "kubectl --kubeconfig '$A/kubeconfig' get ns -o name | grep -qx namespace/default"
check "kubectl --context token get ns on B" bash -c "kubectl --kubeconfig '$B/kubeconfig' --context token get ns -o name | grep -qx namespace/default"
create_cm "$A" only-a x >/dev/null
check "an object created on A is not on B" test "$(K "$B" -o /dev/null -w '%{http_code}' "$(cm_url "$B")/only-a")" = 404
for d in "$A" "$B"; do
  for n in etcd kube-apiserver; do
    p=$(cat "$d/run/$n.pid")
    check "$n of ${d##*/}: own session, stdin /dev/null, stdout+stderr its log" bash -c "
      [ \"\$(ps -o sid= -p $p | tr -d ' ')\" = $p ] && [ \"\$(readlink /proc/$p/fd/0)\" = /dev/null ] &&
      [ \"\$(readlink /proc/$p/fd/1)\" = '$d/logs/$n.log' ] && [ \"\$(readlink /proc/$p/fd/2)\" = '$d/logs/$n.log' ]"
  done
done

echo "== refusals"
"$HACK/up.sh" "$A" >/dev/null 2>&1
check "up.sh refuses a DIR whose processes run" test $? != 0
mkdir -p "$X" && touch "$X/precious"
"$HACK/up.sh" "$X" >/dev/null 2>&1
check "up.sh refuses a non-empty foreign dir" test $? != 0
"$HACK/down.sh" "$X" >/dev/null 2>&1
rc=$?
check "down.sh refuses a foreign dir (rc $rc) and leaves it" test $rc != 0 -a -f "$X/precious"

echo "== restart keeps objects (A, SIGTERM)"
create_cm "$A" survivor v1 >/dev/null
old_api=$(cat "$A/run/kube-apiserver.pid") old_etcd=$(cat "$A/run/etcd.pid") old_port=$(server "$A")
t0=$EPOCHREALTIME
"$HACK/restart-apiserver.sh" "$A" 2>/dev/null
check "restart-apiserver.sh exits 0 (took $(since "$t0")s)" test $? = 0
check "kube-apiserver has a new pid, etcd the same" test "$(cat "$A/run/kube-apiserver.pid")" != "$old_api" -a "$(cat "$A/run/etcd.pid")" = "$old_etcd"
check "same server URL after restart" test "$(server "$A")" = "$old_port"
check "ConfigMap survivor read back after restart" test "$(K "$A" "$(cm_url "$A")/survivor" | jq -r .data.k)" = v1

echo "== an open watch breaks on restart (A, SIGKILL)"
rv=$(K "$A" "$(cm_url "$A")" | jq -r .metadata.resourceVersion)
t0=$EPOCHREALTIME
( K "$A" -N "$(cm_url "$A")?watch=1&resourceVersion=$rv&timeoutSeconds=60" >/dev/null 2>&1; echo "$? $(since "$t0")" >"$W/watch.rc" ) &
sleep 1
KUBE_RESTART_SIGNAL=KILL "$HACK/restart-apiserver.sh" "$A" 2>/dev/null
wait
read -r wrc wsecs <"$W/watch.rc"
check "the watch ended with a transport error (curl rc $wrc after ${wsecs}s), not a clean end" test "$wrc" != 0
check "watch resumes from its RV when nothing else was written (no 410)" test -z "$(watch_from "$A" "$rv" 1)"

echo "== 410 Expired (A: watch cache on, after restart)"
rv=$(create_cm "$A" before-restart x)
K "$A" -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"metadata":{"name":"other"}}' \
  "$(server "$A")/api/v1/namespaces/default/secrets"
"$HACK/restart-apiserver.sh" "$A" >/dev/null 2>&1
check "watch from an RV older than the restart + another write gets ERROR 410" test "$(watch_from "$A" "$rv" 1 | head -n1)" = "ERROR 410"
rv=$(create_cm "$A" compact-me x)
create_cm "$A" after-compact x >/dev/null
"$HACK/etcd-compact.sh" "$A" >/dev/null
check "watch cache on: compaction alone gives no 410 (events served from the cache)" test "$(watch_from "$A" "$rv" 1)" = "ADDED after-compact"

echo "== 410 Expired (B: --watch-cache=false)"
rv=$(create_cm "$B" b1 x)
create_cm "$B" b2 x >/dev/null
"$HACK/restart-apiserver.sh" "$B" >/dev/null 2>&1
check "watch cache off: watch resumes from an RV older than the restart" test "$(watch_from "$B" "$rv" 1)" = "ADDED b2"
rv2=$(create_cm "$B" b3 x)
t0=$EPOCHREALTIME
rev=$("$HACK/etcd-compact.sh" "$B")
check "etcd-compact.sh compacted to the current revision ($rev = RV of b3)" test "$rev" = "$rv2"
# compacted to R: events before R are gone, so a watch from R-1 (first event R) still works
check "watch cache off: after compaction, a watch from R-1 still works" test "$(watch_from "$B" $((rev - 1)) 1)" = "ADDED b3"
check "watch cache off: after compaction the old RV gets ERROR 410 at once ($(since "$t0")s)" test "$(watch_from "$B" "$rv" 1 | head -n1)" = "ERROR 410"

echo "== down"
for d in "$A" "$B"; do
  p=$(pids "$d") q=$(ports "$d")
  t0=$EPOCHREALTIME
  "$HACK/down.sh" "$d" >/dev/null 2>&1
  check "down.sh ${d##*/} exits 0 ($(since "$t0")s)" test $? = 0
  sleep 0.5
  check "no process, socket or dir left of ${d##*/}" no_leftovers "$d" "$p" "$q"
  "$HACK/down.sh" "$d" >/dev/null 2>&1
  check "down.sh ${d##*/} again exits 0" test $? = 0
done

echo "== failed start-up"
KUBE_APISERVER_ARGS="--no-such-flag" "$HACK/up.sh" "$F" >"$W/f.log" 2>&1
check "up.sh with a bad flag fails" test $? != 0
check "its error shows the API server's complaint" grep -q 'unknown flag: --no-such-flag' "$W/f.log"
check "no process of the failed DIR is left" bash -c "! ps -eo args | grep -F -- '$F/' | grep -v grep | grep -q ."
"$HACK/down.sh" "$F" >/dev/null 2>&1
rc=$?
check "down.sh on the half-started DIR exits 0 (rc $rc) and removes it" test $rc = 0 -a ! -e "$F"

echo "lifecycle_test: $FAILS failure(s)"
[ "$FAILS" = 0 ]

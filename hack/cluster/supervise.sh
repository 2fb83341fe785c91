#!/usr/bin/env bash
# hack/cluster/supervise.sh DIR NAME CMD...: runs CMD and starts it again a second after it
# exits, as the kubelet restarts a crashed container of a Deployment or DaemonSet pod, until
# DIR/run/NAME.stop exists. The running child's pid is in DIR/run/NAME.pid, its output is
# appended to DIR/logs/NAME.log, and every exit is logged there with its status. "{start}" in
# CMD is replaced by the start's number (1, 2, ...): a restarted operator campaigns for the Lease
# under a new identity, as a restarted controller-runtime manager does (host name + random id).
# Started detached by hack/cluster/lib.sh (own session, no inherited descriptors).
set -uo pipefail
DIR=$1 NAME=$2
shift 2
RUN=$DIR/run LOG=$DIR/logs/$NAME.log
child=
start=0
# `down` touches NAME.stop and signals the child; a signal to the supervisor itself is passed on.
trap 'touch "$RUN/$NAME.stop"; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
while [ ! -e "$RUN/$NAME.stop" ]; do
  start=$((start + 1))
  echo "---- $(date -u +%FT%T.%3NZ) supervise: starting $NAME (start $start)" >>"$LOG"
  "${@//\{start\}/$start}" </dev/null >>"$LOG" 2>&1 &
  child=$!
  echo "$child" >"$RUN/$NAME.pid"
  rc=0
  while true; do  # wait returns early when a trapped signal arrives
    wait "$child"
    rc=$?
    kill -0 "$child" 2>/dev/null || break
  done
  echo "---- $(date -u +%FT%T.%3NZ) supervise: $NAME exited with status $rc" >>"$LOG"
  child=
  [ -e "$RUN/$NAME.stop" ] && break
  sleep 1
done
rm -f "$RUN/$NAME.pid"

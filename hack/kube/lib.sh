# hack/kube/lib.sh - helpers shared by up.sh, restart-apiserver.sh, down.sh and etcd-compact.sh.
# Sourced, never run. Callers set: DIR (absolute state dir) and PROG (prefix for messages).
# shellcheck shell=bash

# shellcheck disable=SC2034  # used by the scripts that source this file
KUBE_CACHE_DIR=${KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-1.20.2}
KUBE_APISERVER=${KUBE_APISERVER_BIN:-$KUBE_CACHE_DIR/bin/kube-apiserver}
KUBE_ETCD=${ETCD_BIN:-/usr/bin/etcd}
# Port claims: one file per claimed port holding the owning DIR, shared by every instance of this
# user on the machine, so concurrently started instances never pick the same port.
KUBE_PORT_DIR=${TMPDIR:-/tmp}/kube-up-ports-$(id -u)
# Marker that makes a directory "ours": down.sh refuses to delete a directory without it.
# shellcheck disable=SC2034
KUBE_MARKER=.kube-up

die() { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }
note() { printf '%s: %s\n' "$PROG" "$*" >&2; }
now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }
secs() { local d=$((($2 - $1) / 10000)); printf '%d.%02d' $((d / 100)) $((d % 100)); }

# ------------------------------------------------------------------ ports
# Every TCP port any socket on this host uses (listening, established, TIME-WAIT...).
used_ports() {
  local _ l _r f
  for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] || continue
    while read -r _ l _r; do
      if [[ "$l" == *:* ]]; then echo $((16#${l##*:})); fi
    done <"$f"
  done
  return 0
}
port_in_use() { used_ports | grep -x -- "$1" >/dev/null; }

# claim_ports N: picks N ports in KUBE_PORT_RANGE (default 20000-32000, below the kernel's
# ephemeral range so outgoing connections never hold them) that no socket uses and no other
# instance has claimed; sets PICKED and appends to CLAIMED. Claims older than 10 min are stale.
CLAIMED=()
claim_ports() {
  local n=$1 p tries=0 range=${KUBE_PORT_RANGE:-20000-32000}
  local -A used=()
  [[ "$range" =~ ^([0-9]+)-([0-9]+)$ ]] || die "KUBE_PORT_RANGE must look like 20000-32000"
  local pmin=${BASH_REMATCH[1]} pmax=${BASH_REMATCH[2]}
  PICKED=()
  mkdir -p "$KUBE_PORT_DIR"
  exec 7>"$KUBE_PORT_DIR/lock"
  flock -w 30 7 || die "could not lock $KUBE_PORT_DIR/lock"
  find "$KUBE_PORT_DIR" -maxdepth 1 -name 'claim.*' -mmin +10 -delete 2>/dev/null || true
  while read -r p; do used[$p]=1; done < <(used_ports)
  while [ ${#PICKED[@]} -lt "$n" ]; do
    tries=$((tries + 1))
    [ $tries -lt 5000 ] || { exec 7>&-; die "no free port found in $range"; }
    p=$((pmin + (((RANDOM << 15) | RANDOM) % (pmax - pmin + 1))))
    [ -z "${used[$p]:-}" ] || continue
    [ -e "$KUBE_PORT_DIR/claim.$p" ] && continue
    used[$p]=1
    echo "$DIR" >"$KUBE_PORT_DIR/claim.$p"
    PICKED+=("$p")
    CLAIMED+=("$p")
  done
  exec 7>&-
}
# claim_port_exact PORT: claims a known port (restart keeps the API server's port) so no other
# instance picks it while it is briefly unbound.
claim_port_exact() {
  mkdir -p "$KUBE_PORT_DIR"
  exec 7>"$KUBE_PORT_DIR/lock"
  flock -w 30 7 || die "could not lock $KUBE_PORT_DIR/lock"
  echo "$DIR" >"$KUBE_PORT_DIR/claim.$1"
  CLAIMED+=("$1")
  exec 7>&-
}
release_claims() {
  local p
  for p in "${CLAIMED[@]}"; do rm -f "$KUBE_PORT_DIR/claim.$p"; done
  CLAIMED=()
}

# ------------------------------------------------------------------ processes
# spawn NAME CMD...: start detached in its own session, stdin from /dev/null, stdout+stderr
# appended to DIR/logs/NAME.log, every other inherited fd closed (so CTest or $(...) never
# waits on it); writes DIR/run/NAME.pid.
spawn() {
  local name=$1
  shift
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec setsid "$@" </dev/null >>"$DIR/logs/$name.log" 2>&1
  ) &
  echo "$!" >"$DIR/run/$name.pid"
}
# gone PID: not running (or a zombie not yet reaped; PID 1 here reaps lazily).
gone() {
  local st
  [ -r "/proc/$1/stat" ] || return 0
  st=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 0
  [ "$st" = Z ] || [ "$st" = X ]
}
# ours NAME PID: PID is the NAME binary started for DIR (argv[0] basename + DIR in its argv).
ours() {
  local argv0
  [ -r "/proc/$2/cmdline" ] || return 1
  argv0=$(tr '\0' '\n' <"/proc/$2/cmdline" 2>/dev/null | head -n1 || true)
  [ "$(basename -- "${argv0:-?}")" = "$1" ] || return 1
  tr '\0' '\n' <"/proc/$2/cmdline" 2>/dev/null | grep -F -- "$DIR/" >/dev/null
}
pid_of() { [ -s "$DIR/run/$1.pid" ] && cat "$DIR/run/$1.pid"; }
running() { local pid; pid=$(pid_of "$1") && ! gone "$pid" && ours "$1" "$pid"; }
# started NAME: the process spawn started for NAME has not exited. Unlike `running`, true also
# in the moment between spawn's fork and its exec, when /proc/PID/cmdline is still bash's.
started() { local pid; pid=$(pid_of "$1") && ! gone "$pid"; }

# stop NAME [SIGNAL [GRACE]]: send SIGNAL (default TERM) to the NAME process of DIR, SIGKILL it
# after GRACE s (default KUBE_DOWN_TIMEOUT, 15), only if /proc/PID/cmdline proves it is ours.
# Returns 1 if it could not be stopped.
stop() {
  local name=$1 sig=${2:-TERM} grace=${3:-${KUBE_DOWN_TIMEOUT:-15}} f=$DIR/run/$1.pid pid i
  [[ "$grace" =~ ^[0-9]+$ ]] || die "grace period must be whole seconds, got '$grace'"
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if ! [[ "$pid" =~ ^[0-9]+$ ]] || gone "$pid"; then rm -f "$f"; return 0; fi
  if ! ours "$name" "$pid"; then
    note "$name: pid $pid is not the $name started for $DIR; leaving it alone"
    rm -f "$f"
    return 0
  fi
  kill -"$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 20; i++)); do gone "$pid" && break; sleep 0.05; done
  if ! gone "$pid"; then
    note "$name (pid $pid) still running ${grace}s after SIG$sig; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do gone "$pid" && break; sleep 0.05; done
  fi
  if gone "$pid"; then
    note "stopped $name (pid $pid)"
    rm -f "$f"
    return 0
  fi
  note "could not stop $name (pid $pid)"
  return 1
}
log_tail() { # NAME: last lines of its log, indented
  echo "$PROG: last lines of $DIR/logs/$1.log:" >&2
  tail -n 20 "$DIR/logs/$1.log" 2>/dev/null | sed 's/^/    /' >&2
}

# ------------------------------------------------------------------ kube-apiserver
apiserver_ready() { # SERVER: /readyz says ok (admin client cert)
  [ "$(curl -sS --max-time 5 --cacert "$DIR/pki/ca.crt" --cert "$DIR/pki/admin.crt" \
        --key "$DIR/pki/admin.key" "$1/readyz" 2>/dev/null)" = ok ]
}
# start_apiserver PORT DEADLINE_US: spawns kube-apiserver with the argv saved in
# DIR/run/kube-apiserver.args (one argument per line) and waits for /readyz.
# Returns 0 ready, 2 "address already in use", 1 other failure (log tail printed).
start_apiserver() {
  local port=$1 deadline=$2 args=()
  mapfile -t args <"$DIR/run/kube-apiserver.args"
  echo "---- $(date -u +%FT%TZ) $PROG: starting kube-apiserver on port $port" >>"$DIR/logs/kube-apiserver.log"
  local mark
  mark=$(wc -l <"$DIR/logs/kube-apiserver.log")
  spawn kube-apiserver "${args[@]}"
  while [ "$(now_us)" -lt "$deadline" ]; do
    apiserver_ready "https://127.0.0.1:$port" && return 0
    started kube-apiserver || break
    sleep 0.1
  done
  if ! started kube-apiserver &&
     tail -n +"$((mark + 1))" "$DIR/logs/kube-apiserver.log" | grep 'address already in use' >/dev/null; then
    return 2
  fi
  if started kube-apiserver; then
    note "kube-apiserver did not answer ok on https://127.0.0.1:$port/readyz in time"
  else
    note "kube-apiserver exited during start-up"
  fi
  log_tail kube-apiserver
  return 1
}

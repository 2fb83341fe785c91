#!/usr/bin/env bash
# One real-migration scenario in the lab (hack/lab/lab.sh; the ctest fixture brings it up).
#   tests/lab/scenario.sh NAME PATH/TO/ferry-handler
# NAME: precopy_quiet auto_postcopy_hot postcopy_forbidden_timeout cancel dest_killed cold attach
#       storage_copy cold_storage postcopy_recovery
# ferry-handler runs inside node A's network namespace (as it would on node A) and reaches
# B's libvirtd over the lab link; this script only talks to the daemons through lab.sh.
set -euo pipefail
NAME=${1:?scenario}
H=${2:-${FERRY_HANDLER:-}}
[ -x "$H" ] || { echo "ferry-handler binary not given or not executable: '$H'" >&2; exit 2; }
L=$(cd "$(dirname "$0")/../.." && pwd)/hack/lab/lab.sh
VM=$($L vm)
SRC=$($L uri A)
DST=$($L peer-uri B)
OUT=$(mktemp /tmp/ferry-lab-scenario.XXXXXX)
trap 'rm -f "$OUT"' EXIT

fail() { echo "FAIL [$NAME]: $*" >&2; echo "--- ferry-handler output:" >&2; cat "$OUT" >&2; $L status >&2 || true; exit 1; }
pass() { echo "ok   [$NAME]: $*"; }
field() { grep '^RESULT ' "$OUT" | tail -1 | sed 's/^RESULT //' | jq -r "$1"; }
state() { $L virsh "$1" domstate "$VM" 2>/dev/null | head -1 || true; }
hb() { $L hb "$1" | cut -d' ' -f1; }
errs() { $L hb "$1" | cut -d' ' -f2; }
has() {  # node all|running: whether the node lists the guest (captured first: no SIGPIPE races)
  local l; if [ "$2" = all ]; then l=$($L virsh "$1" list --all --name); else l=$($L virsh "$1" list --name); fi
  grep -qx "$VM" <<<"$l"
}

migrate() {  # args -> runs ferry-handler, output in $OUT, sets RC
  RC=0
  $L run A "$H" migrate "$VM" --from "$SRC" --to "$DST" "$@" > "$OUT" 2>&1 || RC=$?
  cat "$OUT"
}
migrate_bg() {  # like migrate, in the background; sets PID
  $L run A "$H" migrate "$VM" --from "$SRC" --to "$DST" "$@" > "$OUT" 2>&1 &
  PID=$!
}
wait_output() {  # PATTERN SECONDS WHAT: wait until ferry-handler printed PATTERN, else fail
  local i; for i in $(seq 1 $(($2 * 5))); do grep -q "$1" "$OUT" 2>/dev/null && return 0; sleep 0.2; done
  fail "$3 in $2 s"
}
wait_progress() { wait_output 'iteration=1' 30 "migration made no progress"; }
wait_postcopy() { wait_output 'action SwitchToPostCopy' 90 "no switch to post-copy"; }

expect_on_b() {  # the guest runs on B, is gone from A, and its heartbeat continued
  local before=$1
  [ "$(state B)" = running ] || fail "guest not running on B (state '$(state B)')"
  has A all && fail "guest still defined on A"
  sleep 2
  local after; after=$(hb B)
  [ -n "$after" ] || fail "no heartbeat on B"
  [ "$after" -gt "$before" ] || fail "heartbeat on B ($after) did not continue from A's ($before)"
  [ "$(errs B)" = 0 ] || fail "guest reports memory corruption on B: errs=$(errs B)"
  grep -q '^Persistent: *yes' <<<"$($L virsh B dominfo "$VM")" || fail "guest not persistent on B"
  pass "guest runs on B (heartbeat $before on A -> $after on B, errs=0), gone from A"
}
expect_on_a() {
  [ "$(state A)" = running ] || fail "guest not running on A (state '$(state A)')"
  has B running && fail "guest running on B too"
  local h1 h2; h1=$(hb A); sleep 1.5; h2=$(hb A)
  [ "$h2" -gt "$h1" ] || fail "heartbeat on A stopped ($h1 -> $h2)"
  [ "$(field .guest)" = source ] || fail "result says guest is '$(field .guest)', want source"
  pass "guest still running on A (heartbeat $h1 -> $h2)"
}

case "$NAME" in
  precopy_quiet)
    $L boot 256 32 2
    sleep 1; before=$(hb A)
    migrate
    [ "$RC" = 0 ] || fail "exit code $RC"
    [ "$(field .outcome)" = Succeeded ] || fail "outcome $(field .outcome)"
    [ "$(field .mode)" = precopy ] || fail "mode $(field .mode), want precopy"
    [ "$(field .downtime_ms)" != null ] || fail "no downtime reported"
    expect_on_b "$before"
    ;;
  auto_postcopy_hot)
    # 96 MiB/s dirtied vs a 32 MiB/s link: pre-copy cannot converge.
    $L boot 256 128 96
    sleep 1; before=$(hb A)
    migrate --bandwidth 32
    [ "$RC" = 0 ] || fail "exit code $RC"
    [ "$(field .mode)" = postcopy ] || fail "mode $(field .mode), want postcopy"
    [ "$(field '[.actions[].kind] | index("SwitchToPostCopy") != null')" = true ] || fail "no SwitchToPostCopy action"
    pass "switched: $(field '.actions[] | select(.kind=="SwitchToPostCopy") | "at \(.at_ms) ms: \(.reason)"')"
    expect_on_b "$before"
    ;;
  postcopy_forbidden_timeout)
    # Same hot guest, post-copy forbidden, timeout 80 s/GiB x 0.25 GiB = 20 s.
    $L boot 256 128 96
    migrate --bandwidth 32 --no-postcopy --timeout-per-gib 80
    [ "$RC" = 1 ] || fail "exit code $RC, want 1"
    [ "$(field .outcome)" = Aborted ] || fail "outcome $(field .outcome), want Aborted"
    t=$(field '.actions[] | select(.kind=="Abort") | .at_ms')
    [ -n "$t" ] && [ "$t" -ge 20000 ] && [ "$t" -lt 23000 ] || fail "abort at '$t' ms, want at the 20 s timeout"
    [ "$(field '[.actions[].kind] | index("SwitchToPostCopy") == null')" = true ] || fail "switched to post-copy although forbidden"
    pass "aborted at $t ms: $(field .reason)"
    expect_on_a
    ;;
  cancel)
    $L boot 256 64 0
    migrate_bg --bandwidth 8
    wait_progress; sleep 1
    kill -INT "$PID"
    RC=0; wait "$PID" || RC=$?
    cat "$OUT"
    [ "$RC" = 1 ] || fail "exit code $RC, want 1"
    [ "$(field .outcome)" = Cancelled ] || fail "outcome $(field .outcome), want Cancelled"
    grep -q 'cancel requested' "$OUT" || fail "signal not turned into a cancel"
    expect_on_a
    ;;
  dest_killed)
    trap '$L start-daemon B >/dev/null 2>&1 || true; rm -f "$OUT"' EXIT
    $L boot 256 64 0
    migrate_bg --bandwidth 8
    wait_progress; sleep 1
    $L kill-daemon B
    RC=0; wait "$PID" || RC=$?
    cat "$OUT"
    [ "$RC" = 1 ] || fail "exit code $RC, want 1"
    [ "$(field .outcome)" = Failed ] || fail "outcome $(field .outcome), want Failed"
    reason=$(field .reason)
    grep -qi 'destination\|connection' <<<"$reason" || fail "reason does not say what happened: $reason"
    pass "reason: $reason"
    $L start-daemon B
    expect_on_a
    ;;
  cold)
    $L define 256 32 2
    migrate --offline
    [ "$RC" = 0 ] || fail "exit code $RC"
    [ "$(field .mode)" = offline ] || fail "mode $(field .mode), want offline"
    [ "$(field .downtime_ms)" != null ] || fail "no downtime reported"
    [ "$(state B)" = running ] || fail "guest not running on B"
    has A all && fail "guest still defined on A"
    for i in $(seq 1 150); do [ -n "$(hb B)" ] && break; sleep 0.2; done
    [ -n "$(hb B)" ] || fail "guest booted on B printed no heartbeat"
    pass "stopped guest moved and started on B (downtime $(field .downtime_ms) ms, heartbeat $(hb B))"
    ;;
  attach)
    # A migration job is already running (started elsewhere, e.g. by a handler that then
    # restarted): ferry-handler must adopt it, not start a second one.
    $L boot 256 64 0
    sleep 1; before=$(hb A)
    $L run A virsh -q -c "$SRC" migrate --live --p2p --persistent --undefinesource --bandwidth 8 "$VM" "$DST" &
    vpid=$!
    for i in $(seq 1 100); do grep -q 'Unbounded' <<<"$($L virsh A domjobinfo "$VM" 2>/dev/null)" && break; sleep 0.2; done
    migrate
    wait "$vpid" || fail "the adopted virsh migration failed"
    [ "$RC" = 0 ] || fail "exit code $RC"
    [ "$(field .attached)" = true ] || fail "did not attach"
    [ "$(field '.actions[0].kind')" = Attach ] || fail "first action is not Attach"
    pass "attached: $(field '.actions[0].reason')"
    expect_on_b "$before"
    ;;
  storage_copy)
    # A local disk copied during live migration (VIR_MIGRATE_NON_SHARED_DISK, NBD).
    export FERRY_LAB_DISK_MIB=32
    $L boot 256 32 2
    marker="ferry-disk-marker-$RANDOM$RANDOM"
    printf '%s' "$marker" | dd of="$($L disk-path A)" bs=1 seek=1048576 conv=notrunc status=none
    sleep 1; before=$(hb A)
    migrate --copy-storage
    [ "$RC" = 0 ] || fail "exit code $RC"
    grep -qa "$marker" "$($L disk-path B)" || fail "the disk's data did not reach B"
    pass "disk copied: marker found in B's image"
    expect_on_b "$before"
    ;;
  cold_storage)
    # A stopped guest with a local disk: libvirt refuses offline + NON_SHARED_DISK, so the
    # engine copies the disk through the guest started paused (never run) and boots it on B.
    export FERRY_LAB_DISK_MIB=32
    $L define 256 32 2
    marker="ferry-disk-marker-$RANDOM$RANDOM"
    printf '%s' "$marker" | dd of="$($L disk-path A)" bs=1 seek=1048576 conv=notrunc status=none
    migrate --offline --copy-storage
    [ "$RC" = 0 ] || fail "exit code $RC"
    [ "$(field .mode)" = offline ] || fail "mode $(field .mode), want offline"
    grep -qa "$marker" "$($L disk-path B)" || fail "the disk's data did not reach B"
    [ "$(state B)" = running ] || fail "guest not running on B"
    has A all && fail "guest still defined on A"
    for i in $(seq 1 150); do [ -n "$(hb B)" ] && break; sleep 0.2; done
    [ -n "$(hb B)" ] || fail "guest booted on B printed no heartbeat"
    pass "stopped guest and its disk moved, started on B (marker found, downtime $(field .downtime_ms) ms, heartbeat $(hb B))"
    ;;
  postcopy_recovery)
    # In post-copy the link between the nodes fails: both migration sockets die and the link
    # stays down for 4 s. The guest now runs on B with part of its memory still on A, so it
    # cannot go back; the engine must resume the migration (VIR_MIGRATE_POSTCOPY_RESUME) once
    # the link is back, and the guest must come through with its memory intact.
    trap '$L link up >/dev/null 2>&1 || true; rm -f "$OUT"' EXIT
    $L boot 256 128 96
    sleep 1; before=$(hb A)
    migrate_bg --mode postcopy --bandwidth 16
    wait_postcopy; sleep 1
    $L link down
    $L cut-migration
    sleep 4
    $L link up
    RC=0; wait "$PID" || RC=$?
    cat "$OUT"
    [ "$RC" = 0 ] || fail "exit code $RC"
    [ "$(field .outcome)" = Succeeded ] || fail "outcome $(field .outcome)"
    [ "$(field .mode)" = postcopy ] || fail "mode $(field .mode), want postcopy"
    grep -q 'failed after the post-copy switch' "$OUT" || fail "the cut did not break the migration"
    ok=$(field '[.actions[] | select(.kind=="PostCopyRecovery" and .ok)] | length')
    [ "$ok" = 1 ] || fail "want exactly one successful PostCopyRecovery action, got $ok"
    pass "recovered: $(field '[.actions[] | select(.kind=="PostCopyRecovery")] | map("at \(.at_ms) ms: \(.reason)") | join("; ")')"
    expect_on_b "$before"
    ;;
  *) echo "unknown scenario $NAME" >&2; exit 2 ;;
esac

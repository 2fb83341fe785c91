#!/usr/bin/env bash
# One real-migration scenario in the lab (hack/lab/lab.sh; the ctest fixture brings it up).
#   tests/lab/scenario.sh NAME PATH/TO/ferry-handler
# NAME: precopy_quiet auto_postcopy_hot postcopy_forbidden_timeout cancel dest_killed cold attach
#       storage_copy cold_storage postcopy_recovery link_loss_precopy postcopy_refused_attach
#       handler_killed_postcopy downtime_steps auto_converge tls tls_refused auto_premeasured_hot
# ferry-handler runs in the host namespace, as Ferry's handlers do in the local cluster: every
# connection it opens itself is a unix socket (A's libvirtd, and B's for the target's health,
# state and cold start). Only libvirtd and QEMU use the lab network (A's daemon dials
# B's, qemu+tcp:// or qemu+tls://, from inside node A's namespace). The blackhole is proven
# before every scenario: a TCP connection from here to a lab address would fail.
set -euo pipefail
NAME=${1:?scenario}
H=${2:-${FERRY_HANDLER:-}}
[ -x "$H" ] || { echo "ferry-handler binary not given or not executable: '$H'" >&2; exit 2; }
L=$(cd "$(dirname "$0")/../.." && pwd)/hack/lab/lab.sh
VM=$($L vm)
SRC=$($L uri A)
DST=$($L peer-uri B)
TGT=$($L uri B)  # the handler's own connection to the target: its unix socket
OUT=$(mktemp /tmp/ferry-lab-scenario.XXXXXX)
trap 'rm -f "$OUT"' EXIT
$L check-blackhole
# A scenario killed mid-way (a CTest timeout) cannot run its trap: never start on a dead link.
$L link up >/dev/null 2>&1 || true

fail() {
  echo "FAIL [$NAME]: $*" >&2
  { echo "--- ferry-handler output:"; cat "$OUT"; $L status; } >&2 || true
  echo "FAIL [$NAME] (again, after the state above): $*" >&2
  exit 1
}
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
  "$H" migrate "$VM" --from "$SRC" --to "$DST" --to-client "$TGT" "$@" > "$OUT" 2>&1 || RC=$?
  cat "$OUT"
}
migrate_bg() {  # like migrate, in the background; sets PID
  "$H" migrate "$VM" --from "$SRC" --to "$DST" --to-client "$TGT" "$@" > "$OUT" 2>&1 &
  PID=$!
}
count() { field "[.actions[] | select($1)] | length"; }
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
expect_on_a() {  # the guest runs on A with its memory intact, and B kept nothing
  [ "$(state A)" = running ] || fail "guest not running on A (state '$(state A)')"
  local i; for i in $(seq 1 75); do has B all || break; sleep 0.2; done  # B's cleanup
  has B all && fail "B kept the guest (state '$(state B)')"
  local h1 h2; h1=$(hb A); sleep 1.5; h2=$(hb A)
  [ "$h2" -gt "$h1" ] || fail "heartbeat on A stopped ($h1 -> $h2)"
  [ "$(errs A)" = 0 ] || fail "guest reports memory corruption on A: errs=$(errs A)"
  [ "$(field .guest)" = source ] || fail "result says guest is '$(field .guest)', want source"
  pass "guest still running on A (heartbeat $h1 -> $h2, errs=0), nothing left on B"
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
    # 96 MiB/s dirtied vs a 32 MiB/s link: pre-copy cannot converge. Without the dirty-rate
    # measurement (auto_premeasured_hot has it): the policy sees it during pre-copy.
    $L boot 256 128 96
    sleep 1; before=$(hb A)
    migrate --bandwidth 32 --no-premeasure
    [ "$RC" = 0 ] || fail "exit code $RC"
    [ "$(field .mode)" = postcopy ] || fail "mode $(field .mode), want postcopy"
    [ "$(field '[.actions[].kind] | index("SwitchToPostCopy") != null')" = true ] || fail "no SwitchToPostCopy action"
    pass "switched: $(field '.actions[] | select(.kind=="SwitchToPostCopy") | "at \(.at_ms) ms: \(.reason)"')"
    expect_on_b "$before"
    ;;
  auto_premeasured_hot)
    # The same hot guest, Auto with its default 2 s dirty-rate measurement: the measured rate
    # sends it to post-copy first, switched within the first pass (not after it, ~6 s at
    # 32 MiB/s), every page sent about once.
    $L boot 256 128 96
    sleep 1; before=$(hb A)
    migrate --bandwidth 32
    [ "$RC" = 0 ] || fail "exit code $RC"
    [ "$(field .outcome)" = Succeeded ] || fail "outcome $(field .outcome)"
    [ "$(field .mode)" = postcopy ] || fail "mode $(field .mode), want postcopy"
    start=$(field '[.actions[] | select(.kind=="StartDecision")][0].reason // ""')
    [[ "$start" == postcopy-first:* ]] || fail "start decision '$start', want postcopy-first"
    grep -Eq 'dirty rate [0-9.]+ MiB/s measured over 2.0 s' <<<"$start" || fail "no measured rate in '$start'"
    [ "$(field '[.actions[].kind][0]')" = StartDecision ] || fail "StartDecision is not the first action"
    sw=$(field '[.actions[] | select(.kind=="SwitchToPostCopy" and .ok)][0]')
    [ "$sw" != null ] || fail "no accepted SwitchToPostCopy"
    at=$(jq -r .at_ms <<<"$sw")
    [ "$at" -lt 3000 ] || fail "switched at $at ms, want within the first pass (< 3 s)"
    jq -r .reason <<<"$sw" | grep -q 'post-copy first' || fail "switch reason: $(jq -r .reason <<<"$sw")"
    sent=$(field .bytes_sent) ram=$(field .memory_bytes)
    [ "$sent" -le $(( ram * 105 / 100 )) ] || fail "sent $sent bytes, more than 1.05 x RAM ($ram)"
    pass "$start; switched at $at ms; sent $(( sent / 1048576 )) MiB of $(( ram / 1048576 )) MiB RAM"
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
  link_loss_precopy)
    # The link between the nodes fails during pre-copy and stays down: no bytes flow, so the
    # policy must never switch to post-copy (the target's libvirtd is alive all along: the
    # handler's own probe of B says so); the job fails, the guest stays on A.
    trap '$L link up >/dev/null 2>&1 || true; rm -f "$OUT"' EXIT
    $L boot 256 128 96
    # --no-premeasure: a guest this hot would start post-copy first and be in post-copy before
    # the link fails; this scenario is about the pre-copy phase (lab_postcopy_recovery covers
    # a link lost in post-copy).
    migrate_bg --bandwidth 32 --timeout-per-gib 60 --no-premeasure
    wait_progress; sleep 2
    $L link down
    RC=0; wait "$PID" || RC=$?
    $L link up
    cat "$OUT"
    [ "$RC" = 1 ] || fail "exit code $RC, want 1"
    grep -qx 'Failed\|Aborted' <<<"$(field .outcome)" || fail "outcome $(field .outcome), want Failed or Aborted"
    [ "$(count '.kind=="SwitchToPostCopy"')" = 0 ] || fail "a post-copy switch was proposed over a dead link"
    pass "$(field .outcome): $(field .reason)"
    expect_on_a
    ;;
  postcopy_refused_attach)
    # A hot guest's migration started without VIR_MIGRATE_POSTCOPY (plain virsh), adopted by
    # ferry-handler (Auto): libvirt refuses the switch; the policy must learn that and still
    # abort at the completion timeout (64 s/GiB x 0.25 GiB = 16 s of the job's time).
    $L boot 256 128 96
    $L run A virsh -q -c "$SRC" migrate --live --p2p --persistent --undefinesource --bandwidth 32 "$VM" "$DST" \
      > /dev/null 2>&1 &
    vpid=$!
    for i in $(seq 1 100); do grep -q 'Unbounded' <<<"$($L virsh A domjobinfo "$VM" 2>/dev/null)" && break; sleep 0.2; done
    migrate --timeout-per-gib 64
    wait "$vpid" && fail "the adopted migration succeeded although aborted"
    [ "$RC" = 1 ] || fail "exit code $RC, want 1"
    [ "$(field .attached)" = true ] || fail "did not attach"
    [ "$(field .outcome)" = Aborted ] || fail "outcome $(field .outcome), want Aborted"
    refused=$(count '.kind=="SwitchToPostCopy" and (.ok|not)')
    [ "$refused" -ge 1 ] || fail "no refused switch: the scenario did not test the refusal"
    [ "$(count '.kind=="SwitchToPostCopy" and .ok')" = 0 ] || fail "switched although the job was not armed"
    t=$(field '[.actions[] | select(.kind=="Abort")][0].at_ms')
    [ "$t" -ge 16000 ] && [ "$t" -lt 19000 ] || fail "abort at '$t' ms, want at the 16 s timeout"
    pass "$refused refused switch(es), then aborted at $t ms: $(field '[.actions[] | select(.kind=="SwitchToPostCopy")][0].reason')"
    expect_on_a
    ;;
  handler_killed_postcopy)
    # ferry-handler is SIGKILLed in post-copy; started again with the same command it must
    # find the job (or its broken remains), follow or recover it to the end, and say so.
    $L boot 256 128 96
    sleep 1; before=$(hb A)
    migrate_bg --mode postcopy --bandwidth 32
    wait_postcopy; sleep 1
    kill -9 "$PID"; wait "$PID" 2>/dev/null || true
    echo "--- first handler (killed):"; cat "$OUT"
    migrate --mode postcopy --bandwidth 32
    [ "$RC" = 0 ] || fail "exit code $RC of the restarted handler"
    [ "$(field .outcome)" = Succeeded ] || fail "outcome $(field .outcome)"
    [ "$(field .attached)" = true ] || fail "the restarted handler did not attach"
    [ "$(field '.actions[0].kind')" = Attach ] || fail "first action is not Attach"
    [ "$(count '.kind=="SetMaxDowntime"')" = 0 ] || fail "the restarted handler started a second migration"
    pass "restarted handler: $(field '.actions[0].reason')"
    expect_on_b "$before"
    ;;
  downtime_steps)
    # A small, very hot working set (6 MiB rewritten at 64 MiB/s) over a 32 MiB/s link: every
    # pass leaves ~6 MiB = ~190 ms of transfer, more than the initial 75 ms. Pre-copy only,
    # no auto-converge: the policy must step max downtime up (75 -> 150 -> 300 ms) to finish.
    $L boot 256 6 64
    sleep 1; before=$(hb A)
    migrate --bandwidth 32 --mode precopy --no-auto-converge
    [ "$RC" = 0 ] || fail "exit code $RC"
    raises=$(count '.kind=="SetMaxDowntime" and .at_ms > 0 and .ok')
    [ "$raises" -ge 1 ] || fail "no downtime step taken"
    last=$(field '[.actions[] | select(.kind=="SetMaxDowntime")] | last | .at_ms')
    [ "$(field .total_ms)" -gt "$last" ] || fail "completed before the last step"
    pass "$raises downtime step(s): $(field '[.actions[] | select(.kind=="SetMaxDowntime" and .at_ms > 0)] | map("at \(.at_ms) ms: \(.reason)") | join("; ")')"
    expect_on_b "$before"
    ;;
  auto_converge)
    # Dirtying twice the link, pre-copy only: QEMU's auto-converge must engage (reported as
    # AutoConvergeEngaged) and keep raising the throttle (20 % then +10 % per pass) while the
    # guest still dirties too fast. The dirtier is timer-driven and mostly idle, so its own
    # rate (heartbeat) falls only past ~67 % (printed, not required). Completes, or aborts at
    # 15 s.
    $L boot 256 32 64
    sleep 1; before=$(hb A)
    migrate --bandwidth 32 --mode precopy --timeout-per-gib 60
    [ "$(count '.kind=="AutoConvergeEngaged"')" = 1 ] || fail "auto-converge not reported"
    throttle=$(grep -o 'throttle=[0-9]*' "$OUT" | cut -d= -f2 | sort -n | tail -1)
    [ "$throttle" -ge 30 ] || fail "the throttle stayed at ${throttle} %: QEMU did not drive it"
    lowest=$(grep -a 'lab: hb=' "$($L serial A)" | sed -E 's/.*rate=([0-9]+).*/\1/' | sort -n | head -1)
    pass "auto-converge: $(field '.actions[] | select(.kind=="AutoConvergeEngaged") | .reason'); throttle up to $throttle %; the guest's own dirty rate at least $lowest MiB/s (asked 64); outcome $(field .outcome)"
    case "$(field .outcome)" in
      Succeeded) expect_on_b "$before" ;;
      Aborted) expect_on_a ;;
      *) fail "outcome $(field .outcome)" ;;
    esac
    ;;
  tls)
    # Private lab CA: libvirtd's peer-to-peer connection over qemu+tls:// and QEMU's stream
    # with VIR_MIGRATE_TLS. --tls is left at auto: on because A has its certificates.
    $L boot 256 32 2
    sleep 1; before=$(hb A)
    migrate --to "$($L peer-uri-tls B A)" --tls-dir "$($L tls-dir A)"
    [ "$RC" = 0 ] || fail "exit code $RC"
    [ "$(field .tls)" = true ] || fail "not migrated over TLS"
    grep -q ' tls$' <<<"$(grep 'migrating ' "$OUT")" || fail "the start line does not say tls"
    pass "migrated over TLS in $(field .total_ms) ms (downtime $(field .downtime_ms) ms)"
    expect_on_b "$before"
    ;;
  tls_refused)
    # A target without migration certificates: libvirt refuses, the engine says why, the guest
    # stays on A. And a source without them is refused before anything starts.
    trap '$L tls-restore B >/dev/null 2>&1 || true; rm -f "$OUT"' EXIT
    $L boot 256 32 2
    $L tls-remove B
    migrate --to "$($L peer-uri-tls B A)" --tls-dir "$($L tls-dir A)"
    [ "$RC" = 1 ] || fail "exit code $RC, want 1"
    [ "$(field .outcome)" = Failed ] || fail "outcome $(field .outcome), want Failed"
    reason=$(field .reason)
    grep -qi 'certificate' <<<"$reason" || fail "reason does not name the certificates: $reason"
    pass "target without certificates: $reason"
    expect_on_a
    migrate --to "$($L peer-uri-tls B A)" --tls on --tls-dir /nonexistent-ferry-pki
    [ "$RC" = 2 ] || fail "exit code $RC, want 2 (refused before starting)"
    grep -q 'missing in /nonexistent-ferry-pki' "$OUT" || fail "source refusal does not name the missing files"
    pass "source without certificates: $(field .reason)"
    ;;
  *) echo "unknown scenario $NAME" >&2; exit 2 ;;
esac

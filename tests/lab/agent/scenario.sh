#!/usr/bin/env bash
# tests/lab/agent/scenario.sh NAME: one node-agent scenario against the lab's two nodes, the
# handlers of tests/lab/agent/handlers.sh and a real kube-apiserver (run through
# hack/kube/with-env.sh). NAME: boot migrate postcopy cancel target_killed source_restart
# storage_copy cold.
# Each scenario boots its own guest (128-256 MiB, kernel boot) and deletes its VM at the end,
# which must remove its domain from the node.
set -euo pipefail
SCENARIO=${1:?scenario}
. "$(dirname "$0")/lib.sh"

QUIET='"mode":"Auto","allowPostCopy":false,"allowAutoConverge":false,"maxDowntime":"300ms","completionTimeoutPerGiB":"600s"'

wait_running_with_progress() {  # VMM: phase Running and bytes moving
  wait_for 60 "$1 Running" is Running vmm_phase "$1"
  wait_for 30 "$1 progress" bash -c "[ \"\$(kubectl get vmm -n $NS $1 -o jsonpath='{.status.progress.processedBytes}')\" -gt 0 ] 2>/dev/null"
}

guest_runs_on() {  # A|B NAME: running there, heartbeat advancing, no memory corruption
  [ "$(domain_state "$1" "$2")" = running ] || fail "$2 not running on $1 ($(domain_state "$1" "$2"))"
  local h1 h2
  h1=$(hb "$1" "$2")
  sleep 1.5
  h2=$(hb "$1" "$2")
  [ -n "$h2" ] && [ "$h2" -gt "${h1:-0}" ] || fail "$2's heartbeat on $1 did not advance ($h1 -> $h2)"
  # The serial log is read while the guest writes it: a line caught half-written is read again.
  local e
  e=$(errs "$1" "$2")
  [ "$e" = 0 ] || { sleep 0.5; e=$(errs "$1" "$2"); }
  [ "$e" = 0 ] || fail "$2 reports memory corruption on $1: errs=$e"
}

case "$SCENARIO" in
  boot)
    boot_vm boot-1 A 128 16 1
    uid=$(jpath vm boot-1 '{.metadata.uid}')
    [ "$(jpath vm boot-1 '{.status.domainUUID}')" = "$uid" ] || fail "domainUUID is not the VM's uid"
    [ "$(jpath vm boot-1 '{.status.firstBoot.nodeName}')" = lab-a ] || fail "firstBoot.nodeName"
    qemu=$(jpath vm boot-1 '{.status.firstBoot.qemuVersion}')
    [[ "$qemu" == 10.* ]] || fail "firstBoot.qemuVersion '$qemu', want the lab's QEMU 10"
    [ "$(jpath vm boot-1 '{.metadata.finalizers[0]}')" = ferry.dev/domain ] || fail "no domain finalizer"
    [ "$(jpath vm boot-1 '{.status.conditions[?(@.type=="Domain")].status}')" = True ] || fail "Domain condition"
    guest_runs_on A boot-1
    pass "VM boot-1 Running on lab-a, heartbeat $(hb A boot-1), firstBoot QEMU $qemu"

    hv=$(k get hv lab-a -o json)
    [ "$(jq -r .status.ready <<<"$hv")" = true ] || fail "Hypervisor lab-a not ready"
    [ "$(jq -r .status.domains <<<"$hv")" = 1 ] || fail "Hypervisor lab-a domains $(jq .status.domains <<<"$hv")"
    [[ "$(jq -r .status.qemuVersion <<<"$hv")" == 10.* ]] || fail "Hypervisor qemuVersion"
    [ "$(jq -r .status.migrationAddress <<<"$hv")" = 10.251.0.1 ] || fail "migrationAddress"
    [ "$(jq -r .status.used.cpus <<<"$hv")" -ge 1 ] || fail "used.cpus"
    age=$(( $(date +%s) - $(date -d "$(jq -r .status.lastHeartbeatTime <<<"$hv")" +%s) ))
    [ "$age" -le 20 ] || fail "heartbeat $age s old"
    pass "Hypervisor lab-a: ready, 1 domain, QEMU $(jq -r .status.qemuVersion <<<"$hv"), libvirt $(jq -r .status.libvirtVersion <<<"$hv"), heartbeat ${age} s old"

    # A domain no VM owns is reported as an orphan, and left alone.
    cat >"$STATE/stray.xml" <<EOF
<domain type='qemu'><name>stray-test</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type><kernel>$LAB/images/vmlinuz</kernel></os>
<devices><emulator>$LAB/qemu-bpo/qemu-system-x86_64</emulator></devices></domain>
EOF
    $L virsh B define "$STATE/stray.xml" >/dev/null
    stray_orphan() { k get hv lab-b -o jsonpath='{range .status.orphans[*]}{.name}{"\n"}{end}' | grep -qx stray-test; }
    not_stray_orphan() { ! stray_orphan; }
    wait_for 20 "orphan stray-test on lab-b" stray_orphan
    [ "$($L virsh B domstate stray-test | head -1)" = "shut off" ] || fail "the orphan was touched"
    $L virsh B undefine stray-test >/dev/null
    wait_for 20 "stray-test no longer an orphan on lab-b" not_stray_orphan
    pass "an unowned domain on lab-b was reported as an orphan and left alone"

    port=$(ops_port A)
    metrics=$(curl -sf "127.0.0.1:$port/metrics")
    grep -q '^ferry_handler_vms{phase="Running"} 1' <<<"$metrics" || fail "ferry_handler_vms{phase=Running}"
    grep -q '^ferry_controller_reconcile_total{controller="vm"' <<<"$metrics" || fail "reconcile metrics"
    [ "$(curl -sf "127.0.0.1:$port/readyz" | tail -1)" = ok ] || fail "/readyz"
    curl -sf "127.0.0.1:$port/healthz" >/dev/null || fail "/healthz"
    pass "/metrics (VMs by phase, reconciles), /readyz, /healthz"

    # QEMU dies under the guest: Failed with libvirt's reason, not restarted.
    qpid=$(cat "$LAB/nodes/A/run/libvirt/qemu/${NS}_boot-1.pid")
    kill -9 "$qpid"
    wait_for 30 "VM boot-1 Failed" is Failed vm_phase boot-1
    reason=$(jpath vm boot-1 '{.status.conditions[?(@.type=="Domain")].reason}')
    [ "$reason" = Crashed ] || [ "$reason" = Failed ] || fail "Domain reason '$reason'"
    sleep 2
    [ "$(domain_state A boot-1)" = "shut off" ] || fail "a crashed guest was restarted"
    pass "QEMU killed: VM Failed ($reason: $(jpath vm boot-1 '{.status.conditions[?(@.type=="Domain")].message}'))"

    delete_vm boot-1 A
    pass "VM deleted: domain destroyed and undefined on lab-a, finalizer removed"
    ;;

  migrate)
    boot_vm mig-1 A 128 16 2
    before=$(hb A mig-1)
    on_a=$(k get hv lab-a -o jsonpath='{.status.domains}')
    on_b=$(k get hv lab-b -o jsonpath='{.status.domains}')
    start_vmm mig-1-to-b mig-1 lab-a lab-b "{$QUIET}"
    saw_migrating=false
    while ! terminal mig-1-to-b; do
      [ "$(vm_phase mig-1)" = Migrating ] && saw_migrating=true
      no_tcp_to_lab
      sleep 0.2
    done
    [ "$(finish_vmm mig-1-to-b mig-1)" = Succeeded ] || fail "mig-1-to-b $(vmm_phase mig-1-to-b): $(jpath vmm mig-1-to-b '{.status.message}')"
    $saw_migrating || fail "the VM never showed phase Migrating"
    wait_for 30 "VM mig-1 Running on lab-b" is Running vm_phase mig-1
    [ -z "$(domain_state A mig-1)" ] || fail "mig-1 left on lab-a: $(domain_state A mig-1)"
    guest_runs_on B mig-1
    [ "$(hb B mig-1)" -gt "$before" ] || fail "heartbeat on lab-b did not continue from lab-a's $before"
    wait_for 20 "lab-b counts the domain" is $((on_b + 1)) k get hv lab-b -o jsonpath='{.status.domains}'
    wait_for 20 "lab-a no longer does" is $((on_a - 1)) k get hv lab-a -o jsonpath='{.status.domains}'
    metrics=$(curl -sf "127.0.0.1:$(ops_port A)/metrics")
    grep -q '^ferry_migration_results_total{.*result="Succeeded"} 1' <<<"$metrics" || fail "engine metrics"
    grep -q '^ferry_migration_downtime_seconds_count' <<<"$metrics" || fail "engine downtime histogram"
    for r in TargetReady MigrationStarted Succeeded; do
      [ -n "$(vmm_events mig-1-to-b $r)" ] || fail "no $r Event"
    done
    pass "mig-1 moved: $(vmm_events mig-1-to-b Succeeded | head -1); heartbeat $before on lab-a -> $(hb B mig-1) on lab-b; nothing left on lab-a; no handler TCP to the lab network"
    delete_vm mig-1 B
    ;;

  postcopy)
    boot_vm hot-1 A 256 128 96
    start_vmm hot-1-to-b hot-1 lab-a lab-b \
      '{"mode":"Auto","allowPostCopy":true,"allowAutoConverge":false,"bandwidth":"32Mi","maxDowntime":"300ms"}'
    max=0
    eta=""
    deleted=false
    while ! terminal hot-1-to-b; do
      p=$(jpath vmm hot-1-to-b '{.status.progress.percent}')
      [ -n "$p" ] && [ "$p" -gt "$max" ] && max=$p
      e=$(jpath vmm hot-1-to-b '{.status.progress.estimatedTimeRemaining}')
      [ -n "$e" ] && eta=$e
      if ! $deleted && [ -n "$(jpath vmm hot-1-to-b '{.status.progress.postCopyStartedAt}')" ]; then
        # Deleting the VMM after the switch cancels nothing: the guest already runs on lab-b.
        k delete vmm -n "$NS" hot-1-to-b --wait=false >/dev/null
        deleted=true
      fi
      sleep 0.2
    done
    $deleted || fail "the VMM was never seen in post-copy"
    refused=$(vmm_events hot-1-to-b CancelRefused)
    [ -n "$refused" ] || fail "no CancelRefused Event after deleting the VMM in post-copy"
    [ -n "$(jpath vmm hot-1-to-b '{.status.progress.postCopyStartedAt}')" ] || fail "no postCopyStartedAt"
    [ "$(finish_vmm hot-1-to-b hot-1)" = Succeeded ] || fail "hot-1-to-b $(vmm_phase hot-1-to-b): $(jpath vmm hot-1-to-b '{.status.message}')"
    switch=$(vmm_events hot-1-to-b SwitchToPostCopy)
    [ -n "$switch" ] || fail "no SwitchToPostCopy Event"
    [ "$max" -le 100 ] || fail "progress percent $max"
    [ -n "$eta" ] || fail "no ETA was ever reported"
    wait_for 30 "VM hot-1 Running on lab-b" is Running vm_phase hot-1
    [ -z "$(domain_state A hot-1)" ] || fail "hot-1 left on lab-a"
    guest_runs_on B hot-1
    pass "post-copy switch as an Event: $switch; percent peaked at $max; an ETA ($eta) was reported; deletion after the switch refused: $refused"
    delete_vm hot-1 B
    ;;

  cancel)
    boot_vm can-1 A 128 64 0
    start_vmm can-1-to-b can-1 lab-a lab-b "{$QUIET,\"bandwidth\":\"4Mi\"}"
    wait_running_with_progress can-1-to-b
    k delete vmm -n "$NS" can-1-to-b --wait=false >/dev/null
    wait_for 60 "can-1-to-b terminal" terminal can-1-to-b
    [ "$(finish_vmm can-1-to-b can-1)" = Cancelled ] || fail "phase $(vmm_phase can-1-to-b), want Cancelled"
    [ -n "$(vmm_events can-1-to-b CancelRequested)" ] || fail "no CancelRequested Event"
    wait_for 30 "VM can-1 Running again" is Running vm_phase can-1
    guest_runs_on A can-1
    wait_for 30 "nothing of can-1 on lab-b" is "" domain_state B can-1
    pass "deletion cancelled the migration; the guest runs on lab-a, nothing on lab-b"
    delete_vm can-1 A
    ;;

  target_killed)
    trap '$L start-daemon B >/dev/null 2>&1 || true' EXIT
    boot_vm tk-1 A 128 64 0
    start_vmm tk-1-to-b tk-1 lab-a lab-b "{$QUIET,\"bandwidth\":\"4Mi\"}"
    wait_running_with_progress tk-1-to-b
    $L kill-daemon B
    wait_for 20 "Hypervisor lab-b not ready" is false k get hv lab-b -o jsonpath='{.status.ready}'
    wait_for 90 "tk-1-to-b terminal" terminal tk-1-to-b
    msg=$(jpath vmm tk-1-to-b '{.status.message}')
    [ "$(finish_vmm tk-1-to-b tk-1)" = Failed ] || fail "phase $(vmm_phase tk-1-to-b), want Failed"
    reason=$(jpath vmm tk-1-to-b "{.status.reason}")
    [ "$reason" = MigrationFailed ] || fail "reason $reason, want MigrationFailed"
    grep -qiE 'destination|connection|peer' <<<"$msg" || fail "the reason does not say what happened: $msg"
    $L start-daemon B
    wait_for 30 "Hypervisor lab-b ready again" is true k get hv lab-b -o jsonpath='{.status.ready}'
    wait_for 30 "VM tk-1 Running" is Running vm_phase tk-1
    guest_runs_on A tk-1
    wait_for 30 "no running tk-1 on lab-b" bash -c "[ \"\$($L virsh B domstate ${NS}_tk-1 2>/dev/null | head -1)\" != running ]"
    pass "target libvirtd killed: Failed ($msg); the guest runs on lab-a; lab-b ready again after its libvirtd restarted"
    delete_vm tk-1 A
    ;;

  source_restart)
    boot_vm sr-1 A 128 16 2
    before=$(hb A sr-1)
    start_vmm sr-1-to-b sr-1 lab-a lab-b "{$QUIET,\"bandwidth\":\"8Mi\"}"
    wait_running_with_progress sr-1-to-b
    synced=$(grep -ci 'caches synced' "$(handler_log A)")
    handler_stop A KILL
    sleep 2
    handler_start A "$synced"
    wait_for 120 "sr-1-to-b terminal" terminal sr-1-to-b
    msg=$(jpath vmm sr-1-to-b '{.status.message}')
    [ "$(finish_vmm sr-1-to-b sr-1)" = Succeeded ] || fail "phase $(vmm_phase sr-1-to-b), want Succeeded: $msg"
    grep -q 'found Running after a restart: attach' "$(handler_log A)" || fail "the restarted handler did not re-attach"
    [ -n "$(vmm_events sr-1-to-b Attach)" ] || fail "no Attach Event"
    [ "$(vmm_events sr-1-to-b MigrationStarted | wc -l)" = 1 ] || fail "the migration was started more than once"
    wait_for 30 "VM sr-1 Running on lab-b" is Running vm_phase sr-1
    [ -z "$(domain_state A sr-1)" ] || fail "a copy of sr-1 left on lab-a"
    guest_runs_on B sr-1
    [ "$(hb B sr-1)" -gt "$before" ] || fail "heartbeat did not continue"
    pass "source handler SIGKILLed mid-migration and restarted: re-attached, Succeeded ($msg), one copy on lab-b"
    delete_vm sr-1 B
    ;;

  cold)
    # Offline: the source's engine stops the guest (ACPI, then destroy after the node's
    # --shutdown-grace) and moves the definition; the target's agent starts it once the VM's
    # node flips (the engine never touches the target's libvirtd here).
    boot_vm cold-1 A 128 16 1
    start_vmm cold-1-to-b cold-1 lab-a lab-b '{"mode":"Auto","offline":true,"allowPostCopy":false,"maxDowntime":"300ms"}'
    saw_migrating=false
    while ! terminal cold-1-to-b; do
      [ "$(vm_phase cold-1)" = Migrating ] && saw_migrating=true
      sleep 0.2
    done
    msg=$(jpath vmm cold-1-to-b '{.status.message}')
    [ "$(finish_vmm cold-1-to-b cold-1)" = Succeeded ] || fail "phase $(vmm_phase cold-1-to-b): $msg"
    $saw_migrating || fail "the VM never showed phase Migrating"
    [ -n "$(vmm_events cold-1-to-b Shutdown)" ] || fail "no Shutdown Event"
    wait_for 60 "VM cold-1 Running on lab-b" is Running vm_phase cold-1
    wait_for 90 "the guest's heartbeat on lab-b" has_hb B cold-1
    [ -z "$(domain_state A cold-1)" ] || fail "cold-1 left on lab-a"
    grep -q '"start agent-lab_cold-1 (the spec says running)" vm="agent-lab/cold-1"' "$(handler_log B)" ||
      fail "lab-b's agent did not start it"
    guest_runs_on B cold-1
    pass "offline migration ($msg); the target's agent started the guest on lab-b (heartbeat $(hb B cold-1))"
    delete_vm cold-1 B
    ;;

  storage_copy)
    boot_vm sc-1 A 128 16 1 32
    img_a=$LAB/nodes/A/var/lib/libvirt/images/${NS}_sc-1-data.img
    img_b=$LAB/nodes/B/var/lib/libvirt/images/${NS}_sc-1-data.img
    [ -f "$img_a" ] || fail "the agent did not create the VM's local disk on lab-a"
    [ ! -e "$img_b" ] || fail "an image on lab-b before the migration"
    marker="ferry-agent-disk-marker-$RANDOM$RANDOM"
    printf '%s' "$marker" | dd of="$img_a" bs=1 seek=1048576 conv=notrunc status=none
    start_vmm sc-1-to-b sc-1 lab-a lab-b "{$QUIET,\"storage\":\"Copy\"}"
    wait_for 120 "sc-1-to-b terminal" terminal sc-1-to-b
    [ "$(finish_vmm sc-1-to-b sc-1)" = Succeeded ] || fail "phase $(vmm_phase sc-1-to-b): $(jpath vmm sc-1-to-b '{.status.message}')"
    grep -q "created disk image /var/lib/libvirt/images/${NS}_sc-1-data.img" "$(handler_log B)" ||
      fail "the target handler did not create the disk image"
    grep -qa "$marker" "$img_b" || fail "the disk's data did not reach lab-b"
    wait_for 30 "VM sc-1 Running on lab-b" is Running vm_phase sc-1
    [ -z "$(domain_state A sc-1)" ] || fail "sc-1 left on lab-a"
    guest_runs_on B sc-1
    pass "local disk: created blank on lab-a, image prepared by lab-b's handler, data copied (marker found), guest runs on lab-b"
    delete_vm sc-1 B
    ;;

  *) echo "unknown scenario $SCENARIO" >&2; exit 2 ;;
esac

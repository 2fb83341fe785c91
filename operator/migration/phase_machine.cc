#include "migration/phase_machine.h"

#include <algorithm>

#include "api/group.h"
#include "api/identity.h"
#include "api/labels.h"

namespace ferry::op::migration {
namespace {

using api::MigrationPhase;
using std::chrono::nanoseconds;

std::string Seconds(nanoseconds d) {
  return api::FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(d));
}

class Machine {
 public:
  explicit Machine(const MigrationInput& in) : in_(in), vmm_(in.vmm) {
    d_.status = vmm_.status;
    vm_key_ = vmm_.metadata.namespace_ + "/" + VmNameOf(vmm_);
  }

  PhaseDecision Run() {
    NoteSpecEdits();
    switch (d_.status.phase) {
      case MigrationPhase::kUnset:
      case MigrationPhase::kPending:
        if (!Admit()) break;
        [[fallthrough]];
      case MigrationPhase::kScheduling:
        Scheduling();
        break;
      case MigrationPhase::kScheduled:
      case MigrationPhase::kPreparingTarget:
        Preparing();
        break;
      case MigrationPhase::kTargetReady:
        TargetReady();
        break;
      case MigrationPhase::kRunning:
        Running();
        break;
      case MigrationPhase::kSucceeded:
      case MigrationPhase::kFailed:
      case MigrationPhase::kCancelled:
        Terminal();
        break;
    }
    return std::move(d_);
  }

 private:
  bool Deleting() const { return vmm_.metadata.IsBeingDeleted(); }
  bool Admitted() const {
    return d_.add_finalizer || vmm_.metadata.HasFinalizer(api::kMigrationFinalizer);
  }
  // The VM this migration is about: not being deleted and, once admitted, the one admitted
  // (a VM re-created under the same name is another VM: docs/adr/0006 §1).
  const api::VirtualMachine* Vm() const {
    if (in_.vm == nullptr || in_.vm->metadata.IsBeingDeleted() || OtherVm(*in_.vm)) return nullptr;
    return in_.vm;
  }
  bool OtherVm(const api::VirtualMachine& vm) const {
    if (!d_.status.vm_uid.empty()) return vm.metadata.uid != d_.status.vm_uid;
    if (d_.status.phase < MigrationPhase::kScheduling) return false;  // not admitted: any VM
    return !api::MigrationOfVm(vmm_, vm);  // admitted before vmUID existed: by creation time
  }
  std::string VmGoneMessage() const {
    if (in_.vm == nullptr) return "virtual machine " + vm_key_ + " is gone";
    if (in_.vm->metadata.IsBeingDeleted())
      return "virtual machine " + vm_key_ + " is being deleted";
    return "virtual machine " + vm_key_ + " was deleted; the one of that name now (uid " +
           in_.vm->metadata.uid + ") is another VM";
  }
  bool Offline() const {
    return d_.status.effective_options ? d_.status.effective_options->offline : vmm_.spec.offline;
  }
  static bool VmRuns(const api::VirtualMachine& vm) {
    return !vm.status.node_name.empty() && (vm.status.phase == api::VmPhase::kRunning ||
                                            vm.status.phase == api::VmPhase::kMigrating);
  }

  void Transition(MigrationPhase phase, const std::string& reason, const std::string& message) {
    d_.status.phase = phase;
    d_.status.phase_transition_time = in_.now;
    d_.status.reason = reason;
    d_.status.message = message;
  }
  void Fail(const std::string& reason, const std::string& message) {
    Transition(MigrationPhase::kFailed, reason, message);
    d_.status.completion_time = in_.now;
    d_.events.push_back({true, reason, message});
    d_.requeue_after.reset();
  }
  void Cancel() {
    const std::string msg =
        "deleted before the target was ready; the guest stays on " +
        (d_.status.source_node.empty() ? std::string("its node") : d_.status.source_node);
    Transition(MigrationPhase::kCancelled, kReasonDeleted, msg);
    d_.status.completion_time = in_.now;
    d_.events.push_back({false, "Cancelled", msg});
  }
  // Waiting in the current phase with a reason (no transition, no phase time change).
  void Wait(const std::string& reason, const std::string& message) {
    d_.status.reason = reason;
    d_.status.message = message;
  }
  void RequeueIn(nanoseconds d) {
    d = std::max(d, nanoseconds(std::chrono::milliseconds(100)));
    if (!d_.requeue_after || d < *d_.requeue_after) d_.requeue_after = d;
  }
  // Deadlines run from when the operator observed the phase (its own monotonic clock).
  nanoseconds PhaseAge() const { return std::max(in_.phase_age, nanoseconds(0)); }
  std::string LostMessage(const std::string& node, const char* role) const {
    std::string msg =
        "the handler of " + role_prefix(role) + node + " stopped renewing its heartbeat";
    if (auto hb = in_.world.LastHeartbeat(node)) msg += " (last " + api::FormatTime(*hb) + ")";
    return msg;
  }
  static std::string role_prefix(const char* role) { return std::string(role) + " node "; }

  void NoteSpecEdits() {
    if (!Admitted() || d_.add_finalizer) return;
    if (vmm_.metadata.generation <= d_.status.observed_generation ||
        d_.status.observed_generation == 0)
      return;
    api::Condition c;
    c.type = kConditionSpecChangeIgnored;
    c.status = api::ConditionStatus::kTrue;
    c.reason = "SpecFixedAtAdmission";
    c.message = "spec edited after admission (generation " +
                std::to_string(vmm_.metadata.generation) +
                "); the migration runs as admitted at generation " +
                std::to_string(d_.status.observed_generation);
    c.observed_generation = vmm_.metadata.generation;
    api::SetCondition(&d_.status.conditions, c, in_.now);
  }

  // Pending/"": checks and admission. Returns true when admitted (go on to Scheduling).
  bool Admit() {
    if (Deleting()) {
      // Half-admitted (the finalizer written, the status not): nothing started, but the
      // finalizer holds it and counts it as the VM's migration. Cancelled, it is recorded and
      // let go like any other (docs/adr/0006 §6). Never admitted: nothing holds it.
      if (vmm_.metadata.HasFinalizer(api::kMigrationFinalizer)) Cancel();
      return false;
    }
    const api::VirtualMachine* vm = Vm();
    if (vm == nullptr) {
      Fail(kReasonVmNotFound, in_.vm != nullptr && in_.vm->metadata.IsBeingDeleted()
                                  ? VmGoneMessage()
                                  : "virtual machine " + vm_key_ + " does not exist");
      return false;
    }
    if (vmm_.spec.offline ? vm->status.node_name.empty() : !VmRuns(*vm)) {
      // Not yet (or no longer) running: wait, level-triggered — the cache may be behind, and
      // a VM that starts later is migrated then.
      const std::string phase(api::ToString(vm->status.phase));
      if (d_.status.phase != MigrationPhase::kPending) Transition(MigrationPhase::kPending, "", "");
      Wait(kReasonVmNotRunning,
           "virtual machine " + vm_key_ + " is " + (phase.empty() ? "not placed" : phase) +
               (vmm_.spec.offline ? "; a cold migration needs it placed on a node"
                                  : "; a live migration needs it Running"));
      return false;
    }
    // One migration per VM, and the next one only once the VM shows the last one's outcome
    // (and so its node): admitted earlier, a queued VMM ran node-a -> node-a.
    std::string other = in_.world.ActiveMigrationOf(vm_key_, vmm_.metadata.Key());
    if (other.empty() && !vm->status.active_migration.empty() &&
        vm->status.active_migration != vmm_.metadata.name) {
      other = vmm_.metadata.namespace_ + "/" + vm->status.active_migration;
    }
    if (!other.empty()) {
      if (d_.status.phase != MigrationPhase::kPending) Transition(MigrationPhase::kPending, "", "");
      Wait(kReasonActiveMigration, "virtual machine " + vm_key_ + " is being migrated by " + other +
                                       "; one migration per VM at a time");
      return false;
    }
    d_.admitted = true;
    d_.add_finalizer = true;
    d_.labels[api::kLabelVm] = vmm_.spec.vm_name;
    d_.labels[api::kLabelSourceNode] = vm->status.node_name;
    d_.status.vm_uid = vm->metadata.uid;
    d_.status.source_node = vm->status.node_name;
    d_.status.target_node.clear();
    d_.status.effective_options = in_.world.EffectiveOptions(vmm_, *vm);
    d_.status.observed_generation = vmm_.metadata.generation;
    Transition(MigrationPhase::kScheduling, "", "");
    d_.events.push_back(
        {false, "Admitted",
         "migration of " + vm_key_ + " from " + vm->status.node_name + " admitted"});
    return true;
  }

  void Scheduling() {
    if (Deleting()) return Cancel();
    const api::VirtualMachine* vm = Vm();
    if (vm == nullptr) return Fail(kReasonVmNotFound, VmGoneMessage());
    if (!Offline() && !VmRuns(*vm)) {
      return Fail(kReasonVmNotRunning,
                  "virtual machine " + vm_key_ + " stopped running while the migration waited");
    }
    api::VirtualMachineMigration admitted = vmm_;
    admitted.status = d_.status;
    SchedulingOutcome out = in_.world.Schedule(admitted, *vm);
    switch (out.kind) {
      case SchedulingOutcome::Kind::kWait:
        return Wait(kReasonWaitingForSlot, out.message);
      case SchedulingOutcome::Kind::kUnschedulable:
        if (out.placement) d_.status.placement = std::move(out.placement);
        if (d_.status.reason != kReasonUnschedulable || d_.status.message != out.message) {
          d_.events.push_back({true, kReasonUnschedulable, out.message});
        }
        return Wait(kReasonUnschedulable, out.message);
      case SchedulingOutcome::Kind::kTargetRejected:
        if (out.placement) d_.status.placement = std::move(out.placement);
        return Fail(kReasonTargetRejected, out.message);
      case SchedulingOutcome::Kind::kScheduled:
        break;
    }
    d_.scheduled = true;
    d_.status.target_node = out.target;
    if (out.placement) d_.status.placement = std::move(out.placement);
    d_.labels[api::kLabelTargetNode] = out.target;
    Transition(MigrationPhase::kScheduled, "", "");
    d_.events.push_back({false, "Scheduled", "target " + out.target + ": " + out.message});
    RequeueIn(in_.deadlines.target_prepare);
  }

  // Scheduled / PreparingTarget: waiting for the target handler.
  void Preparing() {
    if (Deleting()) return Cancel();
    if (Vm() == nullptr) return Fail(kReasonVmNotFound, VmGoneMessage());
    const std::string& src = d_.status.source_node;
    const std::string& dst = d_.status.target_node;
    if (!in_.world.HandlerAlive(src))
      return Fail(api::kReasonHandlerLost, LostMessage(src, "source"));
    if (!in_.world.HandlerAlive(dst))
      return Fail(api::kReasonTargetNotReady, LostMessage(dst, "target"));
    if (std::string problem = in_.world.TargetProblem(dst); !problem.empty()) {
      return Fail(api::kReasonTargetNotReady,
                  "target node " + dst + " can no longer receive it: " + problem);
    }
    const nanoseconds age = PhaseAge();
    if (age >= in_.deadlines.target_prepare) {
      return Fail(api::kReasonTargetNotReady, "the handler of target node " + dst +
                                                  " did not report TargetReady within " +
                                                  Seconds(in_.deadlines.target_prepare));
    }
    RequeueIn(in_.deadlines.target_prepare - age);
  }

  // TargetReady: waiting for the source handler to start.
  void TargetReady() {
    // A VM re-created under the same name: the source must not start on it (not yet running).
    if (in_.vm != nullptr && OtherVm(*in_.vm)) return Fail(kReasonVmNotFound, VmGoneMessage());
    const std::string& src = d_.status.source_node;
    const std::string& dst = d_.status.target_node;
    if (!in_.world.HandlerAlive(src))
      return Fail(api::kReasonHandlerLost, LostMessage(src, "source"));
    if (!in_.world.HandlerAlive(dst))
      return Fail(api::kReasonHandlerLost, LostMessage(dst, "target"));
    const nanoseconds age = PhaseAge();
    if (age >= in_.deadlines.source_start) {
      return Fail(api::kReasonTimeout, "the handler of source node " + src +
                                           " did not start the migration within " +
                                           Seconds(in_.deadlines.source_start) + " of TargetReady");
    }
    RequeueIn(in_.deadlines.source_start - age);
  }

  // Running: the source handler runs the engine. A source handler lost for long is no
  // outcome (the libvirt job goes on without it and may succeed): after the timeout the
  // migration is marked GuestLocationUnknown and waits for a handler's word (ADR 6 §3); the
  // mark goes (False) when the handler is observed alive again.
  void Running() {
    const std::string& src = d_.status.source_node;
    const api::Condition* c =
        api::FindCondition(d_.status.conditions, api::kConditionGuestLocationUnknown);
    const bool marked = c != nullptr && c->status == api::ConditionStatus::kTrue;
    if (in_.world.HandlerAlive(src)) {
      if (marked && c->reason == api::kReasonHandlerLost) {
        const std::string msg = "the handler of source node " + src +
                                " is observed renewing its heartbeat again; it reports the "
                                "migration's outcome";
        SetGuestLocationUnknown(false, api::kReasonHandlerSeen, msg);
        d_.events.push_back({false, api::kReasonHandlerSeen, msg});
      }
      return;
    }
    if (marked) return;  // waits for a handler's word; the mark stays
    // Never read a heartbeat of the node: how long this VMM was watched Running instead.
    const nanoseconds lost = in_.world.HandlerSilence(src).value_or(PhaseAge());
    if (lost < in_.deadlines.running_handler_lost) {
      return RequeueIn(in_.deadlines.running_handler_lost - lost);
    }
    std::string msg =
        "the handler of source node " + src + " has not been seen renewing its heartbeat for " +
        Seconds(lost) + " (by the operator's clock, since " +
        api::FormatTime(in_.now - std::chrono::duration_cast<api::WallTime::duration>(lost)) + ")";
    if (auto hb = in_.world.LastHeartbeat(src))
      msg += "; its last heartbeat says " + api::FormatTime(*hb) + " by its own clock";
    msg +=
        ". The migration may still complete without it: it stays Running until a handler "
        "reports where the guest runs";
    SetGuestLocationUnknown(true, api::kReasonHandlerLost, msg);
    d_.events.push_back({true, api::kConditionGuestLocationUnknown, msg});
  }
  void SetGuestLocationUnknown(bool unknown, const char* reason, const std::string& message) {
    api::Condition c;
    c.type = api::kConditionGuestLocationUnknown;
    c.status = unknown ? api::ConditionStatus::kTrue : api::ConditionStatus::kFalse;
    c.reason = reason;
    c.message = message;
    c.observed_generation = vmm_.metadata.generation;
    api::SetCondition(&d_.status.conditions, c, in_.now);
  }

  void Terminal() {
    if (vmm_.metadata.HasFinalizer(api::kMigrationFinalizer) && OutcomeRecorded(vmm_, in_.vm)) {
      d_.remove_finalizer = true;
    }
  }

  const MigrationInput& in_;
  const api::VirtualMachineMigration& vmm_;
  PhaseDecision d_;
  std::string vm_key_;
};

}  // namespace

std::string VmNameOf(const api::VirtualMachineMigration& vmm) {
  if (vmm.metadata.HasFinalizer(api::kMigrationFinalizer)) {
    if (std::optional<std::string> vm = api::FullLabelValue(vmm.metadata, api::kLabelVm))
      return *vm;
  }
  return vmm.spec.vm_name;
}

bool OutcomeRecorded(const api::VirtualMachineMigration& vmm, const api::VirtualMachine* vm) {
  if (vm == nullptr) return true;
  // Another VM of the name: this outcome is never recorded on it.
  if (!api::MigrationOfVm(vmm, *vm)) return true;
  return api::HistoryHolds(vm->status.migration_history, vmm);
}

bool PostCopyStarted(const api::VirtualMachineMigrationStatus& status) {
  if (status.progress && status.progress->post_copy_started_at) return true;
  const api::Condition* c =
      api::FindCondition(status.conditions, api::kConditionPostCopyRecovering);
  return c != nullptr && c->status == api::ConditionStatus::kTrue;
}

PhaseDecision DecidePhase(const MigrationInput& in) { return Machine(in).Run(); }

bool GivesUpTurn(const api::VirtualMachineMigrationStatus& before, const PhaseDecision& d) {
  return d.status.phase == MigrationPhase::kScheduling && d.status.reason == kReasonUnschedulable &&
         before.reason != kReasonUnschedulable;
}

}  // namespace ferry::op::migration

#include "agent/vm_decision.h"

#include "api/group.h"

namespace ferry::agent {
namespace {

using api::VmPhase;
using domain::DomainReason;
using domain::DomainState;

api::Condition Cond(bool ok, std::string reason, std::string message) {
  api::Condition c;
  c.type = kConditionDomain;
  c.status = ok ? api::ConditionStatus::kTrue : api::ConditionStatus::kFalse;
  c.reason = std::move(reason);
  c.message = std::move(message);
  return c;
}

VmDecision Report(VmPhase phase, api::Condition c, std::string why = "") {
  VmDecision d;
  d.report = true;
  d.phase = phase;
  d.condition = std::move(c);
  d.why = std::move(why);
  return d;
}

VmDecision Act(VmAction a, std::string why) {
  VmDecision d;
  d.action = a;
  d.why = std::move(why);
  return d;
}

bool IsStarting(VmPhase p) {
  return p == VmPhase::kUnset || p == VmPhase::kPending || p == VmPhase::kScheduled ||
         p == VmPhase::kStarting || p == VmPhase::kMigrating;
}

// The handler last acted on an older spec (or never did).
bool SpecChanged(const api::VirtualMachine& vm) {
  const api::Condition* c = api::FindCondition(vm.status.conditions, kConditionDomain);
  return c == nullptr || c->observed_generation < vm.metadata.generation;
}

// A shut-off domain of a VM that should run but is not starting: why it is down.
VmDecision DownByItself(const domain::DomainInfo& dom) {
  const std::string state = std::string("domain ") + domain::DomainStateName(dom.state) + " (" +
                            domain::DomainReasonName(dom.reason) + ")";
  switch (dom.reason) {
    case DomainReason::kCrashed:
    case DomainReason::kPanicked:
      return Report(VmPhase::kFailed, Cond(false, "Crashed", "the guest crashed: " + state));
    case DomainReason::kFailed:
      return Report(VmPhase::kFailed, Cond(false, "Failed", "QEMU failed: " + state));
    case DomainReason::kShutdown:
      return Report(VmPhase::kStopped,
                    Cond(false, "ShutdownFromGuest", "the guest shut itself down: " + state));
    case DomainReason::kDestroyed:
      return Report(VmPhase::kStopped,
                    Cond(false, "Destroyed", "destroyed outside Ferry: " + state));
    default:
      return Report(VmPhase::kStopped, Cond(false, "Stopped", state));
  }
}

}  // namespace

const char* VmActionName(VmAction a) {
  switch (a) {
    case VmAction::kNone:
      return "none";
    case VmAction::kAddFinalizer:
      return "add-finalizer";
    case VmAction::kDefine:
      return "define";
    case VmAction::kStart:
      return "start";
    case VmAction::kShutdown:
      return "shutdown";
    case VmAction::kDestroy:
      return "destroy";
    case VmAction::kUndefine:
      return "undefine";
    case VmAction::kRemoveFinalizer:
      return "remove-finalizer";
  }
  return "?";
}

VmDecision DecideVm(const api::VirtualMachine& vm, const VmContext& ctx) {
  const auto& spec = vm.spec;
  const auto& dom = ctx.domain;
  const bool ours = dom && dom->mark && dom->mark->vm_uid == vm.metadata.uid;

  // Deletion: destroy, undefine, then let the VM go.
  if (vm.metadata.IsBeingDeleted()) {
    if (ours && dom->IsActive()) return Act(VmAction::kDestroy, "the VM is being deleted");
    if (ours) return Act(VmAction::kUndefine, "the VM is being deleted");
    if (vm.metadata.HasFinalizer(api::kDomainFinalizer)) {
      return Act(VmAction::kRemoveFinalizer, "the VM is being deleted and its domain is gone");
    }
    return {};
  }
  if (!vm.metadata.HasFinalizer(api::kDomainFinalizer)) {
    return Act(VmAction::kAddFinalizer, "before its domain is defined");
  }

  // The migration's business.
  if (ctx.migrating_out) {
    if (!dom) return {};
    VmDecision d =
        Report(VmPhase::kMigrating,
               Cond(true, "Migrating", "migration " + ctx.migration + " runs from " + ctx.node));
    d.domain_uuid = dom->uuid;
    return d;
  }
  // ADR 6 §2: the guest may run on another node; nothing is defined or started here.
  const bool fenced = ctx.outcome_unknown || !vm.status.active_migration.empty();
  if (!dom) {
    if (ctx.outcome_unknown) {
      return Report(
          VmPhase::kFailed,
          Cond(false, "DomainMissing",
               "the VM's domain is not on " + ctx.node + " and the outcome of migration " +
                   (ctx.migration.empty() ? std::string("(unnamed)") : ctx.migration) +
                   " is unknown: the guest may run on its target; nothing is defined "
                   "here until the migration's outcome is known or a person acts"));
    }
    if (ctx.migrated_away || !vm.status.active_migration.empty()) return {};
    if (vm.status.domain_uuid.empty() || SpecChanged(vm)) {
      if (!ctx.spec_hash.ok()) {
        return Report(VmPhase::kFailed,
                      Cond(false, "InvalidSpec", ctx.spec_hash.status().message()));
      }
      VmDecision d = Act(VmAction::kDefine, "no domain yet");
      d.report = true;
      d.phase = spec.running ? VmPhase::kStarting : VmPhase::kStopped;
      d.condition = Cond(false, "Defining", "defining the domain on " + ctx.node);
      return d;
    }
    return Report(VmPhase::kFailed,
                  Cond(false, "DomainMissing",
                       "the VM's domain is not on " + ctx.node +
                           " (removed outside Ferry); change "
                           "the spec (e.g. running: false, then true) to define it again"));
  }
  if (!ours) {
    return Report(VmPhase::kFailed,
                  Cond(false, "DomainNameTaken",
                       "domain " + dom->name + " on " + ctx.node + " (uuid " + dom->uuid +
                           ") belongs to something else; the VM's uid is " + vm.metadata.uid));
  }

  VmDecision d;
  const bool redefine = ctx.spec_hash.ok() && dom->mark->spec_hash != *ctx.spec_hash;
  switch (dom->state) {
    case DomainState::kShutOff:
    case DomainState::kCrashed:
    case DomainState::kUnknown: {
      const bool start = spec.running && (IsStarting(vm.status.phase) || SpecChanged(vm));
      if (fenced && (start || redefine)) {
        d.report = true;
        d.condition =
            Cond(false, "WaitingForMigration",
                 "the domain is shut off on " + ctx.node + "; not started while migration " +
                     (ctx.migration.empty() ? vm.status.active_migration : ctx.migration) +
                     " is open or its outcome unknown (the guest may run elsewhere)");
        break;
      }
      if (redefine && (start || !spec.running)) {
        d = Act(VmAction::kDefine, "the spec changed; redefining the shut-off domain");
        break;
      }
      if (start) {
        if (!ctx.spec_hash.ok()) {
          d = Report(VmPhase::kFailed,
                     Cond(false, "InvalidSpec", ctx.spec_hash.status().message()));
          break;
        }
        d = Act(VmAction::kStart, "the spec says running");
        d.report = true;
        d.phase = VmPhase::kStarting;
        d.condition = Cond(false, "Starting", "starting the domain on " + ctx.node);
        break;
      }
      if (!spec.running) {
        d = Report(VmPhase::kStopped, Cond(false, "Stopped", "the spec says running: false"));
        break;
      }
      d = DownByItself(*dom);
      break;
    }
    case DomainState::kPaused:
      if (!fenced && ctx.arrived_offline && spec.running &&
          vm.status.phase == VmPhase::kMigrating &&
          (dom->reason == DomainReason::kStartingUp || dom->reason == DomainReason::kMigration ||
           dom->reason == DomainReason::kUser || dom->reason == DomainReason::kUnknown)) {
        // The engine copied the disks of a stopped guest through a paused, never-run QEMU.
        d = Act(VmAction::kDestroy,
                "a paused copy arrived by offline migration " + ctx.migration + "; restarting it");
        break;
      }
      if (dom->reason == DomainReason::kPostCopy || dom->reason == DomainReason::kPostCopyFailed) {
        d = Report(VmPhase::kRunning,
                   Cond(false, "PostCopy",
                        std::string("paused: ") + domain::DomainReasonName(dom->reason)));
        break;
      }
      d = Report(
          VmPhase::kRunning,
          Cond(false, "Paused", std::string("paused: ") + domain::DomainReasonName(dom->reason)));
      break;
    default: {  // active: running, blocked, shutting down, suspended
      if (!spec.running) {
        if (ctx.shutdown_requested_for && *ctx.shutdown_requested_for >= ctx.shutdown_grace) {
          d = Act(VmAction::kDestroy, "the guest ignored the shutdown request for " +
                                          std::to_string(ctx.shutdown_requested_for->count()) +
                                          " s");
        } else if (!ctx.shutdown_requested_for) {
          d = Act(VmAction::kShutdown, "the spec says running: false");
        }
        d.report = true;
        d.phase = VmPhase::kRunning;
        d.condition = Cond(false, "Stopping", "shutting the guest down (spec running: false)");
        d.requeue_after = std::chrono::seconds(2);
        break;
      }
      d = Report(
          VmPhase::kRunning,
          Cond(true, "Running",
               std::string("domain ") + domain::DomainStateName(dom->state) + " on " + ctx.node));
      if (!vm.status.first_boot) {
        api::BootRecord b;
        b.node_name = ctx.node;
        b.libvirt_version = ctx.libvirt_version;
        b.qemu_version = ctx.qemu_version;
        d.first_boot = b;
      }
      break;
    }
  }
  d.domain_uuid = dom->uuid;
  return d;
}

bool ApplyVmStatus(const VmDecision& d, int64_t generation, api::WallTime now,
                   api::VirtualMachineStatus* status) {
  if (!d.report) return false;
  bool changed = false;
  if (d.phase != api::VmPhase::kUnset && status->phase != d.phase) {
    status->phase = d.phase;
    changed = true;
  }
  if (!d.domain_uuid.empty() && status->domain_uuid != d.domain_uuid) {
    status->domain_uuid = d.domain_uuid;
    changed = true;
  }
  if (d.first_boot && !status->first_boot) {
    status->first_boot = d.first_boot;
    changed = true;
  }
  if (d.condition) {
    api::Condition c = *d.condition;
    c.observed_generation = generation;
    const api::Condition* old = api::FindCondition(status->conditions, c.type);
    const bool differs = old == nullptr || old->status != c.status || old->reason != c.reason ||
                         old->message != c.message ||
                         old->observed_generation != c.observed_generation;
    if (differs) changed = api::SetCondition(&status->conditions, c, now) || changed;
  }
  return changed;
}

}  // namespace ferry::agent

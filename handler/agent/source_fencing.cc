// The source side of fencing (ADR 6 §2-3), part of MigrationRunner: a source left paused by a
// job that ended without success waits for the target's word (SourcePaused, TargetDomain);
// a re-attaching runner reads the VM without taking an API error for a deletion.
#include "agent/fencing.h"
#include "agent/migration_runner.h"
#include "agent/typed_writes.h"
#include "api/group.h"
#include "log/log.h"

namespace ferry::agent {
namespace {

using api::MigrationPhase;

bool Open(MigrationPhase p) {
  return p == MigrationPhase::kTargetReady || p == MigrationPhase::kRunning;
}

}  // namespace

bool MigrationRunner::WriteSourcePaused(const std::string& message) {
  for (std::chrono::seconds backoff(1);;
       backoff = std::min(backoff * 2, std::chrono::seconds(10))) {
    const api::WallTime now = ctx_.clock.WallNow();
    bool open = false;
    auto w = MutateTyped<api::VirtualMachineMigration>(
        ctx_.api, kube::resources::kVirtualMachineMigrations, vmm_.metadata.namespace_,
        vmm_.metadata.name,
        [&](api::VirtualMachineMigration& cur) {
          open = cur.metadata.uid == vmm_.metadata.uid && Open(cur.status.phase);
          if (!open || ConditionTrue(cur, api::kConditionSourcePaused)) return false;
          api::Condition c;
          c.type = api::kConditionSourcePaused;
          c.status = api::ConditionStatus::kTrue;
          c.reason = api::kReasonSourcePausedWaiting;
          c.message = message;
          api::SetCondition(&cur.status.conditions, c, now);
          return true;
        },
        true);
    if (w.ok()) return open;
    if (w.status().code() == StatusCode::kNotFound) return false;
    log::Info(log::Obj("vmm", key_),
              "SourcePaused not written yet (" + w.status().ToString() + "); retrying");
    if (detach_requested_.load()) return false;
    std::this_thread::sleep_for(backoff);
  }
}

void MigrationRunner::HoldPausedSource(MigrationEnd failed, bool resume) {
  const std::string why = "the migration ended without success and left the guest paused on " +
                          ctx_.config.node_name + ": not resumed until " + vmm_.status.target_node +
                          " reports whether it runs a copy";
  if (!WriteSourcePaused(why)) {
    log::Info(log::Obj("vmm", key_), "no longer open; the paused source is left as it is")
        .With("vm", log::Obj("vm", vm_key_));
    return;
  }
  log::Info(log::Obj("vmm", key_), "SourcePaused: " + why).With("vm", log::Obj("vm", vm_key_));
  Record(true, api::kConditionSourcePaused, why);
  std::string last_note;
  while (!detach_requested_.load()) {
    // Read from the API server, not the cache: a stale cache must neither end the wait nor
    // answer for the target.
    auto obj = ctx_.api.Get(kube::resources::kVirtualMachineMigrations, vmm_.metadata.namespace_,
                            vmm_.metadata.name);
    if (!obj.ok()) {
      if (obj.status().code() == StatusCode::kNotFound) return;  // gone: a person's business
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    auto cur = api::VirtualMachineMigration::FromJson(*obj);
    if (!cur.ok() || cur->metadata.uid != vmm_.metadata.uid || !Open(cur->status.phase)) {
      log::Info(log::Obj("vmm", key_), "no longer open; the hold ends")
          .With("vm", log::Obj("vm", vm_key_));
      return;
    }
    const SourceFencing step = DecideSourceFencing(*cur);
    if (step.message != last_note) {
      log::Info(log::Obj("vmm", key_), std::string(SourceStepName(step.step)) + ": " + step.message)
          .With("vm", log::Obj("vm", vm_key_));
      last_note = step.message;
    }
    if (step.step == SourceStep::kResumeAndFail) {
      std::string how = "left paused (it was paused before the migration)";
      if (resume) {
        Status st = ctx_.engine_hypervisor.Resume(domain_);
        if (!st.ok()) {
          Record(true, "ResumeFailed", "resuming the source failed: " + st.message());
          std::this_thread::sleep_for(std::chrono::seconds(2));
          continue;
        }
        how = "resumed";
      }
      failed.message += "; " + step.message + ": " + how;
      WriteOutcome(failed, nullptr);
      return;
    }
    if (step.step == SourceStep::kDestroyAndSucceed) {
      Status st = ctx_.node.Destroy(domain_);
      if (st.ok() || st.code() == StatusCode::kNotFound) st = ctx_.node.Undefine(domain_);
      if (!st.ok() && st.code() != StatusCode::kNotFound) {
        Record(true, "DomainActionFailed",
               "destroying the paused source copy failed: " + st.message());
        std::this_thread::sleep_for(std::chrono::seconds(2));
        continue;
      }
      Record(false, "SourceDestroyed", step.message);
      WriteOutcome(Terminal(MigrationPhase::kSucceeded, "Succeeded", step.message), nullptr);
      return;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

VmRead MigrationRunner::ReadVm(const std::optional<domain::DomainInfo>& source_domain) {
  auto vm =
      ctx_.api.Get(kube::resources::kVirtualMachines, vmm_.metadata.namespace_, vmm_.spec.vm_name);
  if (!vm.ok()) {
    if (vm.status().code() == StatusCode::kNotFound) return VmRead::kGone;
    log::Info(log::Obj("vmm", key_),
              "cannot read the VM (" + vm.status().ToString() + "): not taken for a deletion");
    return VmRead::kUnknown;
  }
  if (vm->contains("/metadata/deletionTimestamp"_json_pointer)) return VmRead::kGone;
  // Another uid: deleted and created again under the same name (ADR 6 §1).
  const std::string uid = vm->value("/metadata/uid"_json_pointer, std::string());
  if (source_domain && source_domain->mark && !source_domain->mark->vm_uid.empty() &&
      uid != source_domain->mark->vm_uid) {
    return VmRead::kGone;
  }
  return VmRead::kExists;
}

}  // namespace ferry::agent

#include "agent/target_controller.h"

#include <algorithm>

#include "agent/fencing.h"
#include "agent/typed_writes.h"
#include "api/group.h"
#include "domain/domain_builder.h"
#include "log/log.h"

namespace ferry::agent {
namespace {

using api::MigrationPhase;
using controller::ReconcileResult;

// How often an open migration whose outcome is unknown is looked at again.
constexpr auto kRecheck = std::chrono::seconds(5);

bool Active(MigrationPhase p) {
  return p == MigrationPhase::kPreparingTarget || p == MigrationPhase::kTargetReady ||
         p == MigrationPhase::kRunning;
}

}  // namespace

StatusOr<TargetInputs> TargetController::Gather(const api::VirtualMachineMigration& vmm,
                                                const api::VirtualMachine& vm) {
  TargetInputs in;
  in.node = ctx_.config.node_name;
  in.vm = vm;
  in.vmm_uid = vmm.metadata.uid;
  in.options = vmm.status.effective_options.value_or(api::EffectiveMigrationOptions{});
  auto host = ctx_.host.Get(std::chrono::seconds(0));
  if (!host.ok()) return host.status();
  in.host = *host;
  auto domains = ctx_.node.ListDomains();
  if (!domains.ok()) return domains.status();
  in.domains = *domains;
  in.limits = {ctx_.config.reserved_cpus, ctx_.config.reserved_memory_bytes,
               ctx_.config.dedicated_cpus, ctx_.config.cpu_allocation_ratio};
  in.settings = ctx_.config.domain;
  for (const auto& path : PathsToCheck(vm)) {
    auto f = ctx_.node.StatFile(path);
    if (!f.ok()) {
      log::Info(log::Obj("vmm", vmm.metadata.Key()),
                "cannot check " + path + ": " + f.status().ToString());
      in.files[path] = domain::FileInfo{};
      continue;
    }
    in.files[path] = *f;
  }
  const std::string source = !vmm.status.source_node.empty()
                                 ? vmm.status.source_node
                                 : (vmm.metadata.labels.count(api::kLabelSourceNode)
                                        ? vmm.metadata.labels.at(api::kLabelSourceNode)
                                        : std::string());
  if (auto hv = ctx_.hypervisors->store().Get(source)) {
    auto h = api::Hypervisor::FromJson(*hv);
    if (h.ok()) in.source = *h;
  }
  // Other migrations into this node, not arrived yet: their guests' size is spoken for.
  for (const auto& o : ctx_.vmm_target->store().List()) {
    auto m = api::VirtualMachineMigration::FromJson(*o);
    if (!m.ok() || m->metadata.Key() == vmm.metadata.Key() || !Active(m->status.phase)) continue;
    auto other =
        ctx_.api.Get(kube::resources::kVirtualMachines, m->metadata.namespace_, m->spec.vm_name);
    if (!other.ok()) continue;
    auto ov = api::VirtualMachine::FromJson(*other);
    if (!ov.ok()) continue;
    const std::string name = domain::DomainName(ov->metadata.namespace_, ov->metadata.name);
    bool arrived = false;
    for (const auto& d : in.domains) arrived = arrived || (d.name == name && d.IsActive());
    if (arrived) continue;  // counted in the domains' usage
    in.incoming_cpus += ov->spec.cpus;
    in.incoming_memory_bytes += ov->spec.memory.Value();
  }
  return in;
}

Status TargetController::Finish(const api::VirtualMachineMigration& vmm, MigrationPhase phase,
                                const std::string& reason, const std::string& message,
                                std::stop_token stop) {
  const api::WallTime now = ctx_.clock.WallNow();
  bool wrote = false;
  auto w = MutateTyped<api::VirtualMachineMigration>(
      ctx_.api, kube::resources::kVirtualMachineMigrations, vmm.metadata.namespace_,
      vmm.metadata.name,
      [&](api::VirtualMachineMigration& cur) {
        if (cur.metadata.uid != vmm.metadata.uid ||
            cur.status.phase != MigrationPhase::kPreparingTarget) {
          wrote = false;
          return false;
        }
        cur.status.phase = phase;
        cur.status.phase_transition_time = now;
        if (phase == MigrationPhase::kTargetReady) {
          cur.status.target_uri = ctx_.config.MigrationUri();
        } else {
          cur.status.reason = reason;
          cur.status.message = message;
          cur.status.completion_time = now;
        }
        wrote = true;
        return true;
      },
      true, stop);
  if (!w.ok()) return w.status();
  const std::string key = vmm.metadata.Key();
  if (!wrote) {
    log::Info(log::Obj("vmm", key), "no longer PreparingTarget (" +
                                        std::string(api::ToString(w->status.phase)) +
                                        "); following it");
    return OkStatus();
  }
  if (phase == MigrationPhase::kTargetReady) {
    log::Info(log::Obj("vmm", key), "TargetReady, targetURI " + ctx_.config.MigrationUri())
        .With("vm", log::Obj("vm", vmm.metadata.namespace_, vmm.spec.vm_name));
    ctx_.events.Record(w->ToJson(), kube::EventType::kNormal, "TargetReady",
                       ctx_.config.node_name + " is ready to receive " + vmm.spec.vm_name + " at " +
                           ctx_.config.MigrationUri());
  } else {
    log::Info(log::Obj("vmm", key), "Failed on the target: " + reason + ": " + message)
        .With("vm", log::Obj("vm", vmm.metadata.namespace_, vmm.spec.vm_name));
    ctx_.events.Record(w->ToJson(), kube::EventType::kWarning, reason, message);
  }
  return OkStatus();
}

ReconcileResult TargetController::Prepare(const api::VirtualMachineMigration& vmm,
                                          std::stop_token stop) {
  const std::string key = vmm.metadata.Key();
  auto vm_obj =
      ctx_.api.Get(kube::resources::kVirtualMachines, vmm.metadata.namespace_, vmm.spec.vm_name);
  if (!vm_obj.ok()) {
    if (vm_obj.status().code() == StatusCode::kNotFound)
      return ReconcileResult::Success();  // the operator fails it
    return ReconcileResult::Error(vm_obj.status());
  }
  auto vm = api::VirtualMachine::FromJson(*vm_obj);
  if (!vm.ok()) {
    (void)Finish(vmm, MigrationPhase::kFailed, kReasonTargetCheckFailed, vm.status().message(),
                 stop);
    return ReconcileResult::Success();
  }
  auto in = Gather(vmm, *vm);
  if (!in.ok())
    return ReconcileResult::Error(in.status().WithContext("vmm " + key + ": target facts"));
  TargetPlan plan = PlanTarget(*in);
  if (!plan.ok()) {
    Status st = Finish(
        vmm, MigrationPhase::kFailed, kReasonTargetCheckFailed,
        ctx_.config.node_name + " cannot receive " + vmm.spec.vm_name + ": " + plan.Summary(),
        stop);
    return st.ok() ? ReconcileResult::Success() : ReconcileResult::Error(st);
  }
  const std::string dom = domain::DomainName(vm->metadata.namespace_, vm->metadata.name);
  const auto label = vm->metadata.labels.find(api::kLabelNode);
  const bool vm_here = label != vm->metadata.labels.end() && label->second == ctx_.config.node_name;
  if (plan.remove_leftover && !vm_here) {
    log::Info(log::Obj("vmm", key),
              "removing the leftover domain " + dom + " of an earlier attempt");
    (void)ctx_.node.Destroy(dom);
    Status st = ctx_.node.Undefine(dom);
    if (!st.ok() && st.code() != StatusCode::kNotFound) return ReconcileResult::Error(st);
  }
  for (const auto& disk : plan.create) {
    if (stop.stop_requested()) return ReconcileResult::Success();
    Status st = ctx_.node.CreateDiskImage(disk.path, disk.format, disk.size_bytes);
    if (!st.ok()) {
      Status f =
          Finish(vmm, MigrationPhase::kFailed, kReasonTargetPrepareFailed,
                 "cannot create the local disk image " + disk.path + ": " + st.message(), stop);
      return f.ok() ? ReconcileResult::Success() : ReconcileResult::Error(f);
    }
    log::Info(log::Obj("vmm", key), "created disk image " + disk.path + " (" +
                                        std::to_string(disk.size_bytes >> 20) + " MiB)");
    std::lock_guard<std::mutex> l(mu_);
    created_[key].push_back(disk.path);
  }
  if (stop.stop_requested()) return ReconcileResult::Success();
  Status st = Finish(vmm, MigrationPhase::kTargetReady, "", "", stop);
  return st.ok() ? ReconcileResult::Success() : ReconcileResult::Error(st);
}

void TargetController::DeleteCreatedImages(const std::string& key) {
  std::vector<std::string> images;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = created_.find(key);
    if (it == created_.end()) return;
    images = it->second;
  }
  auto domains = ctx_.node.ListDomains();
  if (!domains.ok()) {
    log::Info(log::Obj("vmm", key),
              "images kept for now: cannot list the domains (" + domains.status().ToString() + ")");
    return;
  }
  const std::vector<std::string> free = ImagesFreeToDelete(images, *domains);
  for (const auto& path : images) {
    if (std::find(free.begin(), free.end(), path) == free.end()) {
      log::Info(log::Obj("vmm", key), "keeping the disk image " + path + ": a domain uses it");
      continue;
    }
    Status st = ctx_.node.DeleteDiskImage(path);
    log::Info(log::Obj("vmm", key),
              "deleted the disk image " + path + " created for it (" + st.ToString() + ")");
  }
  std::lock_guard<std::mutex> l(mu_);
  created_.erase(key);
}

Status TargetController::Fence(const api::VirtualMachineMigration& vmm, const kube::Json& obj,
                               bool* again, std::stop_token stop) {
  const std::string key = vmm.metadata.Key();
  *again = !api::IsTerminal(vmm.status.phase);
  TargetInputsForFencing in;
  in.vmm = vmm;
  // Recorded already: nothing of this migration is here (or it was removed) — never looked at
  // again, so a restarted handler cannot clean up against a later migration's domain.
  const auto said = WordOf(vmm);
  const bool settled = api::IsTerminal(vmm.status.phase) && said && !TargetWordStatus(*said);
  if (!settled) {
    const std::string dom = domain::DomainName(vmm.metadata.namespace_, vmm.spec.vm_name);
    auto d = ctx_.node.GetDomain(dom);
    if (!d.ok()) return d.status().WithContext("vmm " + key + ": the target's word");
    in.domain = *d;
    // The VM is on this node (a VM in this node's cache): its domain is this node's own.
    in.vm_here = ctx_.vms->store().Get(vmm.metadata.namespace_ + "/" + vmm.spec.vm_name) != nullptr;
  }
  const TargetFencing f = DecideTargetFencing(in);
  if (!f.concerned) return OkStatus();
  const bool word_changes = f.word && f.word != said;
  if (f.namesake && word_changes) {
    log::Info(log::Obj("vmm", key), f.message);
    ctx_.events.Record(obj, kube::EventType::kWarning, "DomainNotThisMigration",
                       f.message + " (on " + ctx_.config.node_name + ")");
  }
  if (f.remove_domain) {
    const std::string& dom = in.domain->name;
    (void)ctx_.node.Destroy(dom);
    Status st = ctx_.node.Undefine(dom);
    if (!st.ok() && st.code() != StatusCode::kNotFound)
      return st.WithContext("vmm " + key + ": removing " + dom);
    log::Info(log::Obj("vmm", key), "removed the half-arrived domain " + dom);
    ctx_.events.Record(obj, kube::EventType::kNormal, "TargetCleanedUp",
                       "removed the half-arrived domain " + dom + " from " + ctx_.config.node_name);
  }
  if (f.warn_kept) {
    log::Info(log::Obj("vmm", key),
              "keeping the domain: " + f.message + "; it may be the only copy of the guest");
    ctx_.events.Record(obj, kube::EventType::kWarning, "DomainKept",
                       f.message + " on " + ctx_.config.node_name + " after the migration ended " +
                           std::string(api::ToString(vmm.status.phase)) +
                           "; it is left alone (reported as an orphan) for a person to decide");
  }
  if (word_changes || f.write_succeeded) {
    const api::WallTime now = ctx_.clock.WallNow();
    bool succeeded = false;
    auto w = MutateTyped<api::VirtualMachineMigration>(
        ctx_.api, kube::resources::kVirtualMachineMigrations, vmm.metadata.namespace_,
        vmm.metadata.name,
        [&](api::VirtualMachineMigration& cur) {
          if (cur.metadata.uid != vmm.metadata.uid) return false;
          bool changed = false;
          if (f.word && WordOf(cur) != f.word) {
            api::Condition c;
            c.type = api::kConditionTargetDomain;
            c.status = TargetWordStatus(*f.word) ? api::ConditionStatus::kTrue
                                                 : api::ConditionStatus::kFalse;
            c.reason = TargetWordReason(*f.word);
            c.message = f.message;
            changed = api::SetCondition(&cur.status.conditions, c, now) || changed;
          }
          // ADR 6 §3: the only phase the target writes after TargetReady.
          succeeded = f.write_succeeded && cur.status.phase == MigrationPhase::kRunning &&
                      ConditionTrue(cur, api::kConditionGuestLocationUnknown) &&
                      !ConditionTrue(cur, api::kConditionSourcePaused) && !PostCopyStarted(cur);
          if (succeeded) {
            cur.status.phase = MigrationPhase::kSucceeded;
            cur.status.phase_transition_time = now;
            cur.status.completion_time = now;
            cur.status.reason = api::kReasonTargetRunsGuest;
            cur.status.message = "the source handler was lost; " + f.message +
                                 " after pre-copy (libvirt resumes a pre-copy target only once "
                                 "the source stopped for good)";
            changed = true;
          }
          return changed;
        },
        true, stop);
    if (!w.ok() && w.status().code() != StatusCode::kNotFound) return w.status();
    if (w.ok() && f.word && word_changes) {
      log::Info(log::Obj("vmm", key),
                std::string("TargetDomain ") + TargetWordReason(*f.word) + ": " + f.message);
    }
    if (succeeded) {
      log::Info(log::Obj("vmm", key), "Succeeded (TargetRunsGuest): " + f.message)
          .With("vm", log::Obj("vm", vmm.metadata.namespace_, vmm.spec.vm_name));
      ctx_.events.Record(obj, kube::EventType::kNormal, api::kReasonTargetRunsGuest, f.message);
      std::lock_guard<std::mutex> l(mu_);
      created_.erase(key);  // the images are the VM's disks now
      *again = false;
    }
  }
  if (f.delete_images) DeleteCreatedImages(key);
  return OkStatus();
}

ReconcileResult TargetController::Reconcile(const std::string& key, std::stop_token stop) {
  auto obj = ctx_.vmm_target->store().Get(key);
  if (!obj) {
    std::lock_guard<std::mutex> l(mu_);
    created_.erase(key);
    return ReconcileResult::Success();
  }
  auto vmm = api::VirtualMachineMigration::FromJson(*obj);
  if (!vmm.ok()) return ReconcileResult::TerminalError(vmm.status());
  switch (vmm->status.phase) {
    case MigrationPhase::kScheduled: {
      if (vmm->metadata.IsBeingDeleted())
        return ReconcileResult::Success();  // the operator cancels
      const api::WallTime now = ctx_.clock.WallNow();
      auto w = MutateTyped<api::VirtualMachineMigration>(
          ctx_.api, kube::resources::kVirtualMachineMigrations, vmm->metadata.namespace_,
          vmm->metadata.name,
          [&](api::VirtualMachineMigration& cur) {
            if (cur.metadata.uid != vmm->metadata.uid ||
                cur.status.phase != MigrationPhase::kScheduled)
              return false;
            cur.status.phase = MigrationPhase::kPreparingTarget;
            cur.status.phase_transition_time = now;
            return true;
          },
          true, stop);
      if (!w.ok()) return ReconcileResult::Error(w.status());
      if (w->status.phase != MigrationPhase::kPreparingTarget) return ReconcileResult::Success();
      log::Info(log::Obj("vmm", key), "PreparingTarget on " + ctx_.config.node_name)
          .With("vm", log::Obj("vm", vmm->metadata.namespace_, vmm->spec.vm_name));
      return Prepare(*w, stop);
    }
    case MigrationPhase::kPreparingTarget:
      if (vmm->metadata.IsBeingDeleted()) return ReconcileResult::Success();
      return Prepare(*vmm, stop);
    case MigrationPhase::kRunning:
      if (!OutcomeUnknown(*vmm)) return ReconcileResult::Success();  // the source's business
      [[fallthrough]];
    case MigrationPhase::kFailed:
    case MigrationPhase::kCancelled: {
      bool again = false;
      Status st = Fence(*vmm, *obj, &again, stop);
      if (!st.ok()) return ReconcileResult::Error(st);
      // An open migration under SourcePaused / GuestLocationUnknown: the domain may change
      // (the job ends, the guest starts) without an event this controller watches.
      if (again && OutcomeUnknown(*vmm)) return ReconcileResult::RequeueAfter(kRecheck);
      return ReconcileResult::Success();
    }
    case MigrationPhase::kSucceeded: {
      std::lock_guard<std::mutex> l(mu_);
      created_.erase(key);  // the images are the VM's disks now
      return ReconcileResult::Success();
    }
    default:
      return ReconcileResult::Success();
  }
}

}  // namespace ferry::agent

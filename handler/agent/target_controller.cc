#include "agent/target_controller.h"

#include "agent/typed_writes.h"
#include "api/group.h"
#include "domain/domain_builder.h"
#include "log/log.h"

namespace ferry::agent {
namespace {

using api::MigrationPhase;
using controller::ReconcileResult;

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

Status TargetController::CleanUp(const api::VirtualMachineMigration& vmm, const kube::Json& obj) {
  const std::string key = vmm.metadata.Key();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (cleaned_.count(key)) return OkStatus();
  }
  const std::string dom = domain::DomainName(vmm.metadata.namespace_, vmm.spec.vm_name);
  // The VM is on this node (a VM in this node's cache): its domain is this node's own.
  const bool vm_here =
      ctx_.vms->store().Get(vmm.metadata.namespace_ + "/" + vmm.spec.vm_name) != nullptr;
  auto d = ctx_.node.GetDomain(dom);
  if (!d.ok()) return d.status().WithContext("vmm " + key + ": clean-up");
  {
    std::lock_guard<std::mutex> l(mu_);
    cleaned_.insert(key);
  }
  if (d->has_value() && !vm_here) {
    const auto& info = **d;
    const bool never_ran = info.state == domain::DomainState::kShutOff ||
                           (info.state == domain::DomainState::kPaused &&
                            (info.reason == domain::DomainReason::kMigration ||
                             info.reason == domain::DomainReason::kStartingUp ||
                             info.reason == domain::DomainReason::kUnknown));
    if (never_ran) {
      (void)ctx_.node.Destroy(dom);
      Status st = ctx_.node.Undefine(dom);
      log::Info(log::Obj("vmm", key),
                "removed the half-arrived domain " + dom + " (" + st.ToString() + ")");
      ctx_.events.Record(
          obj, kube::EventType::kNormal, "TargetCleanedUp",
          "removed the half-arrived domain " + dom + " from " + ctx_.config.node_name);
    } else {
      log::Info(log::Obj("vmm", key), "keeping domain " + dom + " (" +
                                          std::string(domain::DomainStateName(info.state)) +
                                          "): it may be the only copy of the guest");
      ctx_.events.Record(obj, kube::EventType::kWarning, "DomainKept",
                         "domain " + dom + " is " + domain::DomainStateName(info.state) + " on " +
                             ctx_.config.node_name + " after the migration ended " +
                             std::string(api::ToString(vmm.status.phase)) +
                             "; it is left alone (reported as an orphan) for a person to decide");
    }
  }
  std::vector<std::string> images;
  {
    std::lock_guard<std::mutex> l(mu_);
    images = std::move(created_[key]);
    created_.erase(key);
  }
  for (const auto& path : images) {
    Status st = ctx_.node.DeleteDiskImage(path);
    log::Info(log::Obj("vmm", key),
              "deleted the disk image " + path + " created for it (" + st.ToString() + ")");
  }
  return OkStatus();
}

ReconcileResult TargetController::Reconcile(const std::string& key, std::stop_token stop) {
  auto obj = ctx_.vmm_target->store().Get(key);
  if (!obj) {
    std::lock_guard<std::mutex> l(mu_);
    created_.erase(key);
    cleaned_.erase(key);
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
    case MigrationPhase::kFailed:
    case MigrationPhase::kCancelled: {
      Status st = CleanUp(*vmm, *obj);
      return st.ok() ? ReconcileResult::Success() : ReconcileResult::Error(st);
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

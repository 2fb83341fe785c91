#include "agent/vm_controller.h"

#include "agent/fencing.h"
#include "agent/typed_writes.h"
#include "api/group.h"
#include "api/identity.h"
#include "api/migration.h"
#include "domain/cpu_allocation.h"
#include "domain/domain_builder.h"
#include "kube/writes.h"
#include "log/log.h"

namespace ferry::agent {
namespace {

using controller::ReconcileResult;

// A safety net: libvirt events and informer events normally trigger reconciles at once.
constexpr auto kResync = std::chrono::seconds(60);

const char* Word(VmAction a) {
  switch (a) {
    case VmAction::kDefine:
      return "Defined";
    case VmAction::kStart:
      return "Started";
    case VmAction::kShutdown:
      return "ShuttingDown";
    case VmAction::kDestroy:
      return "Destroyed";
    case VmAction::kUndefine:
      return "Undefined";
    default:
      return "";
  }
}

}  // namespace

std::optional<std::string> VmController::KeyOfDomain(const std::string& domain) {
  auto parts = domain::SplitDomainName(domain);
  if (!parts) return std::nullopt;
  return parts->first + "/" + parts->second;
}

void VmController::Event(const kube::Json& obj, bool warning, const std::string& reason,
                         const std::string& msg) {
  ctx_.events.Record(obj, warning ? kube::EventType::kWarning : kube::EventType::kNormal, reason,
                     msg);
}

VmContext VmController::Observe(const api::VirtualMachine& vm,
                                const std::optional<domain::DomainInfo>& dom) {
  VmContext c;
  c.node = ctx_.config.node_name;
  c.domain = dom;
  c.shutdown_grace = ctx_.config.shutdown_grace;
  const std::string key = vm.metadata.Key();
  // The index is by name: a migration of an earlier VM of this name (deleted, re-created; its
  // vmUID another uid) is not this VM's — a Succeeded one left the new VM never started
  // ("migrated away"), Scheduled forever (docs/adr/0006 §1).
  for (const auto& o : ctx_.vmm_source->store().ByIndex(kIndexVm, key)) {
    auto m = api::VirtualMachineMigration::FromJson(*o);
    if (!m.ok() || !api::MigrationOfVm(*m, vm)) continue;
    const auto phase = m->status.phase;
    if (OutcomeUnknown(*m)) {
      c.outcome_unknown = true;
      c.migration = m->metadata.name;
    }
    if (phase == api::MigrationPhase::kTargetReady || phase == api::MigrationPhase::kRunning) {
      c.migrating_out = true;
      c.migration = m->metadata.name;
    } else if (phase == api::MigrationPhase::kSucceeded && !dom) {
      c.migrated_away = true;
      c.migration = m->metadata.name;
    }
  }
  for (const auto& o : ctx_.vmm_target->store().ByIndex(kIndexVm, key)) {
    auto m = api::VirtualMachineMigration::FromJson(*o);
    if (m.ok() && OutcomeUnknown(*m)) {
      c.outcome_unknown = true;
      c.migration = m->metadata.name;
    }
    if (!m.ok() || m->status.phase != api::MigrationPhase::kSucceeded) continue;
    if (!api::MigrationOfVm(*m, vm)) continue;
    if (m->status.effective_options && m->status.effective_options->offline) {
      c.arrived_offline = true;
      c.migration = m->metadata.name;
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = shutdown_asked_.find(key);
    if (it != shutdown_asked_.end()) {
      c.shutdown_requested_for =
          std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock.Now() - it->second);
    }
  }
  if (auto facts = ctx_.host.Last()) {
    c.libvirt_version = facts->libvirt_version;
    c.qemu_version = facts->qemu_version;
  }
  Status valid = domain::ValidateSpec(vm);
  c.spec_hash = valid.ok() ? StatusOr<std::string>(domain::SpecHash(vm, ctx_.config.domain))
                           : StatusOr<std::string>(valid);
  return c;
}

Status VmController::CreateMissingLocalDisks(const api::VirtualMachine& vm) {
  for (const auto& d : vm.spec.disks) {
    if (d.type != api::DiskType::kLocal || d.network || !d.size || d.path.rfind("/dev/", 0) == 0) {
      continue;
    }
    auto f = ctx_.node.StatFile(d.path);
    if (!f.ok()) return f.status().WithContext("local disk " + d.name);
    if (f->exists) continue;
    const auto format = d.format == api::DiskFormat::kQcow2 ? domain::DiskImageFormat::kQcow2
                                                            : domain::DiskImageFormat::kRaw;
    Status st = ctx_.node.CreateDiskImage(d.path, format, static_cast<uint64_t>(d.size->Value()));
    if (!st.ok()) return st.WithContext("creating local disk " + d.name);
    log::Info(log::Obj("vm", vm.metadata.Key()),
              "created the blank local disk " + d.path + " (" + d.size->String() + ")");
  }
  return OkStatus();
}

Status VmController::Define(const api::VirtualMachine& vm) {
  domain::DomainPlacement placement;
  if (vm.spec.dedicated_cpus) {
    auto facts = ctx_.host.Get();
    if (!facts.ok()) return facts.status();
    auto domains = ctx_.node.ListDomains();
    if (!domains.ok()) return domains.status();
    const std::string name = domain::DomainName(vm.metadata.namespace_, vm.metadata.name);
    std::vector<int> pinned;
    for (const auto& d : *domains) {
      if (d.name != name) pinned.insert(pinned.end(), d.pinned_cpus.begin(), d.pinned_cpus.end());
    }
    auto p = domain::PlaceDomain(vm.spec, facts->cells, ctx_.config.dedicated_cpus, pinned);
    if (!p.ok()) return p.status();
    placement = *p;
  }
  auto built = domain::BuildDomain(vm, ctx_.config.domain, placement);
  if (!built.ok()) return built.status();
  FERRY_RETURN_IF_ERROR(CreateMissingLocalDisks(vm));
  return ctx_.node.Define(built->xml);
}

Status VmController::Perform(const api::VirtualMachine& vm, const kube::Json& obj, VmDecision& d,
                             std::stop_token stop) {
  const std::string& ns = vm.metadata.namespace_;
  const std::string& name = vm.metadata.name;
  const std::string dom = domain::DomainName(ns, name);
  Status st;
  switch (d.action) {
    case VmAction::kNone:
      return OkStatus();
    case VmAction::kAddFinalizer:
      return kube::AddFinalizer(ctx_.api, kube::resources::kVirtualMachines, ns, name,
                                api::kDomainFinalizer, stop)
          .status();
    case VmAction::kRemoveFinalizer: {
      auto r = kube::RemoveFinalizer(ctx_.api, kube::resources::kVirtualMachines, ns, name,
                                     api::kDomainFinalizer, stop);
      if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
      log::Info(log::Obj("vm", vm.metadata.Key()),
                "domain gone from " + ctx_.config.node_name + "; finalizer removed");
      return OkStatus();
    }
    case VmAction::kDefine:
      st = Define(vm);
      break;
    case VmAction::kStart:
      st = ctx_.node.Start(dom);
      break;
    case VmAction::kShutdown:
      st = ctx_.node.Shutdown(dom);
      if (st.ok()) {
        std::lock_guard<std::mutex> l(mu_);
        shutdown_asked_.emplace(vm.metadata.Key(), ctx_.clock.Now());
      }
      break;
    case VmAction::kDestroy:
      st = ctx_.node.Destroy(dom);
      break;
    case VmAction::kUndefine:
      st = ctx_.node.Undefine(dom);
      break;
  }
  const std::string what = Word(d.action);
  if (st.ok()) {
    log::Info(log::Obj("vm", vm.metadata.Key()),
              std::string() + VmActionName(d.action) + " " + dom + " (" + d.why + ")");
    Event(obj, false, what, "domain " + dom + " on " + ctx_.config.node_name + ": " + d.why);
    return st;
  }
  log::Info(log::Obj("vm", vm.metadata.Key()),
            std::string() + VmActionName(d.action) + " " + dom + " failed: " + st.ToString());
  Event(obj, true,
        std::string(VmActionName(d.action)) == "define" ? "DefineFailed" : "DomainActionFailed",
        std::string(VmActionName(d.action)) + " " + dom + " failed: " + st.message());
  if (d.action == VmAction::kDefine || d.action == VmAction::kStart) {
    d.report = true;
    d.phase = api::VmPhase::kFailed;
    api::Condition c;
    c.type = api::kConditionDomain;
    c.status = api::ConditionStatus::kFalse;
    c.reason = d.action == VmAction::kDefine ? "DefineFailed" : "StartFailed";
    c.message = st.message();
    d.condition = c;
  }
  return st;
}

ReconcileResult VmController::Reconcile(const std::string& key, std::stop_token stop) {
  auto obj = ctx_.vms->store().Get(key);
  if (!obj) {
    std::lock_guard<std::mutex> l(mu_);
    shutdown_asked_.erase(key);
    return ReconcileResult::Success();
  }
  auto vm = api::VirtualMachine::FromJson(*obj);
  if (!vm.ok()) return ReconcileResult::TerminalError(vm.status());
  auto dom = ctx_.node.GetDomain(domain::DomainName(vm->metadata.namespace_, vm->metadata.name));
  if (!dom.ok()) return ReconcileResult::Error(dom.status().WithContext("vm " + key));
  const VmContext c = Observe(*vm, *dom);
  VmDecision d = DecideVm(*vm, c);
  if (!dom->has_value() || !(*dom)->IsActive() || vm->spec.running) {
    std::lock_guard<std::mutex> l(mu_);
    shutdown_asked_.erase(key);
  }
  if (stop.stop_requested()) return ReconcileResult::Success();
  const Status acted = Perform(*vm, *obj, d, stop);
  if (d.report && !stop.stop_requested()) {
    const api::WallTime now = ctx_.clock.WallNow();
    auto w = MutateTyped<api::VirtualMachine>(
        ctx_.api, kube::resources::kVirtualMachines, vm->metadata.namespace_, vm->metadata.name,
        [&](api::VirtualMachine& cur) {
          if (cur.metadata.uid != vm->metadata.uid) return false;  // another VM of that name
          const bool changed = ApplyVmStatus(d, cur.metadata.generation, now, &cur.status);
          if (changed) {
            log::Info(log::Obj("vm", key), "phase " + std::string(api::ToString(cur.status.phase)) +
                                               (d.condition ? " (" + d.condition->reason + ": " +
                                                                  d.condition->message + ")"
                                                            : ""));
          }
          return changed;
        },
        true, stop);
    if (!w.ok() && w.status().code() != StatusCode::kNotFound) {
      return ReconcileResult::Error(w.status().WithContext("vm " + key + " status"));
    }
  }
  if (!acted.ok()) {
    if (acted.code() == StatusCode::kInvalid) return ReconcileResult::TerminalError(acted);
    return ReconcileResult::Error(acted);
  }
  if (d.requeue_after) return ReconcileResult::RequeueAfter(*d.requeue_after);
  if (d.action != VmAction::kNone)
    return ReconcileResult::RequeueAfter(std::chrono::milliseconds(200));
  return ReconcileResult::RequeueAfter(kResync);
}

}  // namespace ferry::agent

#include "migration/migration_controller.h"

#include <algorithm>
#include <mutex>

#include "api/group.h"
#include "api/labels.h"
#include "kube/fenced_client.h"
#include "kube/store.h"

namespace ferry::op::migration {
namespace {

using controller::ReconcileResult;

bool IsWaiting(api::MigrationPhase p) {
  return p == api::MigrationPhase::kUnset || p == api::MigrationPhase::kPending ||
         p == api::MigrationPhase::kScheduling;
}

// Applies the decision's metadata to `obj`; true when anything changed.
bool ApplyMetadata(const PhaseDecision& d, kube::Json& obj) {
  kube::Json& md = obj["metadata"];
  bool changed = false;
  if (!md.contains("finalizers") || !md["finalizers"].is_array())
    md["finalizers"] = kube::Json::array();
  kube::Json& fins = md["finalizers"];
  const bool has = std::find(fins.begin(), fins.end(), api::kMigrationFinalizer) != fins.end();
  if (d.add_finalizer && !has) {
    fins.push_back(api::kMigrationFinalizer);
    changed = true;
  }
  if (d.remove_finalizer && has) {
    fins.erase(std::remove(fins.begin(), fins.end(), api::kMigrationFinalizer), fins.end());
    changed = true;
  }
  if (fins.empty()) md.erase("finalizers");
  for (const auto& [k, v] : d.labels) {
    if (api::FullLabelValue(obj, k) != v) {
      api::SetLongLabel(&obj, k, v);  // hashed + annotation when too long for a label
      changed = true;
    }
  }
  return changed;
}

}  // namespace

// ---- CachedWorld --------------------------------------------------------------------------

bool CachedWorld::HandlerAlive(const std::string& node) const {
  return ctx_.state.HandlerAlive(node);
}

std::optional<api::WallTime> CachedWorld::LastHeartbeat(const std::string& node) const {
  return ctx_.state.LastHeartbeat(node);
}

std::optional<std::chrono::nanoseconds> CachedWorld::HandlerSilence(const std::string& node) const {
  return ctx_.state.HandlerSilence(node);
}

std::string CachedWorld::TargetProblem(const std::string& node) const {
  return ctx_.state.TargetProblem(node);
}

std::string CachedWorld::ActiveMigrationOf(const std::string& vm_key,
                                           const std::string& vmm_key) const {
  return ctx_.state.ActiveMigrationOf(vm_key, vmm_key);
}

api::EffectiveMigrationOptions CachedWorld::EffectiveOptions(
    const api::VirtualMachineMigration& vmm, const api::VirtualMachine& vm) const {
  std::vector<api::MigrationPolicy> policies;
  ctx_.policies.store().ForEach([&](const kube::ObjectPtr& o) {
    auto p = api::MigrationPolicy::FromJson(*o);
    if (p.ok()) policies.push_back(std::move(*p));
  });
  api::StringMap ns_labels;
  if (kube::ObjectPtr ns = ctx_.namespaces.store().Get(vm.metadata.namespace_)) {
    if (auto l = ns->find("metadata"); l != ns->end() && l->contains("labels")) {
      for (const auto& [k, v] : (*l)["labels"].items()) {
        if (v.is_string()) ns_labels[k] = v.get<std::string>();
      }
    }
  }
  const api::MigrationPolicy* p = SelectPolicy(policies, ns_labels, vm.metadata.labels);
  return ResolveOptions(vmm.spec, p, ctx_.defaults);
}

SchedulingOutcome CachedWorld::Schedule(const api::VirtualMachineMigration& vmm,
                                        const api::VirtualMachine&) const {
  const auto t0 = ctx_.clock.Now();
  SchedulingOutcome out = ctx_.state.ScheduleMigration(vmm);
  if (out.kind != SchedulingOutcome::Kind::kWait) {
    ctx_.metrics.ObservePlacement("migration",
                                  std::chrono::duration<double>(ctx_.clock.Now() - t0).count());
  }
  if (out.kind == SchedulingOutcome::Kind::kUnschedulable ||
      out.kind == SchedulingOutcome::Kind::kTargetRejected) {
    ctx_.metrics.CountUnschedulable(out.kind == SchedulingOutcome::Kind::kTargetRejected
                                        ? kReasonTargetRejected
                                        : kReasonUnschedulable);
  }
  return out;
}

// ---- MigrationController ------------------------------------------------------------------

MigrationController::MigrationController(Context& ctx) : ctx_(ctx) {}

void MigrationController::WakeWaiting(const std::string& except) {
  if (!wake_) return;
  for (const std::string& k : ctx_.state.WaitingMigrations()) {
    if (k != except) wake_(k);
  }
}

ReconcileResult MigrationController::Reconcile(const std::string& key, std::stop_token stop) {
  kube::ObjectPtr obj = ctx_.vmms.store().Get(key);
  if (!obj) {
    written_.Forget(key);
    return ReconcileResult::Success();
  }
  // Deciding again from a copy our own write replaced would take a second decision from
  // stale facts (say, admit it once more from before its status was written), only for the
  // write to fail with 409; the informer's event for our write queues the key again.
  if (written_.Stale(key, *obj)) return ReconcileResult::Success();
  auto vmm = api::VirtualMachineMigration::FromJson(*obj);
  if (!vmm.ok()) return ReconcileResult::TerminalError(vmm.status());
  const std::string vm_key = vmm->metadata.namespace_ + "/" + VmNameOf(*vmm);
  std::optional<api::VirtualMachine> vm = Cached<api::VirtualMachine>(ctx_.vms, vm_key);

  // Admission and scheduling take shared things (the VM's one migration, a slot, room on a
  // node): decide and count them under one lock.
  std::unique_lock lock(ctx_.state.decision_mutex(), std::defer_lock);
  if (IsWaiting(vmm->status.phase)) lock.lock();
  CachedWorld world(ctx_);
  PhaseDecision d = DecidePhase({*vmm, vm ? &*vm : nullptr, world, ctx_.clock.WallNow(),
                                 ctx_.options.deadlines, ctx_.state.ObservedPhaseAge(*vmm)});
  api::VirtualMachineMigration next = *vmm;
  next.status = d.status;
  if (d.scheduled) {
    ctx_.state.AssumeScheduled(next);
  } else if (d.admitted) {
    ctx_.state.AssumeAdmitted(next);
  }
  if (lock.owns_lock()) lock.unlock();
  auto forget = [&] {
    if (d.scheduled || d.admitted) ctx_.state.ForgetMigrationAssumption(key);
    if (d.scheduled) WakeWaiting(key);  // the slot it took is free again
  };
  // A write that failed: a definite refusal (409, 400/422, 403, 404, or not sent) forgets
  // the decision; one that may have landed (timeout, 5xx, reset) keeps it until the informer
  // shows the VMM newer than `written_against` or kUncertainWriteTtl passes (ADR 6 §5) — a
  // slot given back on a timeout let a sixth migration past a limit of five.
  auto failed = [&](const Status& st, const std::string& written_against) {
    if (!kube::WriteMayHaveLanded(st)) return forget();
    if (d.scheduled || d.admitted)
      ctx_.state.KeepUncertainMigrationAssumption(key, written_against);
  };
  if (GivesUpTurn(vmm->status, d)) WakeWaiting(key);

  kube::Json current = *obj;
  if (ApplyMetadata(d, current)) {
    if (stop.stop_requested()) return forget(), ReconcileResult::Error(CancelledError("stopping"));
    const std::string against = vmm->metadata.resource_version;
    auto written = ctx_.api.Update(kube::resources::kVirtualMachineMigrations, current);
    if (!written.ok()) {
      failed(written.status(), against);
      if (written.status().code() == StatusCode::kNotFound) return ReconcileResult::Success();
      return ReconcileResult::Error(written.status());
    }
    written_.WroteOver(key, current, *written);
    current = std::move(*written);
  }
  if (api::Encode(d.status) != api::Encode(vmm->status)) {
    if (stop.stop_requested()) return forget(), ReconcileResult::Error(CancelledError("stopping"));
    current["status"] = api::Encode(d.status);
    const std::string against = current["metadata"].value("resourceVersion", "");
    auto written = ctx_.api.UpdateStatus(kube::resources::kVirtualMachineMigrations, current);
    if (!written.ok()) {
      failed(written.status(), against);
      if (written.status().code() == StatusCode::kNotFound) return ReconcileResult::Success();
      return ReconcileResult::Error(written.status());
    }
    written_.WroteOver(key, current, *written);
    current = std::move(*written);
    if (d.status.phase != vmm->status.phase) ctx_.metrics.CountTransition(d.status.phase);
  }
  for (const EventNote& e : d.events) {
    ctx_.events.Record(current, e.warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                       e.reason, e.message);
  }
  if (d.requeue_after)
    return ReconcileResult::RequeueAfter(
        std::chrono::duration_cast<Clock::Duration>(*d.requeue_after));
  if (IsWaiting(d.status.phase)) {
    return ReconcileResult::RequeueAfter(
        std::chrono::duration_cast<Clock::Duration>(ctx_.options.resync_interval));
  }
  return ReconcileResult::Success();
}

}  // namespace ferry::op::migration

#include "agent/source_controller.h"

#include "agent/typed_writes.h"
#include "log/log.h"

namespace ferry::agent {

using api::MigrationPhase;
using controller::ReconcileResult;

SourceController::~SourceController() { DetachAll(); }

void SourceController::DetachAll() {
  std::map<std::string, std::unique_ptr<MigrationRunner>> runners;
  {
    std::lock_guard<std::mutex> l(mu_);
    detached_ = true;
    runners.swap(runners_);
  }
  for (auto& [key, r] : runners) r->Detach();
  runners.clear();  // joins
}

int SourceController::Running() const {
  std::lock_guard<std::mutex> l(mu_);
  int n = 0;
  for (const auto& [key, r] : runners_) n += r->finished() ? 0 : 1;
  return n;
}

ReconcileResult SourceController::Reconcile(const std::string& key, std::stop_token stop) {
  auto obj = ctx_.vmm_source->store().Get(key);
  std::unique_lock<std::mutex> l(mu_);
  if (detached_) return ReconcileResult::Success();
  auto it = runners_.find(key);
  if (!obj) {
    if (it != runners_.end() && it->second->finished()) runners_.erase(it);
    return ReconcileResult::Success();
  }
  auto vmm = api::VirtualMachineMigration::FromJson(*obj);
  if (!vmm.ok()) return ReconcileResult::TerminalError(vmm.status());
  if (it != runners_.end()) {
    if (vmm->metadata.IsBeingDeleted() && !it->second->finished()) it->second->Cancel();
    if (!it->second->finished()) return ReconcileResult::Success();
    if (api::IsTerminal(vmm->status.phase)) {
      runners_.erase(it);
      return ReconcileResult::Success();
    }
    // A finished runner and a VMM still open: its write is on the way through the informer,
    // or it could not look at libvirtd; decide again shortly.
    runners_.erase(it);
    return ReconcileResult::RequeueAfter(std::chrono::seconds(2));
  }
  if (stop.stop_requested()) return ReconcileResult::Success();
  switch (vmm->status.phase) {
    case MigrationPhase::kTargetReady: {
      if (vmm->metadata.IsBeingDeleted()) {
        l.unlock();
        const api::WallTime now = ctx_.clock.WallNow();
        auto w = MutateTyped<api::VirtualMachineMigration>(
            ctx_.api, kube::resources::kVirtualMachineMigrations, vmm->metadata.namespace_,
            vmm->metadata.name,
            [&](api::VirtualMachineMigration& cur) {
              if (cur.status.phase != MigrationPhase::kTargetReady) return false;
              cur.status.phase = MigrationPhase::kCancelled;
              cur.status.phase_transition_time = now;
              cur.status.completion_time = now;
              cur.status.reason = "Cancelled";
              cur.status.message =
                  "deleted before the migration started; the guest stays on the source";
              return true;
            },
            true, stop);
        if (!w.ok() && w.status().code() != StatusCode::kNotFound)
          return ReconcileResult::Error(w.status());
        log::Info(log::Obj("vmm", key), "deleted at TargetReady: Cancelled before starting");
        return ReconcileResult::Success();
      }
      auto r = std::make_unique<MigrationRunner>(ctx_, *vmm, MigrationRunner::Start::kFresh);
      r->Launch();
      runners_.emplace(key, std::move(r));
      return ReconcileResult::Success();
    }
    case MigrationPhase::kRunning: {
      auto r = std::make_unique<MigrationRunner>(ctx_, *vmm, MigrationRunner::Start::kReattach);
      if (vmm->metadata.IsBeingDeleted()) r->Cancel();
      r->Launch();
      runners_.emplace(key, std::move(r));
      return ReconcileResult::Success();
    }
    default:
      return ReconcileResult::Success();
  }
}

}  // namespace ferry::agent

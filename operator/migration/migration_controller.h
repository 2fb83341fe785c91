// The migration controller: a thin shell around the phase machine. Reads the VMM and its VM
// from the caches, asks DecidePhase, counts a new admission or schedule in the cluster state
// at once (under the decision lock, so two workers never take the same slot), writes the
// metadata (finalizer, labels) and then the status — each with the resourceVersion read, so
// a 409 means someone else wrote first and the key is retried — and records the Events.
// A cached copy that one of its own writes replaced (the informer has not delivered the
// write yet) is not decided again: the write's echo queues the key.
#pragma once

#include <functional>
#include <stop_token>
#include <string>

#include "cluster/written_versions.h"
#include "context.h"
#include "controller/controller.h"
#include "migration/phase_machine.h"

namespace ferry::op::migration {

class MigrationController {
 public:
  explicit MigrationController(Context& ctx);
  controller::ReconcileResult Reconcile(const std::string& key, std::stop_token stop);
  // How to queue other VMMs again (the controller's Enqueue; set once it exists).
  void SetWake(std::function<void(const std::string&)> wake) { wake_ = std::move(wake); }

 private:
  // Queues every waiting VMM but `except`: a turn or a slot was given back.
  void WakeWaiting(const std::string& except);

  Context& ctx_;
  std::function<void(const std::string&)> wake_;
  WrittenVersions written_;
};

// The world the phase machine sees, over the cluster state and the caches.
class CachedWorld final : public MigrationWorld {
 public:
  explicit CachedWorld(Context& ctx) : ctx_(ctx) {}
  bool HandlerAlive(const std::string& node) const override;
  std::optional<api::WallTime> LastHeartbeat(const std::string& node) const override;
  std::optional<std::chrono::nanoseconds> HandlerSilence(const std::string& node) const override;
  std::string TargetProblem(const std::string& node) const override;
  std::string ActiveMigrationOf(const std::string& vm_key,
                                const std::string& vmm_key) const override;
  api::EffectiveMigrationOptions EffectiveOptions(const api::VirtualMachineMigration& vmm,
                                                  const api::VirtualMachine& vm) const override;
  SchedulingOutcome Schedule(const api::VirtualMachineMigration& vmm,
                             const api::VirtualMachine& vm) const override;

 private:
  Context& ctx_;
};

}  // namespace ferry::op::migration

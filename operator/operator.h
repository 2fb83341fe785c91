// The operator's controllers, wired onto a Manager: main() builds an Operator and calls
// Register before mgr.Run.
//
//   vm           initial placement; activeMigration, history, node flip, PlacementCompliant
//   migration    the phase machine (admission, limits, placement, deadlines, cancel)
//   servergroup  members, compliance, violations, NodeLockBlocked
//   evacuation   drains of cordoned / ferry.dev/drain nodes; rebalance (--rebalance)
//   tick         heartbeats against the clock, retries when the cluster changed, metrics
//
// The cluster state (placement's incremental view + the migration ledger) is fed by the
// informers' event handlers, registered before the controllers' so a reconcile never sees a
// cache newer than the view.
#pragma once

#include <functional>
#include <memory>

#include "cluster/cluster_state.h"
#include "context.h"
#include "core/clock.h"
#include "kube/event_recorder.h"
#include "kube/fenced_client.h"
#include "manager/manager.h"
#include "metrics/operator_metrics.h"
#include "options.h"

namespace ferry::op {

namespace vm {
class VmController;
}
namespace migration {
class MigrationController;
}
namespace servergroup {
class ServerGroupController;
}
namespace evacuation {
class EvacuationController;
}

// Unfinished VMMs in `vmms` with condition GuestLocationUnknown=True (the gauge's value).
int CountGuestLocationUnknown(const kube::Store& vmms);

class Operator {
 public:
  // `events_api` writes the Events (off the controllers' threads); nullptr: `api`.
  Operator(kube::ApiClient& api, OperatorOptions options, Clock& clock = RealClock::Get(),
           kube::ApiClient* events_api = nullptr);
  ~Operator();
  Operator(const Operator&) = delete;
  Operator& operator=(const Operator&) = delete;

  // The lease check of every deciding write (default: the Manager's elector). A driver that
  // runs its own elector (the simulation, tests/sim/) sets it before Register.
  void SetLeaseCheck(std::function<bool()> holds_lease) { lease_check_ = std::move(holds_lease); }
  // Creates the informers, the cluster state's feeds and every controller on `mgr`.
  Status Register(manager::Manager& mgr);

  ClusterState& state() { return state_; }

 private:
  controller::ReconcileResult Tick(const std::string& key);

  kube::ApiClient& api_;
  kube::ApiClient& events_api_;
  std::function<bool()> lease_check_;
  OperatorOptions options_;
  migration::MigrationDefaults defaults_;
  Clock& clock_;
  ClusterState state_;
  std::unique_ptr<kube::FencedApiClient> fenced_api_;  // api_ behind the lease check
  std::unique_ptr<kube::EventRecorder> events_;
  std::unique_ptr<OperatorMetrics> metrics_;
  std::unique_ptr<Context> ctx_;
  std::unique_ptr<vm::VmController> vm_;
  std::unique_ptr<migration::MigrationController> migration_;
  std::unique_ptr<servergroup::ServerGroupController> servergroup_;
  std::unique_ptr<evacuation::EvacuationController> evacuation_;
  controller::Controller* vm_ctl_ = nullptr;
  controller::Controller* migration_ctl_ = nullptr;
  controller::Controller* evacuation_ctl_ = nullptr;
  controller::Controller* servergroup_ctl_ = nullptr;
  uint64_t last_generation_ = 0;
  uint64_t last_hosts_generation_ = 0;
};

}  // namespace ferry::op

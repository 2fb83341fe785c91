// One outgoing migration on the source node: a thread that runs the migration engine for one
// VirtualMachineMigration and reports it (DESIGN §8, source handler):
//   * fresh start (VMM TargetReady): phase Running is written first, with the
//     resourceVersion read, so that a handler restarting after this point re-attaches instead
//     of starting again, and a concurrent Cancelled from the operator wins;
//   * re-attach (VMM Running, found after a restart): the engine follows the libvirt job that
//     is still running (or recovers a broken post-copy). Its hypervisor refuses to start a
//     new migration, so nothing is ever started twice, even if the job ends meanwhile;
//   * progress at most once a second (percent ≤ 100, ETA), every engine action as a
//     convergence action and an Event, PostCopyRecovering while a broken post-copy is retried
//     (Recover() again until it ends), and the outcome (Succeeded with downtime, Cancelled,
//     Failed with libvirt's message or ConvergenceTimeout);
//   * Cancel() (the VMM is being deleted): the engine aborts before the post-copy switch and
//     refuses after it (an Event says so); Detach() (the agent stops): the engine stops
//     following, the libvirt job runs on, nothing is written.
// The target's liveness comes from its Hypervisor heartbeat (no connection to another node).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent_context.h"
#include "agent/migration_report.h"
#include "api/migration.h"
#include "migration/migration_engine.h"

namespace ferry::agent {

class MigrationRunner {
 public:
  enum class Start { kFresh, kReattach };

  MigrationRunner(AgentContext& ctx, api::VirtualMachineMigration vmm, Start how);
  // Detaches and joins.
  ~MigrationRunner();
  MigrationRunner(const MigrationRunner&) = delete;
  MigrationRunner& operator=(const MigrationRunner&) = delete;

  void Launch();
  void Cancel();
  void Detach();
  bool finished() const { return finished_.load(); }
  bool cancel_requested() const { return cancel_requested_.load(); }

 private:
  void Main();
  // TargetReady → Running; false when the VMM is no longer TargetReady (someone else won).
  StatusOr<bool> WriteRunning();
  // The outcome, if the VMM is still TargetReady or Running; retried until written or the
  // agent stops. False when someone else had ended it.
  bool WriteOutcome(const MigrationEnd& end, const migration::MigrationResult* r);
  void WriteRecovering(bool recovering, const std::string& message);
  // Runs one engine (Run, or Recover after a recovering outcome) to its end.
  migration::MigrationResult RunEngine(const migration::MigrationOptions& o, bool recover);
  // Cancels through `engine` once (the VMM is being deleted).
  void DeliverCancel(migration::Migration& engine);
  void OnProgress(const migration::Progress& p);
  void OnAction(const migration::Action& a);
  migration::TargetHealth TargetHealth();
  // Writes pending progress (at most once a second) and convergence actions off the engine's
  // thread, until `stop`.
  void ReportLoop(std::stop_token stop);
  void FlushReports();
  void Record(bool warning, const std::string& reason, const std::string& message);

  AgentContext& ctx_;
  const api::VirtualMachineMigration vmm_;
  const Start how_;
  const std::string key_;
  const std::string vm_key_;
  const std::string domain_;
  std::atomic<bool> finished_{false};
  std::atomic<bool> cancel_requested_{false};
  std::atomic<bool> cancel_delivered_{false};
  std::atomic<bool> detach_requested_{false};
  std::atomic<bool> engine_following_{false};  // the engine runs (fresh) or attached (re-attach)

  std::mutex engine_mu_;
  migration::Migration* engine_ = nullptr;  // the running engine, under engine_mu_

  std::mutex report_mu_;
  std::condition_variable_any report_cv_;
  std::optional<api::WallTime> post_copy_started_;
  uint32_t max_downtime_ms_ = 0;
  std::vector<api::ConvergenceAction> actions_;
  std::optional<api::MigrationProgress> pending_progress_;
  bool actions_dirty_ = false;

  std::thread thread_;
};

}  // namespace ferry::agent

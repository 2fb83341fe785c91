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
//     following, the libvirt job runs on, nothing is written;
//   * fencing (ADR 6 §2): a job that ended without success and left the source paused is not
//     resumed: the phase stays Running, SourcePaused=True, and the runner waits for the
//     target's TargetDomain (fencing.h): Absent/Removed → resume, the job's own failure;
//     Running → destroy and undefine the paused copy, Succeeded. A re-attaching runner that
//     finds the source paused does the same; one that cannot read the VM decides nothing.
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
#include "agent/reattach.h"
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
  // SourcePaused=True (WaitingForTarget) while the VMM is still open; false when it is not.
  bool WriteSourcePaused(const std::string& message);
  // Holds the paused source until the target's word (see above) or Detach. `failed` is what is
  // written when the target has no copy; `resume` says whether the guest is resumed then (not
  // when a person had paused it).
  void HoldPausedSource(MigrationEnd failed, bool resume);
  // GET of the VM, judged as ADR 6 §3 says (only a 404 or another uid is a deletion).
  VmRead ReadVm(const std::optional<domain::DomainInfo>& source_domain);
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

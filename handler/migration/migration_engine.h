// The migration engine: drives one migration of one domain from this node to another, and
// tells its caller what happens. The handler agent (which watches the Kubernetes API) is meant
// to be a thin layer over it: options in, callbacks for progress and actions (-> status and
// Events), Cancel() from a VMM deletion, result out.
//
//   Migration m(options, hypervisor, RealClock::Get(), callbacks, &metrics);
//   std::thread t([&] { result = m.Run(); });   ...   m.Cancel();
//
// Live: pre-copy (post-copy armed when allowed), the ConvergencePolicy decides every poll.
// A domain that already has an outgoing migration job is adopted (attach), not migrated twice.
// Offline: stop (or require stopped), move the definition (and local disks), start on the target.
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "migration/convergence_policy.h"
#include "migration/hypervisor.h"
#include "migration/migration_metrics.h"
#include "migration/migration_plan.h"
#include "migration/migration_types.h"

namespace ferry::migration {

struct MigrationCallbacks {
  std::function<void(const Progress&)> on_progress;  // at most once per progress_interval
  std::function<void(const Action&)> on_action;      // every action, as it is taken
  std::function<void(const std::string&)> on_log;    // notes worth a log line
};

class Migration {
 public:
  Migration(MigrationOptions options, MigrationHypervisor& hypervisor, const Clock& clock,
            MigrationCallbacks callbacks = {}, MigrationMetrics* metrics = nullptr);
  Migration(const Migration&) = delete;
  Migration& operator=(const Migration&) = delete;

  // Runs the migration to its end. Call once.
  MigrationResult Run();

  // Cancels before the post-copy switch (virDomainAbortJob; the guest stays on the source).
  // Refused with FailedPrecondition after the switch or for an offline migration.
  Status Cancel();

  bool switched_to_postcopy() const { return switched_.load(); }

 private:
  MigrationResult RunLive(const DomainFacts& facts, const JobSample& existing_job);
  MigrationResult RunOffline(DomainFacts facts);
  // Polls the job, feeding the policy, until `call` (our migrate call) returns or, when
  // `call` is null, until the job ends.
  void Follow(std::future<Status>* call, std::optional<JobSample>& last);
  void Apply(const Decision& d, const JobSample& s);
  void Report(Action a);
  void Log(const std::string& line);
  void MaybeProgress(const JobSample& s);
  Status TryPostCopyRecovery(const MigrationPlan& plan);
  // Time on the engine's clock since t; Since(started_) is the `at` of actions taken outside a
  // job sample (cancel, recovery) and the result's wall time.
  Millis Since(Clock::TimePoint t) const;
  void Finish(MigrationResult& r, const std::optional<JobSample>& last);
  // Ends a run that stopped without a finished job: sets the status and where the guest is,
  // then Finish.
  MigrationResult End(MigrationResult& r, Status status, GuestLocation where);

  const MigrationOptions options_;
  MigrationHypervisor& hv_;
  const Clock& clock_;
  MigrationCallbacks callbacks_;
  MigrationMetrics* metrics_;
  std::string metrics_key_;
  Clock::TimePoint started_{};
  Clock::TimePoint last_progress_{};
  bool progress_sent_ = false;

  std::mutex mu_;  // guards the switch/cancel/abort decisions and actions_
  bool running_ = false;
  bool offline_ = false;
  bool finished_ = false;
  bool cancel_requested_ = false;
  bool abort_sent_ = false;
  bool aborted_by_policy_ = false;
  std::string abort_reason_;
  std::atomic<bool> switched_{false};
  Millis switched_at_{0};
  std::vector<Action> actions_;
  std::optional<ConvergencePolicy> policy_;
};

}  // namespace ferry::migration

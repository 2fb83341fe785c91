// The migration engine: drives one migration of one domain from this node to another, and
// tells its caller what happens. The node agent is a thin layer over it: options in,
// callbacks for progress and actions (-> status and Events), Cancel() from a VMM deletion,
// Detach() on SIGTERM, result out.
//
//   FuncTargetProbe target([&] { return TargetHealthFromVmmStatus(...); });
//   Migration m(options, *source_hypervisor, target, RealClock::Get(), callbacks, &metrics);
//   std::thread t([&] { result = m.Run(); });   ...   m.Cancel();  /  m.Detach();
//
// The engine talks only to this node's libvirtd (MigrationHypervisor). What it knows of the
// target comes from the TargetProbe: its health (the post-copy switch needs it confirmed
// alive), and, only where the caller has one (the command line), direct access to the
// target's libvirtd for the final state and the start after a cold migration. Without it the
// engine judges by the source (the domain left it) and says in the result what the target
// side must still do (result.target_followup).
//
// Live: pre-copy (post-copy armed when allowed), the ConvergencePolicy decides every poll.
// A domain that already has an outgoing migration job is adopted (attach), not migrated twice;
// a source paused by a broken post-copy goes straight to recovery.
// Offline: stop (or require stopped), move the definition (and local disks), start on the
// target (directly, or left to the target side).
//
// Thread safety: Run() or Recover() once, on one thread; Cancel(), Detach() and the
// accessors from any thread. Callbacks run on the Run() thread or the caller of Cancel(),
// never under the engine's lock, so they may call back into the engine.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

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
  Migration(MigrationOptions options, MigrationHypervisor& source, TargetProbe& target,
            const Clock& clock, MigrationCallbacks callbacks = {},
            MigrationMetrics* metrics = nullptr);
  // Does not wait for a migrate call still blocked in libvirt after Detach(): that thread is
  // let go and keeps using the MigrationHypervisor, which must outlive it (in practice the
  // process exits; libvirtd carries the job on).
  ~Migration();
  Migration(const Migration&) = delete;
  Migration& operator=(const Migration&) = delete;

  // Runs the migration to its end (or attaches to the running job, or recovers a broken
  // post-copy one). Call once.
  MigrationResult Run();

  // For a domain whose post-copy migration broke (a previous run ended kPostCopyRecovering,
  // or the agent restarted and found the VMM recovering): resumes it with backoff until it
  // completes, the limit passes (kPostCopyRecovering again) or Detach(). Instead of Run().
  MigrationResult Recover();

  // Cancels before the post-copy switch (virDomainAbortJob; the guest stays on the source).
  // FailedPrecondition after the switch, for an offline migration or after the end; the
  // abort's own error when libvirt refused it (the engine retries up to abort_attempts).
  Status Cancel();

  // Stops following without touching the job (a handler restarting for an update): Run() /
  // Recover() return Outcome::kDetached promptly, the libvirt job runs on, and a later
  // engine's Run() attaches to it. Not a cancel: the migration may still succeed.
  void Detach();

  bool switched_to_postcopy() const { return switched_.load(); }

 private:
  struct CallThread;
  enum class FollowEnd {
    kEnded,           // our call returned, or the followed job ended
    kPostCopyBroken,  // following: the source reports a broken post-copy
    kBlind,           // following: no usable sample for follow_blind_limit (follow_error_)
    kDetached,
  };
  enum class RecoveryEnd { kCompleted, kNotSplit, kLimit, kDetached };

  MigrationResult RunLive(const DomainFacts& facts, const JobSample& existing_job);
  // Auto with premeasure: measures the dirty rate, decides the start (start_policy.h),
  // adjusts the plan and reports the decision (migration_start.cc).
  void ChooseStart(MigrationPlan& plan);
  MigrationResult RunOffline(DomainFacts facts);
  // Where a followed job (attach, lost call) left the guest, judged by the source.
  Status JudgeFollowed(FollowEnd end);
  // Sets options_.migration_uid as the domain's migration mark (nothing when it is empty).
  Status MarkDomain();
  // Starts the blocking Migrate call on its own thread.
  std::future<Status> StartCall(const MigrationPlan& plan);
  // Ends the call thread: joined when the call returned, let go after a Detach.
  void ReleaseCall();
  // Polls the job, feeding the policy, until `call` returns or, when `call` is null, until
  // the job ends. Returns why it stopped early (blind for follow_blind_limit; a broken
  // post-copy when following; Detach), OK otherwise.
  FollowEnd Follow(std::future<Status>* call, std::optional<JobSample>& last);
  void Apply(const Decision& d, const JobSample& s);
  // Sends a wanted abort (cancel or policy) if its next attempt is due and reports it;
  // returns libvirt's answer (OK when no attempt was due).
  Status DriveAbort(Millis at, const JobSample* s = nullptr);
  // Resumes a broken post-copy until it completes, the limit, or Detach; `why` says how.
  RecoveryEnd RecoverPostCopy(const MigrationPlan& plan, std::optional<JobSample>& last,
                              std::string& why);
  MigrationResult FinishRecovery(MigrationResult& r, const MigrationPlan& plan,
                                 Status migrate_status, std::optional<JobSample>& last);
  // Where the guest is after a failure before the switch; resumes a source the migration
  // left paused. Returns a phrase for the result's message.
  std::string SettleOnSource(MigrationResult& r, const DomainFacts& facts);
  // Confirms success: from the target directly if possible, else from the source.
  void LocateAfterSuccess(MigrationResult& r);
  bool CheckAttachTarget(const JobSample& job, Status& refused);
  TargetHealth ProbeTarget();

  void Report(Action a);
  void Log(const std::string& line);
  void MaybeProgress(const JobSample& s);
  // Waits d unless Detach() comes first; false when detached.
  bool WaitFor(Millis d);
  bool detached();
  Millis Since(Clock::TimePoint t) const;
  void Finish(MigrationResult& r, const std::optional<JobSample>& last);
  MigrationResult End(MigrationResult& r, Status status, GuestLocation where);
  MigrationResult EndDetached(MigrationResult& r, const std::optional<JobSample>& last);

  const MigrationOptions options_;
  MigrationHypervisor& hv_;
  TargetProbe& target_;
  const Clock& clock_;
  MigrationCallbacks callbacks_;
  MigrationMetrics* metrics_;
  std::string metrics_key_;
  Clock::TimePoint started_{};
  Clock::TimePoint last_progress_{};
  bool progress_sent_ = false;
  DomainFacts facts_;
  std::optional<ConvergencePolicy> policy_;  // Run() thread only
  std::shared_ptr<CallThread> call_;
  std::string follow_error_;  // why Follow went blind

  std::mutex mu_;  // guards everything below
  std::condition_variable wake_;
  bool running_ = false;
  bool offline_ = false;
  bool finished_ = false;
  bool detach_requested_ = false;
  bool cancel_requested_ = false;
  // One abort in flight at a time, retried with a bound: wanted by the policy or a cancel.
  bool abort_wanted_ = false;
  bool abort_accepted_ = false;
  bool abort_given_up_ = false;
  bool abort_in_flight_ = false;
  ActionKind abort_kind_ = ActionKind::kAbort;
  int abort_tries_ = 0;
  Clock::TimePoint abort_next_try_{};
  std::string abort_last_error_;
  bool aborted_by_policy_ = false;
  std::string abort_reason_;
  std::atomic<bool> switched_{false};
  Millis switched_at_{0};
  std::vector<Action> actions_;
};

}  // namespace ferry::migration

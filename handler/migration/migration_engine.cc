#include "migration/migration_engine.h"

#include <chrono>
#include <cstdio>
#include <future>
#include <thread>
#include <utility>

namespace ferry::migration {
namespace {

std::string SecsStr(Millis m) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f s", static_cast<double>(m.count()) / 1000.0);
  return b;
}

// Post-copy recovery: attempts and the pause between them (the link may need a moment).

}  // namespace

const char* ActionKindName(ActionKind k) {
  switch (k) {
    case ActionKind::kSetMaxDowntime: return "SetMaxDowntime";
    case ActionKind::kAutoConvergeEngaged: return "AutoConvergeEngaged";
    case ActionKind::kSwitchToPostCopy: return "SwitchToPostCopy";
    case ActionKind::kAbort: return "Abort";
    case ActionKind::kCancel: return "Cancel";
    case ActionKind::kPostCopyRecovery: return "PostCopyRecovery";
    case ActionKind::kAttach: return "Attach";
    case ActionKind::kShutdown: return "Shutdown";
  }
  return "?";
}
const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kSucceeded: return "Succeeded";
    case Outcome::kFailed: return "Failed";
    case Outcome::kCancelled: return "Cancelled";
    case Outcome::kAborted: return "Aborted";
  }
  return "?";
}
const char* GuestLocationName(GuestLocation g) {
  switch (g) {
    case GuestLocation::kUnknown: return "unknown";
    case GuestLocation::kSource: return "source";
    case GuestLocation::kDestination: return "destination";
    case GuestLocation::kSplit: return "split (post-copy failed)";
  }
  return "?";
}
const char* DomainRunStateName(DomainRunState s) {
  switch (s) {
    case DomainRunState::kNotFound: return "not-found";
    case DomainRunState::kRunning: return "running";
    case DomainRunState::kPaused: return "paused";
    case DomainRunState::kPausedPostCopy: return "paused(post-copy)";
    case DomainRunState::kPausedPostCopyFailed: return "paused(post-copy failed)";
    case DomainRunState::kShutOff: return "shut-off";
    case DomainRunState::kOther: return "other";
  }
  return "?";
}

Migration::Migration(MigrationOptions options, MigrationHypervisor& hypervisor, const Clock& clock,
                     MigrationCallbacks callbacks, MigrationMetrics* metrics)
    : options_(std::move(options)), hv_(hypervisor), clock_(clock), callbacks_(std::move(callbacks)),
      metrics_(metrics) {}

void Migration::Report(Action a) {
  {
    std::lock_guard<std::mutex> l(mu_);
    actions_.push_back(a);
  }
  if (metrics_ != nullptr) metrics_->OnAction(a);
  if (callbacks_.on_action) callbacks_.on_action(a);
}

void Migration::Log(const std::string& line) {
  if (callbacks_.on_log) callbacks_.on_log(line);
}

void Migration::MaybeProgress(const JobSample& s) {
  if (metrics_ != nullptr) metrics_->OnSample(metrics_key_, s);
  const auto now = clock_.Now();
  if (progress_sent_ && now - last_progress_ < options_.progress_interval) return;
  progress_sent_ = true;
  last_progress_ = now;
  Progress p{s, s.data_total > 0 ? 100.0 * static_cast<double>(s.data_processed) / static_cast<double>(s.data_total) : 0};
  if (callbacks_.on_progress) callbacks_.on_progress(p);
}

Status Migration::Cancel() {
  std::lock_guard<std::mutex> l(mu_);
  if (switched_.load()) {
    return FailedPreconditionError(
        "cancel refused: the migration switched to post-copy at " + SecsStr(switched_at_) +
        "; the guest now runs on the destination with part of its memory still on the source, so it "
        "cannot go back; the migration will complete (or be recovered)");
  }
  if (offline_) return FailedPreconditionError("cancel refused: an offline migration is not abortable once started");
  if (finished_) return FailedPreconditionError("cancel refused: the migration has already finished");
  cancel_requested_ = true;
  if (!running_) return OkStatus();  // Run() will see the flag before starting, or has ended
  Status st = hv_.AbortJob(options_.domain);
  if (st.ok()) abort_sent_ = true;
  Action a{ActionKind::kCancel, Since(started_), "cancelled by the caller: aborting the migration job (guest stays on the source)"};
  a.ok = st.ok();
  if (!st.ok()) a.reason += "; abort not yet accepted (" + st.message() + "), retried at the next poll";
  actions_.push_back(a);
  if (metrics_ != nullptr) metrics_->OnAction(a);
  if (callbacks_.on_action) callbacks_.on_action(a);
  return OkStatus();
}

void Migration::Apply(const Decision& d, const JobSample& s) {
  Action a;
  a.at = s.elapsed;
  a.reason = d.reason;
  a.remaining_bytes = s.memory_total > 0 ? s.memory_remaining : s.data_remaining;
  a.dirty_rate_bytes_per_s = s.dirty_rate_bytes_per_s;
  a.transfer_rate_bytes_per_s = s.transfer_rate_bytes_per_s;
  a.iteration = s.iteration;
  switch (d.kind) {
    case DecisionKind::kContinue:
      return;
    case DecisionKind::kRaiseMaxDowntime: {
      a.kind = ActionKind::kSetMaxDowntime;
      a.max_downtime_ms = d.max_downtime_ms;
      Status st = hv_.SetMaxDowntime(options_.domain, d.max_downtime_ms);
      a.ok = st.ok();
      if (!st.ok()) a.reason += "; failed: " + st.message();
      break;
    }
    case DecisionKind::kAutoConvergeEngaged:
      a.kind = ActionKind::kAutoConvergeEngaged;
      break;
    case DecisionKind::kSwitchToPostCopy: {
      a.kind = ActionKind::kSwitchToPostCopy;
      std::unique_lock<std::mutex> l(mu_);
      if (cancel_requested_) return;  // cancel wins a tie: it keeps the guest on the source
      Status st = hv_.StartPostCopy(options_.domain);
      a.ok = st.ok();
      if (st.ok()) {
        switched_ = true;
        switched_at_ = s.elapsed;
      } else {
        a.reason += "; failed: " + st.message();
      }
      break;
    }
    case DecisionKind::kAbort: {
      a.kind = ActionKind::kAbort;
      std::unique_lock<std::mutex> l(mu_);
      aborted_by_policy_ = true;
      abort_reason_ = d.reason;
      Status st = hv_.AbortJob(options_.domain);
      abort_sent_ = st.ok();
      a.ok = st.ok();
      if (!st.ok()) a.reason += "; abort failed: " + st.message();
      break;
    }
  }
  Report(a);
}

Millis Migration::Since(Clock::TimePoint t) const { return std::chrono::duration_cast<Millis>(clock_.Now() - t); }

MigrationResult Migration::Run() {
  started_ = clock_.Now();
  MigrationResult r;
  r.mode_used = options_.offline ? "offline" : "precopy";
  if (Status v = ValidateOptions(options_); !v.ok()) {
    r.status = v;
    return r;
  }
  if (metrics_ != nullptr) metrics_key_ = metrics_->OnStart(options_);
  auto facts = hv_.InspectDomain(options_.domain);
  if (!facts.ok()) {
    return End(r, facts.status().WithContext("inspecting domain '" + options_.domain + "' on the source"), GuestLocation::kUnknown);
  }
  r.memory_bytes = facts->memory_bytes;
  if (options_.offline) return RunOffline(*facts);
  auto job = hv_.GetJobStats(options_.domain);
  if (!job.ok()) {
    return End(r, job.status().WithContext("reading the domain's job"), GuestLocation::kUnknown);
  }
  if (job->active && !job->is_migration_out) {
    return End(r, FailedPreconditionError("domain '" + options_.domain + "' is busy with another job (not a migration)"), GuestLocation::kSource);
  }
  return RunLive(*facts, *job);
}

MigrationResult Migration::RunLive(const DomainFacts& facts, const JobSample& existing_job) {
  MigrationResult r;
  r.mode_used = "precopy";
  r.memory_bytes = facts.memory_bytes;
  const bool attach = existing_job.active && existing_job.is_migration_out;
  auto plan = BuildPlan(options_, facts);
  if (!plan.ok()) {
    return End(r, plan.status(), GuestLocation::kSource);
  }
  for (const auto& n : plan->notes) Log(n);
  policy_.emplace(plan->policy);

  std::future<Status> migrate_done;
  std::thread migrate_thread;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (cancel_requested_) {
      r.outcome = Outcome::kCancelled;
      return End(r, CancelledError("cancelled before the migration started"), GuestLocation::kSource);
    }
    running_ = true;
  }
  if (attach) {
    r.attached = true;
    if (existing_job.postcopy) {
      switched_ = true;
      switched_at_ = existing_job.elapsed;
    }
    Report({ActionKind::kAttach, existing_job.elapsed,
            "an outgoing migration job is already running (" + SecsStr(existing_job.elapsed) +
                " old" + (existing_job.postcopy ? ", in post-copy" : "") + "): attached to it instead of starting another"});
  } else {
    Action a{ActionKind::kSetMaxDowntime, Millis(0),
             "initial max downtime (schedule " + std::to_string(plan->policy.downtime_schedule_ms.size()) + " steps)"};
    a.max_downtime_ms = plan->initial_downtime_ms;
    Status st = hv_.SetMaxDowntime(options_.domain, plan->initial_downtime_ms);
    a.ok = st.ok();
    if (!st.ok()) a.reason += "; failed: " + st.message();
    Report(a);
    std::packaged_task<Status()> task([this, &plan] { return hv_.Migrate(options_.domain, options_.destination_uri, *plan); });
    migrate_done = task.get_future();
    migrate_thread = std::thread(std::move(task));
  }

  std::optional<JobSample> last;
  bool following = attach;  // judging by the job and the domain's location, not by our call
  Follow(attach ? nullptr : &migrate_done, last);
  Status migrate_status = OkStatus();
  if (!attach) {
    migrate_status = migrate_done.get();
    migrate_thread.join();
    // Our connection carrying the migrate call was lost: libvirtd runs a peer-to-peer job on
    // its own, so if it is still going, follow it instead of declaring a failure.
    if (migrate_status.code() == StatusCode::kUnavailable) {
      auto again = hv_.GetJobStats(options_.domain);
      const bool running = again.ok() && again->active && again->is_migration_out;
      following = true;
      r.attached = true;
      Report({ActionKind::kAttach, running ? again->elapsed : Millis(0),
              "lost the connection carrying the migrate call (" + migrate_status.message() + "); " +
                  (running ? "the job continues in libvirtd: following it" : "judging by where the domain is")});
      if (running) Follow(nullptr, last);
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    running_ = false;
  }
  if (switched_.load()) r.mode_used = "postcopy";

  if (following) {
    // We did not own (or lost) the migrate call: judge by where the domain is now.
    auto dst = hv_.DestinationState(options_.domain);
    auto src = hv_.SourceState(options_.domain);
    const bool on_dst = dst.ok() && *dst == DomainRunState::kRunning;
    const bool on_src = src.ok() && *src == DomainRunState::kRunning;
    if (on_dst && !on_src) {
      migrate_status = OkStatus();
    } else {
      migrate_status = UnavailableError(std::string("adopted migration job ended without the guest running on the destination (source: ") +
                                        (src.ok() ? DomainRunStateName(*src) : src.status().message()) + ")");
    }
  }

  if (!migrate_status.ok() && switched_.load()) {
    Log("migration failed after the post-copy switch: " + migrate_status.message() + "; trying post-copy recovery");
    Status rec = TryPostCopyRecovery(*plan);
    if (rec.ok()) migrate_status = OkStatus();
    else migrate_status = Status(migrate_status.code(), migrate_status.message() + "; post-copy recovery: " + rec.message());
  }

  if (migrate_status.ok()) {
    r.outcome = Outcome::kSucceeded;
    auto dst = hv_.DestinationState(options_.domain);
    r.guest_location = dst.ok() && *dst == DomainRunState::kRunning ? GuestLocation::kDestination : GuestLocation::kUnknown;
    if (r.guest_location != GuestLocation::kDestination) {
      Log(std::string("migration reported success but the destination domain is ") +
          (dst.ok() ? DomainRunStateName(*dst) : dst.status().message()));
    }
  } else {
    auto src = hv_.SourceState(options_.domain);
    const bool on_src = src.ok() && (*src == DomainRunState::kRunning || *src == DomainRunState::kPaused);
    r.guest_location = switched_.load() ? GuestLocation::kSplit : (on_src ? GuestLocation::kSource : GuestLocation::kUnknown);
    const std::string where = on_src ? "; the guest is still running on the source"
                                     : std::string("; source domain is ") + (src.ok() ? DomainRunStateName(*src) : src.status().message());
    std::lock_guard<std::mutex> l(mu_);
    if (cancel_requested_ && !switched_.load()) {
      r.outcome = Outcome::kCancelled;
      r.status = CancelledError("cancelled: " + migrate_status.message() + where);
    } else if (aborted_by_policy_) {
      r.outcome = Outcome::kAborted;
      r.status = DeadlineExceededError("aborted by the convergence policy: " + abort_reason_ + where);
    } else {
      r.outcome = Outcome::kFailed;
      r.status = Status(migrate_status.code(), "migration failed: " + migrate_status.message() + where);
    }
  }
  Finish(r, last);
  return r;
}

void Migration::Follow(std::future<Status>* call, std::optional<JobSample>& last) {
  bool job_seen = call == nullptr;
  for (;;) {
    if (call != nullptr && call->wait_for(options_.poll_interval) == std::future_status::ready) return;
    if (call == nullptr) std::this_thread::sleep_for(options_.poll_interval);
    auto s = hv_.GetJobStats(options_.domain);
    if (!s.ok()) {
      if (call == nullptr && s.status().code() == StatusCode::kNotFound) return;  // gone from the source
      // Gone from the source after the job ran: the migrate call is about to return.
      const bool gone = s.status().code() == StatusCode::kNotFound || s.status().code() == StatusCode::kFailedPrecondition;
      if (!(job_seen && gone)) Log("job stats: " + s.status().ToString());
      continue;
    }
    if (!s->active) {
      if (call == nullptr) return;  // the followed job ended
      continue;                     // not started yet, or finished: the migrate call returns soon
    }
    job_seen = true;
    if (s->postcopy && !switched_.load()) {
      switched_ = true;
      switched_at_ = s->elapsed;
    }
    last = *s;
    MaybeProgress(*s);
    {
      std::unique_lock<std::mutex> l(mu_);
      if (cancel_requested_ && !abort_sent_ && !switched_.load()) abort_sent_ = hv_.AbortJob(options_.domain).ok();
    }
    Apply(policy_->Observe(*s), *s);
  }
}

Status Migration::TryPostCopyRecovery(const MigrationPlan& plan) {
  MigrationPlan resume = plan;
  resume.flags.postcopy = true;
  resume.flags.postcopy_resume = true;
  const int attempts = options_.postcopy_recovery_attempts;
  Status last = UnavailableError("no recovery attempt allowed (postcopy_recovery_attempts = 0)");
  for (int i = 1; i <= attempts; ++i) {
    auto dst = hv_.DestinationState(options_.domain);
    if (dst.ok() && *dst == DomainRunState::kRunning) {
      auto src = hv_.SourceState(options_.domain);
      if (src.ok() && *src == DomainRunState::kNotFound) return OkStatus();  // it finished after all
    }
    const Millis at = Since(started_);  // when the attempt started; it returns when the migration ends
    last = hv_.Migrate(options_.domain, options_.destination_uri, resume);
    Action a{ActionKind::kPostCopyRecovery, at,
             "post-copy recovery attempt " + std::to_string(i) + "/" + std::to_string(attempts) +
                 (last.ok() ? ": resumed and completed" : ": " + last.message())};
    a.ok = last.ok();
    Report(a);
    if (last.ok()) return last;
    if (i < attempts) std::this_thread::sleep_for(options_.postcopy_recovery_pause);
  }
  return last;
}

MigrationResult Migration::End(MigrationResult& r, Status status, GuestLocation where) {
  r.status = std::move(status);
  r.guest_location = where;
  Finish(r, std::nullopt);
  return r;
}

void Migration::Finish(MigrationResult& r, const std::optional<JobSample>& last) {
  r.wall_time = Since(started_);
  r.total_time = r.wall_time;
  std::optional<JobSample> done;
  if (r.outcome == Outcome::kSucceeded && !options_.offline) done = hv_.CompletedJobStats(options_.domain);
  if (done.has_value()) {
    if (done->elapsed.count() > 0) r.total_time = done->elapsed;
    r.downtime = done->downtime;
    r.bytes_sent = done->data_processed;
    r.iterations = done->iteration;
  } else if (last.has_value()) {
    r.bytes_sent = last->data_processed;
    r.iterations = last->iteration;
    if (last->elapsed.count() > 0 && r.outcome != Outcome::kSucceeded) r.total_time = last->elapsed;
  }
  if (r.outcome == Outcome::kSucceeded && !options_.offline && r.memory_bytes == 0 && last) r.memory_bytes = last->memory_total;
  {
    std::lock_guard<std::mutex> l(mu_);
    r.actions = actions_;
    finished_ = true;
  }
  if (metrics_ != nullptr) metrics_->OnFinish(metrics_key_, r);
}

}  // namespace ferry::migration

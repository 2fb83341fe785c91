#include "migration/migration_engine.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include "migration/tls.h"

namespace ferry::migration {
namespace {

std::string SecsStr(Millis m) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f s", static_cast<double>(m.count()) / 1000.0);
  return b;
}

// How long a followed job's source may stay paused after the job ended before that counts.
constexpr Millis kSettleWait{5000};

std::string StateStr(const StatusOr<DomainRunState>& s) {
  return s.ok() ? DomainRunStateName(*s) : s.status().message();
}

}  // namespace

Migration::Migration(MigrationOptions options, MigrationHypervisor& source, TargetProbe& target,
                     const Clock& clock, MigrationCallbacks callbacks, MigrationMetrics* metrics)
    : options_(std::move(options)),
      hv_(source),
      target_(target),
      clock_(clock),
      callbacks_(std::move(callbacks)),
      metrics_(metrics) {}

Migration::~Migration() { ReleaseCall(); }

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
  Progress p{s,
             s.data_total > 0 ? 100.0 * static_cast<double>(s.data_processed) /
                                    static_cast<double>(s.data_total)
                              : 0,
             policy_ ? policy_->projected_completion() : std::nullopt};
  if (callbacks_.on_progress) callbacks_.on_progress(p);
}

Millis Migration::Since(Clock::TimePoint t) const {
  return std::chrono::duration_cast<Millis>(clock_.Now() - t);
}

bool Migration::WaitFor(Millis d) {
  std::unique_lock<std::mutex> l(mu_);
  wake_.wait_for(l, d, [&] { return detach_requested_; });
  return !detach_requested_;
}

bool Migration::detached() {
  std::lock_guard<std::mutex> l(mu_);
  return detach_requested_;
}

TargetHealth Migration::ProbeTarget() { return target_.Health(); }

Status Migration::Cancel() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (switched_.load()) {
      return FailedPreconditionError(
          "cancel refused: the migration switched to post-copy at " + SecsStr(switched_at_) +
          "; the guest now runs on the destination with part of its memory still on the "
          "source, so it cannot go back; the migration will complete (or be recovered)");
    }
    if (offline_) {
      return FailedPreconditionError(
          "cancel refused: an offline migration is not abortable once started");
    }
    if (finished_) {
      return FailedPreconditionError("cancel refused: the migration has already finished");
    }
    cancel_requested_ = true;
    if (!running_) return OkStatus();  // Run() sees the flag before starting
    if (!abort_wanted_) {
      abort_wanted_ = true;
      abort_kind_ = ActionKind::kCancel;
      abort_next_try_ = clock_.Now();
    }
  }
  Status st = DriveAbort(Since(started_));
  if (!st.ok()) {
    return Status(st.code(), "cancel registered, but libvirt refused the abort (" + st.message() +
                                 "); retried up to " + std::to_string(options_.abort_attempts) +
                                 " times");
  }
  return OkStatus();
}

void Migration::Detach() {
  {
    std::lock_guard<std::mutex> l(mu_);
    detach_requested_ = true;
  }
  wake_.notify_all();
}

MigrationResult Migration::Run() {
  started_ = clock_.Now();
  MigrationResult r;
  r.mode_used = options_.offline ? "offline" : "precopy";
  r.tls = options_.tls;
  if (Status v = ValidateOptions(options_); !v.ok()) {
    r.status = v;
    return r;
  }
  if (metrics_ != nullptr) metrics_key_ = metrics_->OnStart(options_);
  auto facts = hv_.InspectDomain(options_.domain);
  if (!facts.ok()) {
    return End(
        r, facts.status().WithContext("inspecting domain '" + options_.domain + "' on the source"),
        GuestLocation::kUnknown);
  }
  facts_ = *facts;
  r.memory_bytes = facts->memory_bytes;
  if (options_.offline) return RunOffline(*facts);
  auto job = hv_.GetJobStats(options_.domain);
  if (!job.ok()) {
    return End(r, job.status().WithContext("reading the domain's job"), GuestLocation::kUnknown);
  }
  if (job->active && !job->is_migration_out && !job->postcopy_failed) {
    return End(r,
               FailedPreconditionError("domain '" + options_.domain +
                                       "' is busy with another job (not a migration)"),
               GuestLocation::kSource);
  }
  return RunLive(*facts, *job);
}

bool Migration::CheckAttachTarget(const JobSample& job, Status& refused) {
  TargetHypervisor* direct = target_.direct();
  if (direct == nullptr) {
    Log("adopted job: its destination cannot be read from this node; the target side "
        "confirms the incoming domain");
    return true;
  }
  auto dst = direct->GuestState(options_.domain);
  if (!dst.ok()) {
    Log("adopted job: cannot read the target (" + dst.status().message() +
        "); its destination is unchecked");
    return true;
  }
  // An incoming migration shows on the target as a paused domain (running after the switch).
  if (*dst == DomainRunState::kNotFound || *dst == DomainRunState::kShutOff) {
    refused =
        FailedPreconditionError("domain '" + options_.domain + "' has an outgoing migration job (" +
                                SecsStr(job.elapsed) + " old) that does not go to " +
                                options_.destination_uri + ": the target has no incoming domain (" +
                                DomainRunStateName(*dst) + "); left alone, not adopted");
    return false;
  }
  return true;
}

MigrationResult Migration::RunLive(const DomainFacts& facts, const JobSample& existing_job) {
  MigrationResult r;
  r.mode_used = "precopy";
  r.memory_bytes = facts.memory_bytes;
  r.tls = options_.tls;
  const bool broken = existing_job.postcopy_failed;
  const bool attach = !broken && existing_job.active && existing_job.is_migration_out;
  auto plan = BuildPlan(options_, facts);
  if (!plan.ok()) return End(r, plan.status(), GuestLocation::kSource);
  for (const auto& n : plan->notes) Log(n);
  if (!broken && !attach && options_.mode == Mode::kAuto && options_.premeasure.count() > 0) {
    ChooseStart(*plan);
    if (detached()) return EndDetached(r, std::nullopt);  // nothing started
  }
  policy_.emplace(plan->policy);
  bool cancelled_before_start = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    // End() takes mu_ itself (Finish): decided here, ended below, outside the lock (a cancel
    // before the start used to deadlock on it).
    cancelled_before_start = cancel_requested_ && !broken;
    if (!cancelled_before_start) running_ = true;
    if (!cancelled_before_start && (broken || existing_job.postcopy)) {
      switched_ = true;
      switched_at_ = existing_job.elapsed;
    }
  }
  if (cancelled_before_start) {
    r.outcome = Outcome::kCancelled;
    return End(r, CancelledError("cancelled before the migration started"),
               GuestLocation::kSource);
  }
  std::optional<JobSample> last;
  if (broken) {
    r.attached = true;
    Report({ActionKind::kAttach, existing_job.elapsed,
            "the domain's post-copy migration is broken (source paused, post-copy failed): "
            "recovering it"});
    return FinishRecovery(r, *plan, UnavailableError("post-copy migration found broken"), last);
  }

  std::future<Status> migrate_done;
  if (attach) {
    Status refused;
    if (!CheckAttachTarget(existing_job, refused)) {
      {
        std::lock_guard<std::mutex> l(mu_);
        running_ = false;
      }
      return End(r, refused, GuestLocation::kSource);
    }
    r.attached = true;
    Report({ActionKind::kAttach, existing_job.elapsed,
            "an outgoing migration job is already running (" + SecsStr(existing_job.elapsed) +
                " old" + (existing_job.postcopy ? ", in post-copy" : "") +
                "): attached to it instead of starting another" +
                (existing_job.postcopy ? ""
                                       : "; whether it was started with post-copy armed is "
                                         "unknown: a refused switch gives post-copy up")});
  } else {
    if (detached()) return EndDetached(r, last);  // nothing started: nothing left running
    if (Status mark = MarkDomain(); !mark.ok()) {
      {
        std::lock_guard<std::mutex> l(mu_);
        running_ = false;
      }
      return End(r, mark, GuestLocation::kSource);
    }
    Action a{ActionKind::kSetMaxDowntime, Millis(0),
             "initial max downtime (schedule " +
                 std::to_string(plan->policy.downtime_schedule_ms.size()) + " steps)"};
    a.max_downtime_ms = plan->initial_downtime_ms;
    Status st = hv_.SetMaxDowntime(options_.domain, plan->initial_downtime_ms);
    a.ok = st.ok();
    if (!st.ok()) a.reason += "; failed: " + st.message();
    Report(a);
    migrate_done = StartCall(*plan);
  }

  FollowEnd end = Follow(attach ? nullptr : &migrate_done, last);
  bool following = attach;
  Status migrate_status = OkStatus();
  if (end == FollowEnd::kDetached) return EndDetached(r, last);
  if (!attach) {
    migrate_status = migrate_done.get();
    ReleaseCall();
    // Our connection carrying the migrate call was lost: libvirtd runs a peer-to-peer job on
    // its own, so if it is still going, follow it instead of declaring a failure.
    if (migrate_status.code() == StatusCode::kUnavailable) {
      auto again = hv_.GetJobStats(options_.domain);
      const bool running = again.ok() && again->active && again->is_migration_out;
      following = true;
      r.attached = true;
      Report({ActionKind::kAttach, running ? again->elapsed : Millis(0),
              "lost the connection carrying the migrate call (" + migrate_status.message() + "); " +
                  (running ? "the job continues in libvirtd: following it"
                           : "judging by where the domain is")});
      end = running ? Follow(nullptr, last) : FollowEnd::kEnded;
      if (end == FollowEnd::kDetached) return EndDetached(r, last);
    }
  }
  if (following) migrate_status = JudgeFollowed(end);
  return FinishRecovery(r, *plan, migrate_status, last);
}

Status Migration::MarkDomain() {
  if (options_.migration_uid.empty()) return OkStatus();
  Status st = hv_.SetMigrationMark(options_.domain, options_.migration_uid);
  if (!st.ok()) {
    return Status(st.code(), "not started: cannot set the migration mark " +
                                 options_.migration_uid + " on the source domain: " + st.message());
  }
  Log("migration mark " + options_.migration_uid + " set on the source domain");
  return OkStatus();
}

Status Migration::JudgeFollowed(FollowEnd end) {
  if (end == FollowEnd::kPostCopyBroken) {
    return UnavailableError("the followed post-copy migration broke");
  }
  if (end == FollowEnd::kBlind) {
    return DeadlineExceededError("lost sight of the migration job for " +
                                 SecsStr(options_.follow_blind_limit) + ": " + follow_error_);
  }
  // A job that completed leaves the source paused for a moment before libvirt removes the
  // domain: wait for the state to settle rather than mistake that for a failure (and resume a
  // copy that the target now runs).
  StatusOr<DomainRunState> src = hv_.SourceState(options_.domain);
  for (Millis waited{0};
       waited < kSettleWait && src.ok() &&
       (*src == DomainRunState::kPaused || *src == DomainRunState::kPausedPostCopy);
       waited += options_.poll_interval) {
    if (!WaitFor(options_.poll_interval)) break;
    src = hv_.SourceState(options_.domain);
  }
  if (src.ok() && *src == DomainRunState::kNotFound) return OkStatus();  // it left the source
  if (src.ok() &&
      (*src == DomainRunState::kPausedPostCopyFailed || *src == DomainRunState::kPausedPostCopy)) {
    switched_ = true;
    return UnavailableError("the followed post-copy migration broke");
  }
  return UnavailableError(
      "the adopted migration job ended without the guest leaving the source (source: " +
      StateStr(src) + ")");
}

MigrationResult Migration::FinishRecovery(MigrationResult& r, const MigrationPlan& plan,
                                          Status migrate_status, std::optional<JobSample>& last) {
  if (!migrate_status.ok() && switched_.load()) {
    Log("migration failed after the post-copy switch: " + migrate_status.message() +
        "; trying post-copy recovery");
    std::string why;
    switch (RecoverPostCopy(plan, last, why)) {
      case RecoveryEnd::kCompleted:
        migrate_status = OkStatus();
        break;
      case RecoveryEnd::kDetached:
        return EndDetached(r, last);
      case RecoveryEnd::kLimit: {
        {
          std::lock_guard<std::mutex> l(mu_);
          running_ = false;
        }
        r.mode_used = "postcopy";
        r.outcome = Outcome::kPostCopyRecovering;
        r.status = UnavailableError(migrate_status.message() + "; post-copy recovery: " + why);
        r.guest_location = GuestLocation::kSplit;
        Finish(r, last);
        return r;
      }
      case RecoveryEnd::kNotSplit:
        migrate_status = Status(migrate_status.code(),
                                migrate_status.message() + "; post-copy recovery: " + why);
        switched_ = false;  // the guest never left the source
        break;
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    running_ = false;
  }
  if (switched_.load()) r.mode_used = "postcopy";

  if (migrate_status.ok()) {
    r.outcome = Outcome::kSucceeded;
    LocateAfterSuccess(r);
  } else {
    const std::string where = SettleOnSource(r, facts_);
    std::lock_guard<std::mutex> l(mu_);
    std::string abort_note;
    if (abort_given_up_) {
      abort_note = "; the job could not be stopped: " + std::to_string(abort_tries_) +
                   " aborts refused (last: " + abort_last_error_ + ")";
    }
    if (cancel_requested_) {
      r.outcome = Outcome::kCancelled;
      r.status = CancelledError("cancelled: " + migrate_status.message() + where + abort_note);
    } else if (aborted_by_policy_) {
      r.outcome = Outcome::kAborted;
      r.status = DeadlineExceededError("aborted by the convergence policy: " + abort_reason_ +
                                       where + abort_note);
    } else {
      r.outcome = Outcome::kFailed;
      std::string tls_note;
      if (options_.tls) tls_note = ExplainTlsFailure(migrate_status.message());
      if (!tls_note.empty()) tls_note += ": ";
      r.status =
          Status(migrate_status.code(),
                 tls_note + "migration failed: " + migrate_status.message() + where + abort_note);
    }
  }
  Finish(r, last);
  return r;
}

void Migration::LocateAfterSuccess(MigrationResult& r) {
  if (TargetHypervisor* direct = target_.direct(); direct != nullptr) {
    auto dst = direct->GuestState(options_.domain);
    if (dst.ok() && *dst == DomainRunState::kRunning) {
      r.guest_location = GuestLocation::kDestination;
      r.location_seen_by = "target";
      return;
    }
    Log("migration reported success but the destination domain is " + StateStr(dst));
    r.guest_location = GuestLocation::kUnknown;
    return;
  }
  auto src = hv_.SourceState(options_.domain);
  if (src.ok() && (*src == DomainRunState::kNotFound || *src == DomainRunState::kShutOff)) {
    r.guest_location = GuestLocation::kDestination;
    r.location_seen_by = "source";
    return;
  }
  Log("migration reported success but the source domain is " + StateStr(src));
  r.guest_location = GuestLocation::kUnknown;
}

std::string Migration::SettleOnSource(MigrationResult& r, const DomainFacts& facts) {
  auto src = hv_.SourceState(options_.domain);
  if (src.ok() && *src == DomainRunState::kRunning) {
    r.guest_location = GuestLocation::kSource;
    r.location_seen_by = "source";
    return "; the guest is still running on the source";
  }
  if (src.ok() && *src == DomainRunState::kPaused) {
    r.guest_location = GuestLocation::kSource;
    r.location_seen_by = "source";
    if (facts.paused) return "; the guest is on the source, paused as it was before";
    if (options_.hold_paused_source) {
      // ADR 6 §2: libvirt leaves a source paused exactly when the target may already run the
      // guest; the caller resumes it (or destroys it) on the target's word.
      r.guest_location = GuestLocation::kUnknown;
      r.location_seen_by.clear();
      r.source_paused = true;
      return "; the guest is PAUSED on the source and not resumed until the target reports "
             "whether it runs a copy";
    }
    // Never resume a copy the target already runs (two running copies are the one thing
    // worse than a paused guest).
    if (TargetHypervisor* direct = target_.direct(); direct != nullptr) {
      auto dst = direct->GuestState(options_.domain);
      if (dst.ok() && *dst == DomainRunState::kRunning) {
        r.guest_location = GuestLocation::kUnknown;
        return "; the guest is paused on the source and running on the target: left as it is";
      }
    }
    // The migration paused it (stop-and-copy, or a failed switch-over): it must run again.
    Status st = hv_.Resume(options_.domain);
    Action a{ActionKind::kResume, Since(started_),
             st.ok() ? "the failed migration left the guest paused on the source: resumed"
                     : "the failed migration left the guest paused on the source; resume "
                       "failed: " +
                           st.message()};
    a.ok = st.ok();
    Report(a);
    return st.ok() ? "; the guest was left paused on the source and has been resumed"
                   : "; the guest is PAUSED on the source (resume failed: " + st.message() + ")";
  }
  r.guest_location = GuestLocation::kUnknown;
  return "; source domain is " + StateStr(src);
}

MigrationResult Migration::End(MigrationResult& r, Status status, GuestLocation where) {
  r.status = std::move(status);
  r.guest_location = where;
  Finish(r, std::nullopt);
  return r;
}

MigrationResult Migration::EndDetached(MigrationResult& r, const std::optional<JobSample>& last) {
  ReleaseCall();
  {
    std::lock_guard<std::mutex> l(mu_);
    running_ = false;
  }
  if (switched_.load()) r.mode_used = "postcopy";
  r.outcome = Outcome::kDetached;
  r.status = CancelledError(
      "detached: the engine stopped following; a migration job that was running goes on in "
      "libvirtd (a new run attaches to it)");
  r.guest_location = switched_.load() ? GuestLocation::kSplit : GuestLocation::kUnknown;
  Report({ActionKind::kDetach, last ? last->elapsed : Since(started_),
          "detached: the migration job was left running"});
  Finish(r, last);
  return r;
}

void Migration::Finish(MigrationResult& r, const std::optional<JobSample>& last) {
  r.wall_time = Since(started_);
  r.total_time = r.wall_time;
  std::optional<JobSample> done;
  if (r.outcome == Outcome::kSucceeded && !options_.offline) {
    done = hv_.CompletedJobStats(options_.domain);
    if (!done && target_.direct() != nullptr) {
      done = target_.direct()->CompletedJobStats(options_.domain);
    }
  }
  if (done.has_value()) {
    if (done->elapsed.count() > 0) r.total_time = done->elapsed;
    r.downtime = done->downtime;
    r.bytes_sent = done->data_processed;
    r.iterations = done->iteration;
  } else if (last.has_value()) {
    r.bytes_sent = last->data_processed;
    r.iterations = last->iteration;
    if (last->elapsed.count() > 0 && r.outcome != Outcome::kSucceeded) {
      r.total_time = last->elapsed;
    }
  }
  if (r.outcome == Outcome::kSucceeded && !options_.offline && r.memory_bytes == 0 && last) {
    r.memory_bytes = last->memory_total;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    r.actions = actions_;
    finished_ = true;
  }
  if (metrics_ != nullptr) metrics_->OnFinish(metrics_key_, r);
}

}  // namespace ferry::migration

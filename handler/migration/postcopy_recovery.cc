// Post-copy recovery: after the switch the guest runs on the target with part of its memory
// on the source, so it can neither go back nor be written off. The engine resumes the
// migration (VIR_MIGRATE_POSTCOPY_RESUME) with backoff for as long as the outage lasts, up to
// postcopy_recovery_limit per run, then reports Outcome::kPostCopyRecovering; Recover() takes
// it up again (e.g. after a handler restart). Every attempt is made whatever the TargetProbe
// says (ADR 6): libvirt refuses the resume while the target's libvirtd cannot be reached, and
// a probe fed by the target agent's heartbeat says nothing about that libvirtd.
#include <algorithm>

#include "migration/migration_engine.h"

namespace ferry::migration {

MigrationResult Migration::Recover() {
  started_ = clock_.Now();
  MigrationResult r;
  r.mode_used = "postcopy";
  r.tls = options_.tls;
  r.attached = true;
  if (Status v = ValidateOptions(options_); !v.ok()) {
    r.status = v;
    return r;
  }
  if (options_.offline) {
    r.status = InvalidError("an offline migration has no post-copy to recover");
    return r;
  }
  if (metrics_ != nullptr) metrics_key_ = metrics_->OnStart(options_);
  auto facts = hv_.InspectDomain(options_.domain);
  if (!facts.ok()) {
    // Gone from the source: the migration completed meanwhile (or someone removed it).
    return End(r,
               facts.status().WithContext("inspecting domain '" + options_.domain +
                                          "' on the source for post-copy recovery"),
               GuestLocation::kUnknown);
  }
  facts_ = *facts;
  r.memory_bytes = facts->memory_bytes;
  auto plan = BuildPlan(options_, *facts);
  if (!plan.ok()) return End(r, plan.status(), GuestLocation::kSplit);
  policy_.emplace(plan->policy);
  {
    std::lock_guard<std::mutex> l(mu_);
    running_ = true;
    switched_ = true;
  }
  std::optional<JobSample> last;
  return FinishRecovery(r, *plan, UnavailableError("recovering a broken post-copy migration"),
                        last);
}

Migration::RecoveryEnd Migration::RecoverPostCopy(const MigrationPlan& plan,
                                                  std::optional<JobSample>& last,
                                                  std::string& why) {
  MigrationPlan resume = plan;
  resume.flags.postcopy = true;
  resume.flags.postcopy_resume = true;
  const auto begun = clock_.Now();
  Millis pause = options_.postcopy_recovery_pause;
  int attempts = 0;
  std::string last_error = "no attempt yet";
  std::string logged;
  auto note = [&](const std::string& line) {
    if (line != logged) Log(line);
    logged = line;
  };
  for (;;) {
    auto src = hv_.SourceState(options_.domain);
    if (src.ok() && *src == DomainRunState::kNotFound) {
      why = "the domain left the source: the migration completed";
      return RecoveryEnd::kCompleted;
    }
    if (src.ok() && (*src == DomainRunState::kRunning || *src == DomainRunState::kPaused ||
                     *src == DomainRunState::kShutOff)) {
      why = std::string("nothing to recover: the source domain is ") + DomainRunStateName(*src);
      return RecoveryEnd::kNotSplit;
    }
    if (src.ok() && *src == DomainRunState::kPausedPostCopy) {
      // Post-copy is running (resumed by someone else, or not yet seen broken): follow it.
      const FollowEnd end = Follow(nullptr, last);
      if (end == FollowEnd::kDetached) return RecoveryEnd::kDetached;
      if (end == FollowEnd::kBlind) last_error = follow_error_;
      if (end == FollowEnd::kEnded) continue;  // judge by the state again
    } else if (src.ok() && *src == DomainRunState::kPausedPostCopyFailed) {
      // Tried whatever the probe says: the node agent's probe is the target agent's
      // heartbeat, not its libvirtd, and libvirt itself refuses the resume while the target's
      // libvirtd cannot be reached. The probe's word only goes into the message.
      const TargetHealth health = ProbeTarget();
      ++attempts;
      const Millis at = Since(started_);  // the call returns when the migration ends
      std::future<Status> call = StartCall(resume);
      if (Follow(&call, last) == FollowEnd::kDetached) return RecoveryEnd::kDetached;
      Status st = call.get();
      ReleaseCall();
      Action a{ActionKind::kPostCopyRecovery, at,
               "post-copy recovery attempt " + std::to_string(attempts) +
                   (st.ok() ? ": resumed and completed" : ": " + st.message())};
      a.ok = st.ok();
      Report(a);
      if (st.ok()) {
        why = "resumed and completed at attempt " + std::to_string(attempts);
        return RecoveryEnd::kCompleted;
      }
      last_error = st.message() + (health.alive ? "" : " (target probe: " + health.detail + ")");
    } else {
      last_error = src.ok() ? std::string("source domain is ") + DomainRunStateName(*src)
                            : src.status().message();
      note("post-copy recovery waits: " + last_error);
    }
    const Millis spent = Since(begun);
    if (spent >= options_.postcopy_recovery_limit) {
      why = "not resumed within the " +
            std::to_string(options_.postcopy_recovery_limit.count() / 1000) + " s limit (" +
            std::to_string(attempts) + " attempts; last: " + last_error +
            "); the guest stays split, recovery must go on";
      return RecoveryEnd::kLimit;
    }
    if (!WaitFor(std::min(pause, options_.postcopy_recovery_limit - spent))) {
      return RecoveryEnd::kDetached;
    }
    pause = std::min(pause * 2, std::max(options_.postcopy_recovery_max_pause,
                                         options_.postcopy_recovery_pause));
  }
}

}  // namespace ferry::migration

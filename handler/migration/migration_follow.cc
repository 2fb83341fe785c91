// The engine's polling loop: the blocking migrate call on its own thread, job samples fed to
// the convergence policy, its decisions applied, and aborts retried with a bound.
#include <algorithm>
#include <chrono>

#include "migration/migration_engine.h"

namespace ferry::migration {

struct Migration::CallThread {
  std::thread thread;
  std::atomic<bool> returned{false};
};

std::future<Status> Migration::StartCall(const MigrationPlan& plan) {
  ReleaseCall();
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> done = promise->get_future();
  auto call = std::make_shared<CallThread>();
  // Everything by value but the hypervisor: after a Detach this thread may outlive us.
  call->thread = std::thread(
      [hv = &hv_, domain = options_.domain, uri = options_.destination_uri, plan, promise, call] {
        Status st = hv->Migrate(domain, uri, plan);
        call->returned = true;
        promise->set_value(std::move(st));
      });
  call_ = call;
  return done;
}

void Migration::ReleaseCall() {
  if (!call_) return;
  if (call_->thread.joinable()) {
    if (call_->returned.load()) {
      call_->thread.join();
    } else {
      call_->thread.detach();  // blocked in libvirt after a Detach: let it go
    }
  }
  call_.reset();
}

Migration::FollowEnd Migration::Follow(std::future<Status>* call, std::optional<JobSample>& last) {
  auto seen_at = clock_.Now();  // the last usable sample (or the start)
  bool job_seen = call == nullptr;
  std::string logged;
  for (;;) {
    if (call != nullptr) {
      if (call->wait_for(options_.poll_interval) == std::future_status::ready) {
        return FollowEnd::kEnded;
      }
      if (detached()) return FollowEnd::kDetached;
    } else if (!WaitFor(options_.poll_interval)) {
      return FollowEnd::kDetached;
    }
    const TargetHealth health = ProbeTarget();
    auto s = hv_.GetJobStats(options_.domain);
    if (!s.ok()) {
      const StatusCode code = s.status().code();
      if (call == nullptr && code == StatusCode::kNotFound) return FollowEnd::kEnded;  // left
      // Gone from the source after the job ran: our migrate call is about to return.
      const bool gone = code == StatusCode::kNotFound || code == StatusCode::kFailedPrecondition;
      if (!(job_seen && gone) && s.status().message() != logged) {
        logged = s.status().message();
        Log("job stats: " + s.status().ToString());
      }
      // Our own call is bounded by libvirt (keepalive on its connection); a followed job only
      // by this limit.
      if (call == nullptr && Since(seen_at) >= options_.follow_blind_limit) {
        follow_error_ = s.status().ToString();
        return FollowEnd::kBlind;
      }
      continue;
    }
    seen_at = clock_.Now();
    if (s->postcopy_failed) {
      if (!switched_.load()) {
        std::lock_guard<std::mutex> l(mu_);
        switched_ = true;
        switched_at_ = s->elapsed;
      }
      if (call == nullptr) return FollowEnd::kPostCopyBroken;
      continue;  // our call returns with libvirt's error
    }
    if (!s->active) {
      if (call == nullptr) return FollowEnd::kEnded;  // the followed job ended
      continue;  // not started yet, or finished: the migrate call returns soon
    }
    job_seen = true;
    if (s->postcopy && !switched_.load()) {
      std::lock_guard<std::mutex> l(mu_);
      switched_ = true;
      switched_at_ = s->elapsed;
    }
    last = *s;
    MaybeProgress(*s);
    (void)DriveAbort(s->elapsed, &*s);
    Apply(policy_->Observe(*s, health), *s);
  }
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
      // The policy saw the probe at the sample; look again right before the point of no
      // return. Cancel cannot slip in between: it takes the same lock to see switched_.
      const TargetHealth health = ProbeTarget();
      Status st;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (cancel_requested_) {
          st = CancelledError("a cancel is pending (it keeps the guest on the source)");
        } else if (!health.alive) {
          st = UnavailableError("target libvirtd not confirmed alive (" + health.detail + ")");
        } else {
          st = hv_.StartPostCopy(options_.domain);
          if (st.ok()) {
            switched_ = true;
            switched_at_ = s.elapsed;
          }
        }
      }
      policy_->OnSwitch(st.ok(), s.elapsed);
      a.ok = st.ok();
      if (!st.ok()) {
        a.reason += "; not switched: " + st.message();
        a.reason += policy_->switch_refusals() >= policy_->config().max_switch_attempts
                        ? "; post-copy given up (the completion timeout still aborts)"
                        : "; the policy goes on (the completion timeout still aborts)";
      }
      break;
    }
    case DecisionKind::kAbort: {
      {
        std::lock_guard<std::mutex> l(mu_);
        if (!abort_wanted_) {
          abort_wanted_ = true;
          abort_kind_ = ActionKind::kAbort;
          aborted_by_policy_ = true;
          abort_reason_ = d.reason;
          abort_next_try_ = clock_.Now();
        }
      }
      (void)DriveAbort(s.elapsed, &s);
      bool accepted = false;
      {
        std::lock_guard<std::mutex> l(mu_);
        accepted = abort_accepted_;
      }
      policy_->OnAbort(accepted);
      return;  // DriveAbort reported the attempt
    }
  }
  Report(a);
}

Status Migration::DriveAbort(Millis at, const JobSample* s) {
  int attempt = 0;
  Action a;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!abort_wanted_ || abort_accepted_ || abort_given_up_ || abort_in_flight_ ||
        switched_.load() || clock_.Now() < abort_next_try_) {
      return OkStatus();
    }
    abort_in_flight_ = true;
    attempt = ++abort_tries_;
    a.kind = abort_kind_;
    a.reason = abort_kind_ == ActionKind::kCancel
                   ? "cancelled by the caller: aborting the migration job (the guest stays on "
                     "the source)"
                   : abort_reason_;
  }
  Status st = hv_.AbortJob(options_.domain);
  a.at = at;
  if (s != nullptr) {
    a.remaining_bytes = s->memory_total > 0 ? s->memory_remaining : s->data_remaining;
    a.dirty_rate_bytes_per_s = s->dirty_rate_bytes_per_s;
    a.transfer_rate_bytes_per_s = s->transfer_rate_bytes_per_s;
    a.iteration = s->iteration;
  }
  bool given_up = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    abort_in_flight_ = false;
    if (st.ok()) {
      abort_accepted_ = true;
    } else {
      abort_last_error_ = st.message();
      given_up = attempt >= options_.abort_attempts;
      abort_given_up_ = given_up;
      abort_next_try_ = clock_.Now() + options_.poll_interval * (1 << std::min(attempt - 1, 8));
    }
  }
  a.ok = st.ok();
  if (!st.ok()) {
    a.reason += "; abort attempt " + std::to_string(attempt) + "/" +
                std::to_string(options_.abort_attempts) + " refused: " + st.message() +
                (given_up ? "; the job cannot be stopped: following it to its end" : "; retried");
  }
  Report(a);
  return st;
}

}  // namespace ferry::migration

#include "kube/leader_election.h"

#include <algorithm>
#include <thread>

#include "api/time.h"
#include "log/log.h"

namespace ferry::kube {

LeaderElector::LeaderElector(ApiClient& api, LeaderElectionConfig config, Clock& clock)
    : api_(api), config_(std::move(config)), clock_(clock) {}

LeaderElector::~LeaderElector() {
  if (pending_.valid()) pending_.wait();
}

Status LeaderElector::Validate(const LeaderElectionConfig& c) {
  if (c.identity.empty()) return InvalidError("leader election: identity must not be empty");
  if (c.lease_name.empty() || c.lease_namespace.empty()) {
    return InvalidError("leader election: lease name and namespace are required");
  }
  if (c.lease_duration <= c.renew_deadline) {
    return InvalidError("leader election: lease duration must be greater than renew deadline");
  }
  if (c.renew_deadline <= c.retry_period) {
    return InvalidError("leader election: renew deadline must be greater than retry period");
  }
  if (c.retry_period.count() <= 0)
    return InvalidError("leader election: retry period must be positive");
  return OkStatus();
}

std::string LeaderElector::ObservedHolder() const {
  std::lock_guard<std::mutex> l(mu_);
  return observed_holder_;
}

bool LeaderElector::HoldsLease() const {
  if (!leader_.load()) return false;
  std::lock_guard<std::mutex> l(mu_);
  return clock_.Now() < last_renew_ + config_.renew_deadline;
}

Json LeaderElector::LeaseSpec(const std::string& holder, const std::string& acquire_time,
                              int64_t transitions) const {
  const int64_t secs =
      std::chrono::duration_cast<std::chrono::seconds>(config_.lease_duration).count();
  return Json{{"holderIdentity", holder},
              {"leaseDurationSeconds", secs < 1 ? 1 : secs},
              {"acquireTime", acquire_time},
              {"renewTime", api::FormatMicroTime(clock_.WallNow())},
              {"leaseTransitions", transitions}};
}

bool LeaderElector::TryAcquireOrRenew() { return AttemptOnce().ok(); }

Status LeaderElector::AttemptOnce() {
  const auto& rt = resources::kLeases;
  const std::string now_micro = api::FormatMicroTime(clock_.WallNow());
  auto got = api_.Get(rt, config_.lease_namespace, config_.lease_name);
  if (!got.ok()) {
    if (got.status().code() != StatusCode::kNotFound) return got.status();
    Json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
        {"spec", LeaseSpec(config_.identity, now_micro, 0)}};
    auto created = api_.Create(rt, config_.lease_namespace, lease);
    if (!created.ok()) return created.status();
    std::lock_guard<std::mutex> l(mu_);
    observed_spec_ = (*created)["spec"];
    observed_time_ = clock_.Now();
    observed_holder_ = config_.identity;
    return OkStatus();
  }
  Json lease = std::move(*got);
  Json spec = lease.value("spec", Json::object());
  const std::string holder = spec.value("holderIdentity", "");
  std::string new_leader;
  bool held_by_other_and_valid = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (spec != observed_spec_) {
      observed_spec_ = spec;
      observed_time_ = clock_.Now();
      if (holder != observed_holder_) {
        observed_holder_ = holder;
        new_leader = holder;
      }
    }
    const int64_t dur_s = spec.value("leaseDurationSeconds", int64_t{0});
    const bool held_by_other = !holder.empty() && holder != config_.identity;
    held_by_other_and_valid =
        held_by_other && observed_time_ + std::chrono::seconds(dur_s) > clock_.Now();
  }
  // Outside the lock: the callback may log, take its own locks or ask for ObservedHolder().
  if (!new_leader.empty() && config_.on_new_leader) config_.on_new_leader(new_leader);
  if (held_by_other_and_valid) return FailedPreconditionError("lease held by " + holder);
  const bool renewing = holder == config_.identity;
  const int64_t transitions = spec.value("leaseTransitions", int64_t{0}) + (renewing ? 0 : 1);
  const std::string acquire = renewing ? spec.value("acquireTime", now_micro) : now_micro;
  lease["spec"] = LeaseSpec(config_.identity, acquire, transitions);
  // PUT with the resourceVersion we read: a concurrent candidate's write makes this a 409.
  auto updated = api_.Update(rt, lease);
  if (!updated.ok()) return updated.status();
  std::lock_guard<std::mutex> l(mu_);
  observed_spec_ = (*updated)["spec"];
  observed_time_ = clock_.Now();
  observed_holder_ = config_.identity;
  return OkStatus();
}

Status LeaderElector::Release() {
  if (pending_.valid()) pending_.wait();  // a late renewal must not land after the release
  auto got = api_.Get(resources::kLeases, config_.lease_namespace, config_.lease_name);
  if (!got.ok()) return got.status();
  Json lease = std::move(*got);
  if (lease["spec"].value("holderIdentity", "") != config_.identity) return OkStatus();
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = api::FormatMicroTime(clock_.WallNow());
  return api_.Update(resources::kLeases, lease).status();
}

Status LeaderElector::BoundedAttempt(Clock::TimePoint deadline, std::stop_token stop) {
  if (!pending_.valid()) {
    pending_ = std::async(std::launch::async, [this] { return AttemptOnce(); });
  }
  // Wait in short real-time slices so a stop request or the deadline is noticed promptly.
  constexpr auto kSlice = std::chrono::milliseconds(20);
  for (;;) {
    if (pending_.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready) {
      Status st = pending_.get();  // leaves pending_ invalid: the next call starts afresh
      Progress();
      return st;
    }
    if (clock_.Now() >= deadline) {
      Progress();
      return DeadlineExceededError("lease attempt still running at the renew deadline");
    }
    if (stop.stop_requested()) return CancelledError("leader election stopped");
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.Now());
    pending_.wait_for(
        std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(kSlice)));
  }
}

std::chrono::milliseconds LeaderElector::WaitAfter(const Status& attempt) const {
  auto wait = config_.retry_period;
  if (attempt.retry_after()) {
    wait = std::max(wait,
                    std::chrono::duration_cast<std::chrono::milliseconds>(*attempt.retry_after()));
  }
  return wait;
}

void LeaderElector::Progress() {
  std::lock_guard<std::mutex> l(mu_);
  last_progress_ = clock_.Now();
}

void LeaderElector::Sleep(std::chrono::milliseconds d, std::stop_token stop) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, stop, d, [] { return false; });
}

Status LeaderElector::Check(Clock::Duration tolerance) const {
  std::lock_guard<std::mutex> l(mu_);
  if (!running_) return OkStatus();
  const auto now = clock_.Now();
  if (now - last_progress_ > config_.renew_deadline + config_.retry_period + tolerance) {
    return UnavailableError(
        "leader election stuck: no lease attempt finished for " +
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(now - last_progress_).count()) +
        " s");
  }
  if (leader_.load() && now - last_renew_ > config_.lease_duration + tolerance) {
    return UnavailableError(
        "leader election stuck: leading on a lease last renewed " +
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(now - last_renew_).count()) +
        " s ago");
  }
  return OkStatus();
}

Status LeaderElector::Run(std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(Validate(config_));
  {
    std::lock_guard<std::mutex> l(mu_);
    running_ = true;
    last_progress_ = clock_.Now();
  }
  struct NotRunning {
    LeaderElector* e;
    ~NotRunning() {
      std::lock_guard<std::mutex> l(e->mu_);
      e->running_ = false;
    }
  } not_running{this};

  // Campaign. Each attempt is bounded like a renewal, so a stalled API server cannot wedge
  // the campaign (and /healthz can tell a stuck elector).
  Clock::TimePoint start;
  for (;;) {
    if (stop.stop_requested()) return CancelledError("leader election stopped before acquiring");
    start = clock_.Now();
    Status st = BoundedAttempt(start + config_.renew_deadline, stop);
    if (st.ok()) break;
    if (st.code() == StatusCode::kCancelled)
      return CancelledError("leader election stopped before acquiring");
    if (st.code() != StatusCode::kFailedPrecondition) {  // held by another: a standby's normal
      log::V(1)
          .Info(log::Obj("lease", config_.lease_namespace, config_.lease_name),
                "Lease attempt failed; retrying")
          .With("identity", config_.identity)
          .Err(st);
    }
    Sleep(WaitAfter(st), stop);
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    last_renew_ = start;
  }
  leader_ = true;
  if (config_.on_started_leading) config_.on_started_leading();

  // Lead: renew every retry period; every attempt must finish before last_renew +
  // renew_deadline, measured from the START of the last successful attempt.
  Status result = OkStatus();
  Status last_error;
  while (!stop.stop_requested()) {
    Sleep(WaitAfter(last_error), stop);
    if (stop.stop_requested()) break;
    Clock::TimePoint deadline;
    {
      std::lock_guard<std::mutex> l(mu_);
      deadline = last_renew_ + config_.renew_deadline;
    }
    start = clock_.Now();
    Status st = start >= deadline ? DeadlineExceededError("renew deadline passed")
                                  : BoundedAttempt(deadline, stop);
    if (st.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      last_renew_ = start;
      last_error = OkStatus();
      continue;
    }
    if (st.code() == StatusCode::kCancelled) break;
    last_error = st;
    log::Warning(log::Obj("lease", config_.lease_namespace, config_.lease_name),
                 "Lease renewal failed")
        .With("identity", config_.identity)
        .Err(st);
    if (clock_.Now() >= deadline || st.code() == StatusCode::kFailedPrecondition) {
      // Out of time, or someone else holds the lease now.
      result = UnavailableError("leader election lost: could not renew lease " +
                                config_.lease_namespace + "/" + config_.lease_name +
                                " within the renew deadline: " + st.ToString());
      log::Error(log::Obj("lease", config_.lease_namespace, config_.lease_name), "Lost the lease")
          .With("identity", config_.identity)
          .Err(st);
      break;
    }
  }
  // Stop acting first (the callback stops and drains the work), then hand the lease back.
  leader_ = false;
  if (config_.on_stopped_leading) config_.on_stopped_leading();
  if (stop.stop_requested() && result.ok() && config_.release_on_cancel) {
    (void)Release();
  }
  return result;
}

}  // namespace ferry::kube

// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics:
// a candidate takes the lease when it is absent, released, or not renewed for
// lease_duration as observed on the candidate's OWN clock (clocks are never compared across
// machines); the leader renews every retry_period and gives up leadership if it could not
// renew for renew_deadline, so it stops acting before anyone else may take over.
//
// Why the leader stops first: a renewal that succeeds was started at time S (leader's clock);
// the server applied it after S, and any other candidate saw it after that, so the others
// wait until at least S + lease_duration. The leader measures its deadline from S too — every
// attempt (GET + PUT, however the network or the server stalls them) is abandoned when
// S + renew_deadline passes, and the leader then stops (on_stopped_leading) — and
// renew_deadline < lease_duration. The gap (5 s by default) is what on_stopped_leading has to
// cancel in-flight work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "core/clock.h"
#include "kube/api_client.h"

namespace ferry::kube {

struct LeaderElectionConfig {
  std::string lease_namespace = "ferry-system";
  std::string lease_name = "ferry-operator";
  std::string identity;  // unique per candidate (pod name + random suffix)
  // Defaults of the issue and of client-go's controllers.
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
  // On a clean stop, hand the lease back (after on_stopped_leading returned) so a successor
  // need not wait lease_duration.
  bool release_on_cancel = true;
  // Called on the elector's thread once leading starts; must return quickly (start work on
  // other threads).
  std::function<void()> on_started_leading;
  // Called once when leadership ends (lost or stopped), on the elector's thread, BEFORE the
  // lease is released: stop the work and wait for it here.
  std::function<void()> on_stopped_leading;
  // Observed holder changed (called without the elector's lock held).
  std::function<void(const std::string&)> on_new_leader;
};

class LeaderElector {
 public:
  LeaderElector(ApiClient& api, LeaderElectionConfig config, Clock& clock = RealClock::Get());
  // Waits for an attempt still in flight (bounded by the API client's request timeouts).
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Validates the configuration (durations ordered, identity set).
  static Status Validate(const LeaderElectionConfig& c);

  // Campaigns, leads, and returns when `stop` is requested (kCancelled before acquiring, OK
  // after leading) or leadership is lost (kUnavailable).
  Status Run(std::stop_token stop);
  bool IsLeader() const { return leader_.load(); }
  // True while this process can prove by its own monotonic clock that it still holds the
  // lease: it leads and the last successful acquire/renew started less than renew_deadline
  // ago (the instant the elector gives up; the others wait at least lease_duration from the
  // same start). Thread-safe and cheap: callers check it right before every write that
  // decides, so a process paused past its deadline (SIGSTOP, a long GC-like stall) sends
  // nothing even before the elector's own thread has run and noticed the loss.
  bool HoldsLease() const;
  std::string ObservedHolder() const;

  // One attempt to acquire or renew the lease; true when we hold it afterwards. Unbounded
  // (Run bounds it). Exposed so tests can drive the protocol step by step.
  bool TryAcquireOrRenew();
  // Gives the lease back if we hold it (holder "" and a 1 s duration). Run does this on a
  // clean stop when release_on_cancel is set.
  Status Release();

  // Liveness (for /healthz): fails when the elector is stuck — no attempt completed or
  // abandoned for renew_deadline + retry_period + tolerance, or we believe we lead while our
  // last renewal is older than lease_duration + tolerance (client-go's HealthzAdaptor).
  Status Check(Clock::Duration tolerance = std::chrono::seconds(20)) const;

 private:
  // The outcome of one attempt: OK (we hold the lease) or why not.
  Status AttemptOnce();
  // Runs AttemptOnce on a helper thread and waits for it until `deadline` (the clock's
  // time) or stop; kDeadlineExceeded when the deadline passed first (the attempt is then
  // abandoned: it keeps running, and the next call waits for it instead of starting another).
  Status BoundedAttempt(Clock::TimePoint deadline, std::stop_token stop);
  // The wait before the next attempt: retry_period, or the server's Retry-After if longer.
  std::chrono::milliseconds WaitAfter(const Status& attempt) const;
  void Sleep(std::chrono::milliseconds d, std::stop_token stop);
  void Progress();
  Json LeaseSpec(const std::string& holder, const std::string& acquire_time,
                 int64_t transitions) const;

  ApiClient& api_;
  LeaderElectionConfig config_;
  Clock& clock_;
  std::atomic<bool> leader_{false};

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  Json observed_spec_;                // last lease spec seen
  Clock::TimePoint observed_time_{};  // local time when observed_spec_ last changed
  std::string observed_holder_;
  Clock::TimePoint last_renew_{};     // start of the last successful attempt while leading
  Clock::TimePoint last_progress_{};  // last time Run completed or abandoned an attempt
  bool running_ = false;
  std::future<Status> pending_;  // the attempt in flight, if any
};

}  // namespace ferry::kube

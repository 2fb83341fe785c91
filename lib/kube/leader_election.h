// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics:
// a candidate takes the lease when it is absent, released, or not renewed for
// lease_duration as observed on the candidate's OWN clock (clocks are never compared across
// machines); the leader renews every retry_period and gives up leadership if it could not
// renew for renew_deadline, so it stops acting before anyone else may take over.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
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
  // On a clean stop, hand the lease back so a successor need not wait lease_duration.
  bool release_on_cancel = true;
  std::function<void()> on_started_leading;  // called on the elector's thread
  std::function<void()> on_stopped_leading;  // called once when leadership ends
  std::function<void(const std::string&)> on_new_leader;  // observed holder changed
};

class LeaderElector {
 public:
  LeaderElector(ApiClient& api, LeaderElectionConfig config, Clock& clock = RealClock::Get());

  // Validates the configuration (durations ordered, identity set).
  static Status Validate(const LeaderElectionConfig& c);

  // Campaigns, leads, and returns when `stop` is requested or leadership is lost.
  Status Run(std::stop_token stop);
  bool IsLeader() const { return leader_.load(); }
  std::string ObservedHolder() const;

  // One attempt to acquire or renew the lease; true when we hold it afterwards.
  // Exposed so tests can drive the protocol step by step.
  bool TryAcquireOrRenew();

 private:
  void Release();
  void Sleep(std::chrono::milliseconds d, std::stop_token stop);
  Json LeaseSpec(const std::string& holder, const std::string& acquire_time, int64_t transitions) const;

  ApiClient& api_;
  LeaderElectionConfig config_;
  Clock& clock_;
  std::atomic<bool> leader_{false};

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  Json observed_spec_;                 // last lease spec seen
  std::string observed_rv_;
  Clock::TimePoint observed_time_{};   // local time when observed_spec_ last changed
  std::string observed_holder_;
};

}  // namespace ferry::kube

#include "kube/leader_election.h"

#include "api/time.h"

namespace ferry::kube {

LeaderElector::LeaderElector(ApiClient& api, LeaderElectionConfig config, Clock& clock)
    : api_(api), config_(std::move(config)), clock_(clock) {}

Status LeaderElector::Validate(const LeaderElectionConfig& c) {
  if (c.identity.empty()) return InvalidError("leader election: identity must not be empty");
  if (c.lease_name.empty() || c.lease_namespace.empty()) return InvalidError("leader election: lease name and namespace are required");
  if (c.lease_duration <= c.renew_deadline) return InvalidError("leader election: lease duration must be greater than renew deadline");
  if (c.renew_deadline <= c.retry_period) return InvalidError("leader election: renew deadline must be greater than retry period");
  if (c.retry_period.count() <= 0) return InvalidError("leader election: retry period must be positive");
  return OkStatus();
}

std::string LeaderElector::ObservedHolder() const {
  std::lock_guard<std::mutex> l(mu_);
  return observed_holder_;
}

Json LeaderElector::LeaseSpec(const std::string& holder, const std::string& acquire_time, int64_t transitions) const {
  const int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(config_.lease_duration).count();
  return Json{{"holderIdentity", holder},
              {"leaseDurationSeconds", secs < 1 ? 1 : secs},
              {"acquireTime", acquire_time},
              {"renewTime", api::FormatMicroTime(clock_.WallNow())},
              {"leaseTransitions", transitions}};
}

bool LeaderElector::TryAcquireOrRenew() {
  const auto& rt = resources::kLeases;
  const std::string now_micro = api::FormatMicroTime(clock_.WallNow());
  auto got = api_.Get(rt, config_.lease_namespace, config_.lease_name);
  if (!got.ok()) {
    if (got.status().code() != StatusCode::kNotFound) return false;
    Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
                  {"spec", LeaseSpec(config_.identity, now_micro, 0)}};
    auto created = api_.Create(rt, config_.lease_namespace, lease);
    if (!created.ok()) return false;
    std::lock_guard<std::mutex> l(mu_);
    observed_spec_ = (*created)["spec"];
    observed_rv_ = (*created)["metadata"].value("resourceVersion", "");
    observed_time_ = clock_.Now();
    observed_holder_ = config_.identity;
    return true;
  }
  Json lease = std::move(*got);
  Json spec = lease.value("spec", Json::object());
  const std::string holder = spec.value("holderIdentity", "");
  {
    std::lock_guard<std::mutex> l(mu_);
    if (spec != observed_spec_) {
      observed_spec_ = spec;
      observed_time_ = clock_.Now();
      if (holder != observed_holder_) {
        observed_holder_ = holder;
        if (config_.on_new_leader && !holder.empty()) config_.on_new_leader(holder);
      }
    }
    const int64_t dur_s = spec.value("leaseDurationSeconds", int64_t{0});
    const bool held_by_other = !holder.empty() && holder != config_.identity;
    if (held_by_other && observed_time_ + std::chrono::seconds(dur_s) > clock_.Now()) return false;
  }
  const bool renewing = holder == config_.identity;
  const int64_t transitions = spec.value("leaseTransitions", int64_t{0}) + (renewing ? 0 : 1);
  const std::string acquire = renewing ? spec.value("acquireTime", now_micro) : now_micro;
  lease["spec"] = LeaseSpec(config_.identity, acquire, transitions);
  // PUT with the resourceVersion we read: a concurrent candidate's write makes this a 409.
  auto updated = api_.Update(rt, lease);
  if (!updated.ok()) return false;
  std::lock_guard<std::mutex> l(mu_);
  observed_spec_ = (*updated)["spec"];
  observed_time_ = clock_.Now();
  observed_holder_ = config_.identity;
  return true;
}

void LeaderElector::Release() {
  auto got = api_.Get(resources::kLeases, config_.lease_namespace, config_.lease_name);
  if (!got.ok()) return;
  Json lease = std::move(*got);
  if (lease["spec"].value("holderIdentity", "") != config_.identity) return;
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = api::FormatMicroTime(clock_.WallNow());
  (void)api_.Update(resources::kLeases, lease);
}

void LeaderElector::Sleep(std::chrono::milliseconds d, std::stop_token stop) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, stop, d, [] { return false; });
}

Status LeaderElector::Run(std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(Validate(config_));
  // Campaign.
  while (!stop.stop_requested() && !TryAcquireOrRenew()) Sleep(config_.retry_period, stop);
  if (stop.stop_requested()) return CancelledError("leader election stopped before acquiring");
  leader_ = true;
  if (config_.on_started_leading) config_.on_started_leading();
  // Lead: renew every retry period; give up when no renewal succeeded for renew_deadline.
  auto last_renew = clock_.Now();
  Status result = OkStatus();
  while (!stop.stop_requested()) {
    Sleep(config_.retry_period, stop);
    if (stop.stop_requested()) break;
    if (TryAcquireOrRenew()) {
      last_renew = clock_.Now();
      continue;
    }
    if (clock_.Now() - last_renew >= config_.renew_deadline) {
      result = UnavailableError("leader election lost: could not renew lease " + config_.lease_namespace +
                                                "/" + config_.lease_name + " within the renew deadline");
      break;
    }
  }
  leader_ = false;
  if (stop.stop_requested() && config_.release_on_cancel) Release();
  if (config_.on_stopped_leading) config_.on_stopped_leading();
  return result;
}

}  // namespace ferry::kube

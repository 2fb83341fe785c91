// Replicas for leader-election tests: each is a Manager whose one controller, while it may
// act, writes a marker (writer, time) into a ConfigMap and records each reconcile's
// [start, end] on this machine's steady clock, so a test can prove that no two replicas acted
// at the same time.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "manager/manager.h"

namespace ferry::manager::testing {

using Steady = std::chrono::steady_clock;

inline std::string Ms(Steady::time_point t0, Steady::time_point t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t - t0).count()) +
         " ms";
}

class MarkerLog {
 public:
  struct Interval {
    std::string who;
    Steady::time_point start, end;
    bool wrote = false;
  };
  explicit MarkerLog(Steady::time_point t0) : t0_(t0) {}
  Steady::time_point t0() const { return t0_; }
  void Add(Interval iv) {
    std::lock_guard<std::mutex> l(mu_);
    intervals_.push_back(iv);
  }
  std::vector<Interval> Get() const {
    std::lock_guard<std::mutex> l(mu_);
    return intervals_;
  }
  size_t Count(const std::string& who, bool wrote_only) const {
    std::lock_guard<std::mutex> l(mu_);
    return std::count_if(intervals_.begin(), intervals_.end(), [&](const Interval& i) {
      return i.who == who && (i.wrote || !wrote_only);
    });
  }
  // End of `who`'s last reconcile / start of its first.
  Steady::time_point LastEnd(const std::string& who) const {
    Steady::time_point t{};
    for (const auto& i : Get()) {
      if (i.who == who) t = std::max(t, i.end);
    }
    return t;
  }
  Steady::time_point FirstStart(const std::string& who) const {
    Steady::time_point t = Steady::time_point::max();
    for (const auto& i : Get()) {
      if (i.who == who) t = std::min(t, i.start);
    }
    return t;
  }

 private:
  const Steady::time_point t0_;
  mutable std::mutex mu_;
  std::vector<Interval> intervals_;
};

struct ReplicaTiming {
  std::chrono::milliseconds lease{6000}, renew{4000}, retry{500};
};

// A replica `id` campaigning for lease `lease_name` in `ns`; its controller patches the
// ConfigMap ns/marker every ~50 ms while it leads.
inline std::unique_ptr<Manager> MarkerReplica(kube::ApiClient& api, kube::ApiClient& election_api,
                                              const std::string& ns, const std::string& lease_name,
                                              const std::string& id, MarkerLog& log,
                                              ReplicaTiming timing = {}) {
  ManagerOptions mo;
  mo.name = "replica-" + id;
  mo.ops_port = -1;
  mo.election_api = &election_api;
  kube::LeaderElectionConfig le;
  le.lease_namespace = ns;
  le.lease_name = lease_name;
  le.identity = id;
  le.lease_duration = timing.lease;
  le.renew_deadline = timing.renew;
  le.retry_period = timing.retry;
  mo.leader_election = le;
  auto mgr = std::make_unique<Manager>(api, std::move(mo));
  kube::InformerOptions io;
  io.ns = ns;
  ControllerSpec spec;
  spec.name = "marker";
  spec.reconcile = [&log, &api, ns, id](const std::string&, std::stop_token stop) {
    MarkerLog::Interval iv{id, Steady::now(), {}, false};
    if (!stop.stop_requested()) {
      kube::Json patch = {{"data", {{"writer", id}, {"at", Ms(log.t0(), iv.start)}}}};
      iv.wrote = api.Patch(kube::resources::kConfigMaps, ns, "marker", patch).ok();
    }
    iv.end = Steady::now();
    log.Add(iv);
    return controller::ReconcileResult::RequeueAfter(std::chrono::milliseconds(50));
  };
  spec.watches = {For(mgr->SharedInformer(kube::resources::kConfigMaps, io))};
  EXPECT_TRUE(mgr->AddController(std::move(spec)).ok());
  return mgr;
}

}  // namespace ferry::manager::testing

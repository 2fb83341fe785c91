// Leader election when the leader is cut off from the API server (its connections go through
// a TcpProxy that stops forwarding; the API server keeps serving the other replica). Both
// replicas run a Manager whose controller keeps writing a marker ConfigMap while it may act,
// recording each reconcile's [start, end] on this machine's steady clock. The cut-off leader
// must stop acting — its in-flight reconcile cancelled and returned — before the other
// replica's first reconcile starts: the intervals never overlap.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "kube/config.h"
#include "kube_env.h"
#include "manager/manager.h"
#include "tcp_proxy.h"

namespace ferry::manager {
namespace {

using kube::testing::ClientFromEnv;
using kube::testing::ConfigMap;
using kube::testing::CreateTestNamespace;
using kube::testing::Env;
using kube::testing::Eventually;
using Steady = std::chrono::steady_clock;

struct Interval {
  std::string who;
  Steady::time_point start, end;
  bool wrote = false;
};

std::string Since(Steady::time_point t0, Steady::time_point t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t - t0).count()) + " ms";
}

TEST(LeaderCutoffIT, CutOffLeaderStopsActingBeforeTheStandbyTakesOver) {
  auto direct = ClientFromEnv();
  ASSERT_NE(direct, nullptr);
  const std::string ns = CreateTestNamespace(*direct, "it-cutoff");
  ASSERT_TRUE(direct->Create(kube::resources::kConfigMaps, ns, ConfigMap(ns, "marker")).ok());

  // Replica A reaches the API server only through the proxy.
  auto cfg = kube::LoadKubeconfig(Env("KUBECONFIG"));
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const auto colon = cfg->server.rfind(':');
  testing::TcpProxy proxy(std::stoi(cfg->server.substr(colon + 1)));
  ASSERT_GT(proxy.port(), 0);
  kube::ClusterConfig via_proxy = *cfg;
  via_proxy.server = cfg->server.substr(0, colon + 1) + std::to_string(proxy.port());
  // Marker writes give up after 1 s (so a write blocked on the cut connection returns soon
  // after its reconcile is cancelled); the elector's requests after 2 s.
  kube::RestOptions work = kube::testing::TestRestOptions();
  work.request_timeout = std::chrono::milliseconds(1000);
  kube::RestOptions elect = work;
  elect.request_timeout = std::chrono::milliseconds(2000);
  auto a_api = kube::RestApiClient::FromConfig(via_proxy, work);
  auto a_elect = kube::RestApiClient::FromConfig(via_proxy, elect);
  auto b_api = kube::RestApiClient::FromConfig(*cfg, work);
  auto b_elect = kube::RestApiClient::FromConfig(*cfg, elect);

  const auto t0 = Steady::now();
  std::mutex mu;
  std::vector<Interval> intervals;
  auto make = [&](kube::ApiClient& api, kube::ApiClient& eapi, const std::string& id) {
    ManagerOptions mo;
    mo.name = "replica-" + id;
    mo.ops_port = -1;
    mo.election_api = &eapi;
    kube::LeaderElectionConfig le;
    le.lease_namespace = ns;
    le.lease_name = "cutoff";
    le.identity = id;
    le.lease_duration = std::chrono::milliseconds(6000);
    le.renew_deadline = std::chrono::milliseconds(4000);
    le.retry_period = std::chrono::milliseconds(500);
    mo.leader_election = le;
    auto mgr = std::make_unique<Manager>(api, std::move(mo));
    kube::InformerOptions io;
    io.ns = ns;
    ControllerSpec spec;
    spec.name = "marker";
    spec.reconcile = [&, id, api_ptr = &api](const std::string&, std::stop_token stop) {
      Interval iv{id, Steady::now(), {}, false};
      if (!stop.stop_requested()) {
        // The marker: who wrote it and when (ms since the test started).
        kube::Json patch = {{"data", {{"writer", id}, {"at", Since(t0, iv.start)}}}};
        iv.wrote = api_ptr->Patch(kube::resources::kConfigMaps, ns, "marker", patch).ok();
      }
      iv.end = Steady::now();
      std::lock_guard<std::mutex> l(mu);
      intervals.push_back(iv);
      return controller::ReconcileResult::RequeueAfter(std::chrono::milliseconds(50));
    };
    spec.watches = {For(mgr->SharedInformer(kube::resources::kConfigMaps, io))};
    EXPECT_TRUE(mgr->AddController(std::move(spec)).ok());
    return mgr;
  };
  auto a = make(*a_api, *a_elect, "a");
  auto b = make(*b_api, *b_elect, "b");
  std::stop_source stop;
  Status a_result, b_result;
  std::thread ra([&] { a_result = a->Run(stop.get_token()); });
  ASSERT_TRUE(a->WaitForStarted(std::chrono::seconds(30)));
  std::thread rb([&] { b_result = b->Run(stop.get_token()); });
  // A leads and writes markers; B stands by.
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(mu);
    return intervals.size() >= 5;
  }));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_FALSE(b->IsWorking());
  const auto cut_at = Steady::now();
  proxy.Cut();
  ASSERT_TRUE(b->WaitForStarted(std::chrono::seconds(30))) << "the standby never took over";
  const auto b_started = Steady::now();
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(mu);
    return intervals.back().who == "b" && intervals.back().wrote;
  }));
  ra.join();  // A's Run ends by itself: it lost the lease
  EXPECT_EQ(a_result.code(), StatusCode::kUnavailable) << a_result;
  stop.request_stop();
  rb.join();
  EXPECT_TRUE(b_result.ok()) << b_result;

  std::lock_guard<std::mutex> l(mu);
  Steady::time_point a_last_end{}, b_first_start = Steady::time_point::max();
  int a_writes = 0, b_writes = 0;
  for (const auto& iv : intervals) {
    if (iv.who == "a") {
      a_last_end = std::max(a_last_end, iv.end);
      a_writes += iv.wrote;
    } else {
      b_first_start = std::min(b_first_start, iv.start);
      b_writes += iv.wrote;
    }
  }
  std::printf("cut at %s; A's last reconcile ended at %s; B's first began at %s (B started %s); "
              "markers written: A %d, B %d\n",
              Since(t0, cut_at).c_str(), Since(t0, a_last_end).c_str(), Since(t0, b_first_start).c_str(),
              Since(t0, b_started).c_str(), a_writes, b_writes);
  EXPECT_GT(a_writes, 0);
  EXPECT_GT(b_writes, 0);
  EXPECT_LT(a_last_end, b_first_start) << "both replicas acted at the same time";
  // A stopped within its renew deadline (+ the 1 s a blocked write takes to give up, + slack).
  EXPECT_LT(a_last_end - cut_at, std::chrono::milliseconds(4000 + 1000 + 1500));
  // The marker on the server is B's.
  auto m = direct->Get(kube::resources::kConfigMaps, ns, "marker");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)["data"]["writer"], "b");
}

}  // namespace
}  // namespace ferry::manager

// Leader election when the leader is cut off from the API server (its connections go through
// a TcpProxy that stops forwarding; the API server keeps serving the other replica). Both
// replicas run a Manager whose controller keeps writing a marker ConfigMap while it may act,
// recording each reconcile's [start, end] on this machine's steady clock. The cut-off leader
// must stop acting — its in-flight reconcile cancelled and returned — before the other
// replica's first reconcile starts: the intervals never overlap.
#include <gtest/gtest.h>

#include "kube/config.h"
#include "kube_env.h"
#include "manager/manager.h"
#include "marker_replica.h"
#include "tcp_proxy.h"

namespace ferry::manager {
namespace {

using kube::testing::ClientFromEnv;
using kube::testing::ConfigMap;
using kube::testing::CreateTestNamespace;
using kube::testing::Env;
using kube::testing::Eventually;
using testing::MarkerLog;
using testing::MarkerReplica;
using testing::Ms;
using testing::Steady;

TEST(LeaderCutoffIT, CutOffLeaderStopsActingBeforeTheStandbyTakesOver) {
  auto direct = ClientFromEnv();
  ASSERT_NE(direct, nullptr);
  const std::string ns = CreateTestNamespace(*direct, "it-cutoff");
  ASSERT_TRUE(direct->Create(kube::resources::kConfigMaps, ns, ConfigMap(ns, "marker")).ok());

  // Replica A reaches the API server only through the proxy.
  auto cfg = kube::LoadKubeconfig(Env("KUBECONFIG"));
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const auto colon = cfg->server.rfind(':');
  ferry::testing::TcpProxy proxy(std::stoi(cfg->server.substr(colon + 1)));
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

  MarkerLog log(Steady::now());
  const auto t0 = log.t0();
  auto a = MarkerReplica(*a_api, *a_elect, ns, "cutoff", "a", log);
  auto b = MarkerReplica(*b_api, *b_elect, ns, "cutoff", "b", log);
  std::stop_source stop;
  Status a_result, b_result;
  std::thread ra([&] { a_result = a->Run(stop.get_token()); });
  ASSERT_TRUE(a->WaitForStarted(std::chrono::seconds(30)));
  std::thread rb([&] { b_result = b->Run(stop.get_token()); });
  // A leads and writes markers; B stands by.
  ASSERT_TRUE(Eventually([&] { return log.Count("a", true) >= 5; }));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_FALSE(b->IsWorking());
  const auto cut_at = Steady::now();
  proxy.Cut();
  ASSERT_TRUE(b->WaitForStarted(std::chrono::seconds(30))) << "the standby never took over";
  const auto b_started = Steady::now();
  ASSERT_TRUE(Eventually([&] { return log.Count("b", true) >= 1; }));
  ra.join();  // A's Run ends by itself: it lost the lease
  EXPECT_EQ(a_result.code(), StatusCode::kUnavailable) << a_result;
  stop.request_stop();
  rb.join();
  EXPECT_TRUE(b_result.ok()) << b_result;

  const auto a_last_end = log.LastEnd("a");
  const auto b_first_start = log.FirstStart("b");
  const size_t a_writes = log.Count("a", true), b_writes = log.Count("b", true);
  std::printf(
      "cut at %s; A's last reconcile ended at %s; B's first began at %s (B started %s); "
      "markers written: A %zu, B %zu\n",
      Ms(t0, cut_at).c_str(), Ms(t0, a_last_end).c_str(), Ms(t0, b_first_start).c_str(),
      Ms(t0, b_started).c_str(), a_writes, b_writes);
  EXPECT_GT(a_writes, 0u);
  EXPECT_GT(b_writes, 0u);
  EXPECT_LT(a_last_end, b_first_start) << "both replicas acted at the same time";
  // A stopped within its renew deadline (+ the 1 s a blocked write takes to give up, + slack).
  EXPECT_LT(a_last_end - cut_at, std::chrono::milliseconds(4000 + 1000 + 2500));
  // The marker on the server is B's.
  auto m = direct->Get(kube::resources::kConfigMaps, ns, "marker");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)["data"]["writer"], "b");
}

}  // namespace
}  // namespace ferry::manager

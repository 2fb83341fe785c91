// Leader election when the API server itself stalls: it is paused with SIGSTOP for longer than
// the lease (both replicas lose it), then resumed. The leader must stop acting within its
// renew deadline while the server is frozen, and the replicas' acting intervals never overlap.
// Runs on the kube_restart fixture's own API server (pausing the shared one would stall every
// other test).
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "kube_env.h"
#include "marker_replica.h"

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

TEST(ApiServerPauseIT, LeaderStopsActingWhileTheApiServerIsFrozen) {
  auto direct = ClientFromEnv();
  ASSERT_NE(direct, nullptr);
  std::ifstream pid_file(Env("KUBE_UP_DIR") + "/run/kube-apiserver.pid");
  pid_t pid = 0;
  ASSERT_TRUE(pid_file >> pid) << "no kube-apiserver pid in KUBE_UP_DIR";
  const std::string ns = CreateTestNamespace(*direct, "it-pause");
  ASSERT_TRUE(direct->Create(kube::resources::kConfigMaps, ns, ConfigMap(ns, "marker")).ok());
  kube::RestOptions work = kube::testing::TestRestOptions();
  work.request_timeout = std::chrono::milliseconds(1000);
  // The elector's requests keep the default 30 s timeout: only the elector's own deadline
  // can make the leader stop in time.
  kube::RestOptions elect = kube::testing::TestRestOptions();
  auto a_api = ClientFromEnv(work), a_elect = ClientFromEnv(elect);
  auto b_api = ClientFromEnv(work), b_elect = ClientFromEnv(elect);
  MarkerLog log(Steady::now());
  auto a = MarkerReplica(*a_api, *a_elect, ns, "pause", "a", log);
  auto b = MarkerReplica(*b_api, *b_elect, ns, "pause", "b", log);
  std::stop_source stop;
  Status a_result, b_result;
  std::thread ra([&] { a_result = a->Run(stop.get_token()); });
  ASSERT_TRUE(a->WaitForStarted(std::chrono::seconds(30)));
  std::thread rb([&] { b_result = b->Run(stop.get_token()); });
  ASSERT_TRUE(Eventually([&] { return log.Count("a", true) >= 5; }));
  std::this_thread::sleep_for(std::chrono::seconds(1));

  const auto frozen_at = Steady::now();
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  // Longer than the lease (6 s): when the server wakes up, the lease has expired for anyone.
  const bool a_stopped = Eventually([&] { return !a->IsWorking(); }, std::chrono::seconds(8));
  const auto a_stopped_at = Steady::now();
  std::this_thread::sleep_for(std::chrono::seconds(8) - (a_stopped_at - frozen_at));
  const auto resumed_at = Steady::now();
  ASSERT_EQ(::kill(pid, SIGCONT), 0);
  EXPECT_TRUE(a_stopped) << "the leader still acted 8 s into the freeze";

  ra.join();  // A lost the lease: its Run ends
  EXPECT_EQ(a_result.code(), StatusCode::kUnavailable) << a_result;
  ASSERT_TRUE(b->WaitForStarted(std::chrono::seconds(30)))
      << "the standby never took over after the resume";
  ASSERT_TRUE(Eventually([&] { return log.Count("b", true) >= 1; }));
  stop.request_stop();
  rb.join();
  const auto a_last_end = log.LastEnd("a");
  const auto b_first_start = log.FirstStart("b");
  std::printf(
      "frozen at %s, resumed at %s; A's last reconcile ended at %s; B's first began at %s\n",
      Ms(log.t0(), frozen_at).c_str(), Ms(log.t0(), resumed_at).c_str(),
      Ms(log.t0(), a_last_end).c_str(), Ms(log.t0(), b_first_start).c_str());
  EXPECT_LT(a_last_end, b_first_start) << "both replicas acted at the same time";
  // Within the renew deadline (4 s) + a blocked write's 1 s + slack, all during the freeze.
  EXPECT_LT(a_last_end - frozen_at, std::chrono::milliseconds(4000 + 1000 + 2500));
  EXPECT_LT(a_last_end, resumed_at);
}

}  // namespace
}  // namespace ferry::manager

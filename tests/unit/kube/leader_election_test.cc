// The elector's timing rules over a scripted HTTP server (the protocol against a real API
// server, and a leader cut off from it: tests/integration).
#include "kube/leader_election.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fake_http.h"

namespace ferry::kube {
namespace {

using namespace testing;  // NOLINT: the fakes
using std::chrono::milliseconds;

LeaderElectionConfig Short(const std::string& id) {
  LeaderElectionConfig c;
  c.lease_namespace = "ns";
  c.lease_name = "l";
  c.identity = id;
  c.lease_duration = milliseconds(1500);
  c.renew_deadline = milliseconds(1000);
  c.retry_period = milliseconds(100);
  return c;
}

Json Lease(const std::string& holder, const std::string& rv) {
  return Json{
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata", {{"name", "l"}, {"namespace", "ns"}, {"resourceVersion", rv}}},
      {"spec", {{"holderIdentity", holder}, {"leaseDurationSeconds", 1}, {"leaseTransitions", 0}}}};
}

TEST(LeaderElectorTest, CampaignWaitsRetryAfterOfAThrottledServer) {
  auto http = std::make_shared<FakeHttp>();
  std::atomic<int> gets{0};
  http->send = [&](const http::Request& r) -> StatusOr<http::Response> {
    if (r.method == "GET" && gets++ < 2) return StatusResponse(429, "TooManyRequests", 1);
    if (r.method == "GET") return StatusResponse(404, "NotFound");
    return JsonResponse(201, Lease("me", "1"));
  };
  RestOptions o = NoLimits();
  o.max_throttle_retries = 0;
  RestApiClient api(http, FakeConfig(), o);
  std::atomic<bool> leading{false};
  LeaderElectionConfig c = Short("me");
  c.lease_duration = milliseconds(3000);  // attempts are bounded by renew_deadline (> 1 s)
  c.renew_deadline = milliseconds(2000);
  c.on_started_leading = [&] { leading = true; };
  LeaderElector e(api, c);
  std::jthread run([&](std::stop_token st) { (void)e.Run(st); });
  const auto t0 = Steady::now();
  while (!leading && Steady::now() - t0 < std::chrono::seconds(10))
    std::this_thread::sleep_for(milliseconds(5));
  ASSERT_TRUE(leading.load());
  auto g = http->requests("/leases/l");
  ASSERT_GE(g.size(), 3u);
  EXPECT_GE(g[1].at - g[0].at, milliseconds(990)) << "retried after retry_period, not Retry-After";
  EXPECT_GE(g[2].at - g[1].at, milliseconds(990));
}

// A renewal that hangs (a blackholed connection) is abandoned at the renew deadline,
// measured from the start of the last successful renewal: Run reports the loss and
// on_stopped_leading runs, while the request is still hanging.
TEST(LeaderElectorTest, HangingRenewalLosesLeadershipAtTheRenewDeadline) {
  auto http = std::make_shared<FakeHttp>();
  std::atomic<bool> hang{false};
  std::stop_source release_hang;
  http->send = [&](const http::Request& r) -> StatusOr<http::Response> {
    if (hang) {
      WaitForStop(release_hang.get_token());
      return UnavailableError("connection reset");
    }
    if (r.method == "GET") return JsonResponse(200, Lease("me", "5"));
    return JsonResponse(200, Lease("me", "6"));
  };
  RestApiClient api(http, FakeConfig(), NoLimits());
  std::atomic<bool> leading{false};
  std::atomic<int64_t> stopped_at_ms{-1};
  const auto t0 = Steady::now();
  LeaderElectionConfig c = Short("me");
  c.on_started_leading = [&] { leading = true; };
  c.on_stopped_leading = [&] {
    stopped_at_ms = std::chrono::duration_cast<milliseconds>(Steady::now() - t0).count();
  };
  LeaderElector e(api, c);
  Status result;
  std::thread run([&] { result = e.Run({}); });
  while (!leading) std::this_thread::sleep_for(milliseconds(5));
  std::this_thread::sleep_for(milliseconds(300));  // a few renewals
  EXPECT_TRUE(e.Check().ok());
  const auto hung_at = Steady::now();
  hang = true;
  while (stopped_at_ms < 0 && Steady::now() - hung_at < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  const auto lost_after = Steady::now() - hung_at;
  EXPECT_GE(stopped_at_ms.load(), 0) << "still leading 10 s after the API server went silent";
  // The deadline (1 s after the last renewal began) plus scheduling slack on a loaded machine;
  // without the bound the elector would wait for the hanging request forever.
  EXPECT_LE(lost_after, milliseconds(1000 + 1500)) << "much later than the renew deadline";
  EXPECT_FALSE(e.IsLeader());
  release_hang.request_stop();
  run.join();
  EXPECT_EQ(result.code(), StatusCode::kUnavailable);
}

// Check (for /healthz): fails when no attempt has finished for renew_deadline + retry_period
// + tolerance. An elector whose Run thread is blocked in a callback is stuck.
TEST(LeaderElectorTest, CheckFailsWhenTheElectorIsStuck) {
  auto http = std::make_shared<FakeHttp>();
  http->send = [&](const http::Request& r) -> StatusOr<http::Response> {
    if (r.method == "GET") return StatusResponse(404, "NotFound");
    return JsonResponse(201, Lease("me", "1"));
  };
  RestApiClient api(http, FakeConfig(), NoLimits());
  std::stop_source unblock;
  LeaderElectionConfig c = Short("me");
  c.on_started_leading = [&] {
    WaitForStop(unblock.get_token());
  };  // a callback that never returns
  LeaderElector e(api, c);
  EXPECT_TRUE(e.Check().ok());  // not running
  std::jthread run([&](std::stop_token st) { (void)e.Run(st); });
  const auto t0 = Steady::now();
  while (e.Check(milliseconds(100)).ok() && Steady::now() - t0 < std::chrono::seconds(10)) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  Status st = e.Check(milliseconds(100));
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("stuck"), std::string::npos) << st;
  EXPECT_GE(Steady::now() - t0, milliseconds(1000 + 100 + 100));
  unblock.request_stop();
  run.request_stop();
}

}  // namespace
}  // namespace ferry::kube

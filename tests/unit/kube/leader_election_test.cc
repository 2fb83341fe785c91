// The elector's timing rules over a scripted HTTP server (the protocol against a real API
// server, and a leader cut off from it: tests/integration).
#include "kube/leader_election.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/clock.h"
#include "fake_http.h"
#include "kube/fenced_client.h"

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

// The incident of issue 20: the leader was SIGSTOPped past its lease, another replica took
// over, and on SIGCONT the old one wrote spec.running=false in the same second it logged
// "Lost the lease" — its elector thread had not run yet. HoldsLease judges by the monotonic
// clock alone: once last renewal + renew deadline has passed, no write leaves, whatever the
// elector's thread is doing (here: asleep for its retry period, still believing it leads).
TEST(LeaderElectorTest, NoWriteLeavesOnceTheRenewDeadlinePassedEvenBeforeTheElectorNoticed) {
  auto http = std::make_shared<FakeHttp>();
  http->send = [&](const http::Request& r) -> StatusOr<http::Response> {
    if (r.path.find("/leases/") != std::string::npos) {
      if (r.method == "GET") return StatusResponse(404, "NotFound");
      return JsonResponse(201, Lease("me", "1"));
    }
    return JsonResponse(200, Obj("batch-1", "8"));
  };
  RestApiClient api(http, FakeConfig(), NoLimits());
  FakeClock clock;
  std::atomic<bool> leading{false};
  LeaderElectionConfig c = Short("me");
  c.lease_duration = std::chrono::seconds(15);
  c.renew_deadline = std::chrono::seconds(10);
  c.retry_period = std::chrono::seconds(5);  // real time: the elector sleeps through the test
  c.release_on_cancel = false;
  c.on_started_leading = [&] { leading = true; };
  LeaderElector e(api, c, clock);
  FencedApiClient fenced(
      api, [&e] { return e.HoldsLease(); }, "lease ns/l");
  EXPECT_FALSE(e.HoldsLease()) << "not leading yet";
  std::jthread run([&](std::stop_token st) { (void)e.Run(st); });
  const auto t0 = Steady::now();
  while (!leading && Steady::now() - t0 < std::chrono::seconds(10))
    std::this_thread::sleep_for(milliseconds(5));
  ASSERT_TRUE(leading.load());
  EXPECT_TRUE(e.HoldsLease());
  Json vm = Obj("batch-1", "7");
  vm["metadata"]["namespace"] = "default";
  EXPECT_TRUE(fenced.Update(resources::kVirtualMachines, vm).ok());

  clock.Advance(std::chrono::milliseconds(9999));
  EXPECT_TRUE(e.HoldsLease()) << "1 ms before the renew deadline";
  clock.Advance(std::chrono::milliseconds(1));  // the pause: the deadline has passed
  EXPECT_TRUE(e.IsLeader()) << "the elector's thread has not noticed yet";
  EXPECT_FALSE(e.HoldsLease());
  const size_t puts_before = http->requests("/virtualmachines/batch-1").size();
  StatusOr<Json> w = fenced.Update(resources::kVirtualMachines, vm);
  EXPECT_EQ(w.status().code(), StatusCode::kFailedPrecondition) << w.status();
  EXPECT_FALSE(WriteMayHaveLanded(w.status())) << "a fenced write is a definite refusal";
  StatusOr<Json> p = fenced.Patch(resources::kVirtualMachines, "default", "batch-1",
                                  {{"spec", {{"running", false}}}});
  EXPECT_EQ(p.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(fenced.Delete(resources::kVirtualMachines, "default", "batch-1").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(http->requests("/virtualmachines/batch-1").size(), puts_before)
      << "a write left a replica past its renew deadline";
  EXPECT_EQ(fenced.refused(), 3u);
  EXPECT_TRUE(fenced.Get(resources::kVirtualMachines, "default", "batch-1").ok())
      << "reads are not fenced";
  run.request_stop();
}

TEST(FencedApiClientTest, WhatCountsAsADefiniteRefusal) {
  for (StatusCode c :
       {StatusCode::kConflict, StatusCode::kAlreadyExists, StatusCode::kInvalid,
        StatusCode::kPermissionDenied, StatusCode::kNotFound, StatusCode::kUnauthenticated,
        StatusCode::kTooManyRequests, StatusCode::kFailedPrecondition, StatusCode::kCancelled}) {
    EXPECT_FALSE(WriteMayHaveLanded(Status(c, "x"))) << StatusCodeName(c);
  }
  for (StatusCode c : {StatusCode::kUnavailable, StatusCode::kDeadlineExceeded,
                       StatusCode::kInternal, StatusCode::kUnknown}) {
    EXPECT_TRUE(WriteMayHaveLanded(Status(c, "x"))) << StatusCodeName(c);
  }
}

}  // namespace
}  // namespace ferry::kube

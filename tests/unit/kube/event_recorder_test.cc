// The event recorder's failure paths over a scripted HTTP server (its normal path against a
// real API server: tests/integration/informer_it.cc).
#include "kube/event_recorder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fake_http.h"

namespace ferry::kube {
namespace {

using namespace testing;  // NOLINT: the fakes

const Json kVm = {{"apiVersion", "ferry.dev/v1alpha1"},
                  {"kind", "VirtualMachine"},
                  {"metadata", {{"name", "vm"}, {"namespace", "ns"}, {"uid", "u"}}}};

TEST(EventRecorderTest, ThrottledCreateWaitsRetryAfterAndIsNotDropped) {
  auto http = std::make_shared<FakeHttp>();
  std::atomic<int> posts{0};
  http->send = [&](const http::Request& r) -> StatusOr<http::Response> {
    if (r.method == "POST" && posts++ == 0) return StatusResponse(429, "TooManyRequests", 1);
    return JsonResponse(201, Json{{"kind", "Event"}});
  };
  RestOptions o = NoLimits();
  o.max_throttle_retries = 0;  // the recorder, not the REST client, sees the 429
  RestApiClient api(http, FakeConfig(), o);
  EventRecorder rec(api, "test", "host");
  rec.Record(kVm, EventType::kNormal, "Scheduled", "on node-a");
  rec.Flush();
  EXPECT_EQ(rec.stats().created, 1u);
  EXPECT_EQ(rec.stats().dropped, 0u);
  EXPECT_EQ(rec.stats().throttled, 1u);
  auto p = http->requests("/events");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_GE(p[1].at - p[0].at, std::chrono::milliseconds(990));
}

// A repeat whose count patch fails (not because the Event is gone) must not create a second
// Event for the same occurrence; a repeat whose Event is gone (404) creates a new one.
TEST(EventRecorderTest, FailedCountPatchDoesNotDuplicateTheEvent) {
  auto http = std::make_shared<FakeHttp>();
  int patch_status = 500;
  http->send = [&](const http::Request& r) -> StatusOr<http::Response> {
    if (r.method == "PATCH") return StatusResponse(patch_status, "Whatever");
    return JsonResponse(201, Json{{"kind", "Event"}});
  };
  RestApiClient api(http, FakeConfig(), NoLimits());
  EventRecorder rec(api, "test", "host");
  rec.Record(kVm, EventType::kWarning, "Failed", "boom");
  rec.Flush();
  rec.Record(kVm, EventType::kWarning, "Failed", "boom");
  rec.Flush();
  EXPECT_EQ(http->requests("/events").size(), 2u);  // one POST, one failed PATCH
  EXPECT_EQ(rec.stats().created, 1u);
  EXPECT_EQ(rec.stats().dropped, 1u);
  patch_status = 404;
  rec.Record(kVm, EventType::kWarning, "Failed", "boom");
  rec.Flush();
  EXPECT_EQ(rec.stats().created, 2u);
}

// Destroying a recorder with a backlog against a slow server returns after the write in
// flight, not after writing the whole backlog.
TEST(EventRecorderTest, DestructorDoesNotWaitForTheBacklog) {
  auto http = std::make_shared<FakeHttp>();
  http->send = [&](const http::Request&) -> StatusOr<http::Response> {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return JsonResponse(201, Json{{"kind", "Event"}});
  };
  RestApiClient api(http, FakeConfig(), NoLimits());
  auto rec = std::make_unique<EventRecorder>(api, "test", "host");
  for (int i = 0; i < 50; ++i) rec->Record(kVm, EventType::kNormal, "R" + std::to_string(i), "m");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto t0 = Steady::now();
  rec.reset();
  EXPECT_LT(Steady::now() - t0, std::chrono::milliseconds(1500));  // 50 writes would take 10 s
  EXPECT_LE(http->requests().size(), 3u);
}

}  // namespace
}  // namespace ferry::kube

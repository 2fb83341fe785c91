// Pure parts of the REST client: paths, escaping, error mapping. The client's behaviour
// against a server is tested through a real kube-apiserver in tests/integration.
#include "kube/rest_client.h"

#include <gtest/gtest.h>

#include "fake_http.h"

namespace ferry::kube {
namespace {

TEST(ResourcePathTest, Table) {
  struct Case {
    const ResourceType* rt;
    std::string ns, name, sub, want;
  };
  const Case cases[] = {
      {&resources::kVirtualMachines, "default", "", "", "/apis/ferry.dev/v1alpha1/namespaces/default/virtualmachines"},
      {&resources::kVirtualMachines, "default", "vm-1", "status",
       "/apis/ferry.dev/v1alpha1/namespaces/default/virtualmachines/vm-1/status"},
      {&resources::kVirtualMachines, "", "", "", "/apis/ferry.dev/v1alpha1/virtualmachines"},
      {&resources::kNodes, "ignored", "node-a", "", "/api/v1/nodes/node-a"},
      {&resources::kMigrationPolicies, "", "default", "", "/apis/ferry.dev/v1alpha1/migrationpolicies/default"},
      {&resources::kLeases, "ferry-system", "ferry-operator", "",
       "/apis/coordination.k8s.io/v1/namespaces/ferry-system/leases/ferry-operator"},
      {&resources::kEvents, "ns", "", "", "/api/v1/namespaces/ns/events"},
  };
  for (const auto& c : cases) EXPECT_EQ(ResourcePath(*c.rt, c.ns, c.name, c.sub), c.want);
}

TEST(QueryEscapeTest, Table) {
  EXPECT_EQ(QueryEscape("app=web,tier!=db"), "app%3Dweb%2Ctier%21%3Ddb");
  EXPECT_EQ(QueryEscape("spec.nodeName=node-a"), "spec.nodeName%3Dnode-a");
  EXPECT_EQ(QueryEscape("a b/c"), "a%20b%2Fc");
  EXPECT_EQ(QueryEscape("plain-_.~"), "plain-_.~");
}

http::Response Resp(int status, std::string body, std::map<std::string, std::string> headers = {}) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

std::string StatusBody(int code, const std::string& reason, const std::string& message) {
  return Json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"code", code},     {"reason", reason},   {"message", message}}
      .dump();
}

TEST(StatusFromResponseTest, Table) {
  struct Case {
    http::Response resp;
    StatusCode code;
    std::string message_part;
    std::optional<int> retry_after;
  };
  const Case cases[] = {
      {Resp(404, StatusBody(404, "NotFound", "virtualmachines \"x\" not found")), StatusCode::kNotFound,
       "virtualmachines \"x\" not found", {}},
      {Resp(409, StatusBody(409, "Conflict", "the object has been modified")), StatusCode::kConflict,
       "has been modified", {}},
      {Resp(409, StatusBody(409, "AlreadyExists", "already exists")), StatusCode::kAlreadyExists, "already exists", {}},
      {Resp(410, StatusBody(410, "Expired", "too old resource version")), StatusCode::kGone, "too old", {}},
      {Resp(422, StatusBody(422, "Invalid", "spec.cpus: Invalid value")), StatusCode::kInvalid, "spec.cpus", {}},
      {Resp(400, StatusBody(400, "BadRequest", "bad")), StatusCode::kInvalid, "bad", {}},
      {Resp(401, "Unauthorized"), StatusCode::kUnauthenticated, "Unauthorized", {}},
      {Resp(403, StatusBody(403, "Forbidden", "forbidden")), StatusCode::kPermissionDenied, "forbidden", {}},
      {Resp(429, StatusBody(429, "TooManyRequests", "slow down"), {{"retry-after", "7"}}), StatusCode::kTooManyRequests,
       "slow down", 7},
      {Resp(429,
            Json{{"kind", "Status"}, {"message", "m"}, {"details", {{"retryAfterSeconds", 3}}}}.dump()),
       StatusCode::kTooManyRequests, "m", 3},
      {Resp(500, "internal"), StatusCode::kUnavailable, "internal", {}},
      {Resp(503, "", {{"retry-after", "2"}}), StatusCode::kUnavailable, "HTTP 503", 2},
      {Resp(504, StatusBody(504, "Timeout", "timed out")), StatusCode::kDeadlineExceeded, "timed out", {}},
      {Resp(418, "teapot"), StatusCode::kUnknown, "teapot", {}},
      // Bodies of another shape (a proxy, a broken server; found by api_status_fuzz): fields of
      // the wrong type are absent, never an exception.
      {Resp(404, R"({"kind":8})"), StatusCode::kNotFound, "{\"kind\":8}", {}},
      {Resp(409, R"({"kind":"Status","message":5,"reason":["AlreadyExists"]})"), StatusCode::kConflict,
       "HTTP 409", {}},
      {Resp(422, R"({"kind":"Status","message":"m","details":{"causes":[{"field":1},"x"]}})"),
       StatusCode::kInvalid, "m", {}},
      {Resp(429, R"({"kind":"Status","message":"m","details":{"retryAfterSeconds":-5}})"),
       StatusCode::kTooManyRequests, "m", {}},
      {Resp(429, R"({"kind":"Status","message":"m","details":{"retryAfterSeconds":18446744073709551615}})"),
       StatusCode::kTooManyRequests, "m", {}},
  };
  for (const auto& c : cases) {
    Status st = StatusFromResponse(c.resp, "GET /x");
    EXPECT_EQ(st.code(), c.code) << c.resp.status;
    EXPECT_EQ(st.http_status(), c.resp.status);
    EXPECT_NE(st.message().find("GET /x: "), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(c.message_part), std::string::npos) << st.message();
    if (c.retry_after) {
      ASSERT_TRUE(st.retry_after().has_value()) << c.resp.status;
      EXPECT_EQ(st.retry_after()->count(), *c.retry_after);
    } else {
      EXPECT_FALSE(st.retry_after().has_value()) << c.resp.status;
    }
  }
}

}  // namespace
}  // namespace ferry::kube

namespace ferry::kube {
namespace {

using testing::FakeHttp;
using testing::FakeConfig;
using testing::JsonResponse;
using testing::StatusResponse;

// 429 (and 503 with Retry-After) are waited out as the server asks, then the error returns.
TEST(RestApiClientTest, ThrottledRequestsWaitRetryAfterThenGiveUp) {
  auto http = std::make_shared<FakeHttp>();
  int calls = 0;
  http->send = [&](const http::Request&) -> StatusOr<http::Response> {
    ++calls;
    if (calls == 1) return StatusResponse(429, "TooManyRequests", 2);
    if (calls == 2) return StatusResponse(503, "ServiceUnavailable", 1);
    return JsonResponse(200, Json{{"kind", "ConfigMap"}});
  };
  std::vector<std::chrono::milliseconds> sleeps;
  RestOptions o = testing::NoLimits();
  o.sleep = [&](std::chrono::milliseconds d) { sleeps.push_back(d); };
  RestApiClient api(http, FakeConfig(), o);
  auto r = api.Get(resources::kConfigMaps, "ns", "a");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(sleeps, (std::vector<std::chrono::milliseconds>{std::chrono::seconds(2), std::chrono::seconds(1)}));

  // Always throttled: max_throttle_retries (3) waits, then kTooManyRequests with the delay.
  calls = 0;
  sleeps.clear();
  http->send = [&](const http::Request&) -> StatusOr<http::Response> {
    ++calls;
    return StatusResponse(429, "TooManyRequests", 30);
  };
  r = api.Get(resources::kConfigMaps, "ns", "a");
  EXPECT_EQ(r.status().code(), StatusCode::kTooManyRequests);
  EXPECT_EQ(r.status().retry_after(), std::chrono::seconds(30));
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(sleeps, std::vector<std::chrono::milliseconds>(3, std::chrono::seconds(10)));  // capped
}

// The client-side token bucket: client-go's 5 qps with a burst of 10 by default.
TEST(RestApiClientTest, ClientSideRateLimitPacesRequests) {
  auto http = std::make_shared<FakeHttp>();
  http->send = [&](const http::Request&) -> StatusOr<http::Response> { return JsonResponse(200, Json::object()); };
  FakeClock clock;
  std::vector<std::chrono::milliseconds> sleeps;
  RestOptions o;
  EXPECT_EQ(o.qps, 5.0);
  EXPECT_EQ(o.burst, 10);
  o.clock = &clock;
  o.sleep = [&](std::chrono::milliseconds d) { sleeps.push_back(d); };
  RestApiClient api(http, FakeConfig(), o);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(api.Get(resources::kConfigMaps, "ns", "a").ok());
  EXPECT_EQ(sleeps, (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(200),
                                                           std::chrono::milliseconds(400)}));
  clock.Advance(std::chrono::seconds(2));  // 10 tokens back
  sleeps.clear();
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(api.Get(resources::kConfigMaps, "ns", "a").ok());
  EXPECT_TRUE(sleeps.empty());
  o.qps = 0;  // no limit
  RestApiClient unlimited(http, FakeConfig(), o);
  sleeps.clear();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(unlimited.Get(resources::kConfigMaps, "ns", "a").ok());
  EXPECT_TRUE(sleeps.empty());
}

}  // namespace
}  // namespace ferry::kube

namespace ferry::kube {
namespace {

TEST(StatusFromResponseTest, KeepsReasonAndCauses) {
  http::Response r;
  r.status = 422;
  r.body = Json{{"kind", "Status"}, {"code", 422}, {"reason", "Invalid"}, {"message", "m"},
                {"details", {{"causes", {{{"reason", "FieldValueRequired"}, {"field", "spec.disks[0].path"},
                                          {"message", "Required value"}}}}}}}
               .dump();
  Status st = StatusFromResponse(r, "POST /x");
  EXPECT_EQ(st.reason(), "Invalid");
  ASSERT_EQ(st.causes().size(), 1u);
  EXPECT_EQ(st.causes()[0].reason, "FieldValueRequired");
  EXPECT_EQ(st.causes()[0].field, "spec.disks[0].path");
  EXPECT_EQ(st.causes()[0].message, "Required value");
}

}  // namespace
}  // namespace ferry::kube

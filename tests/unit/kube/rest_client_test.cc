// Pure parts of the REST client: paths, escaping, error mapping. The client's behaviour
// against a server is tested through a real kube-apiserver in tests/integration.
#include "kube/rest_client.h"

#include <gtest/gtest.h>

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

// OpsServer over real loopback HTTP, read with Ferry's own HttpClient (both cpprest-backed).
#include "http/ops_server.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <prometheus/counter.h>

namespace ferry::http {
namespace {

TEST(OpsServerTest, RunChecksTable) {
  struct Case {
    std::vector<std::pair<std::string, Check>> checks;
    int status;
    std::string body;
  };
  const Case cases[] = {
      {{}, 200, "ok\n"},
      {{{"informers", [] { return OkStatus(); }}}, 200, "[+]informers ok\nok\n"},
      {{{"informers", [] { return OkStatus(); }}, {"leader", [] { return UnavailableError("no lease"); }}},
       503,
       "[+]informers ok\n[-]leader failed: no lease\nfailed\n"},
  };
  for (const auto& c : cases) {
    auto r = OpsServer::RunChecks(c.checks);
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.body, c.body);
  }
}

TEST(OpsServerTest, ServesHealthReadinessAndMetricsOverHttp) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& family = prometheus::BuildCounter().Name("ferry_test_things_total").Help("Things counted by the test.").Register(*registry);
  family.Add({{"kind", "a"}}).Increment(3);
  std::atomic<bool> ready{false};
  OpsServer ops(registry);
  ops.AddLivenessCheck("loop", [] { return OkStatus(); });
  ops.AddReadinessCheck("caches", [&] { return ready ? OkStatus() : UnavailableError("caches not synced"); });
  auto port = ops.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();

  auto client = MakeHttpClient({"http://127.0.0.1:" + std::to_string(*port), {}, std::chrono::milliseconds(5000)});
  auto get = [&](const std::string& path) {
    Request req;
    req.path = path;
    return client->Send(req);
  };
  auto health = get("/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "[+]loop ok\nok\n");

  auto not_ready = get("/readyz");
  ASSERT_TRUE(not_ready.ok());
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_NE(not_ready->body.find("caches not synced"), std::string::npos);
  ready = true;
  auto is_ready = get("/readyz");
  ASSERT_TRUE(is_ready.ok());
  EXPECT_EQ(is_ready->status, 200);

  auto metrics = get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("# HELP ferry_test_things_total Things counted by the test."), std::string::npos);
  EXPECT_NE(metrics->body.find("ferry_test_things_total{kind=\"a\"} 3"), std::string::npos);

  auto missing = get("/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  ops.Stop();
  EXPECT_FALSE(get("/healthz").ok());  // nothing listens any more
}

TEST(HttpClientTest, StreamDeliversTheWholeBodyAndErrorBodies) {
  // A server whose handler answers at once; Stream must deliver the body and end cleanly.
  auto server = MakeHttpServer();
  server->Handle("/stream", [](const ServerRequest&) {
    ServerResponse r;
    r.body = std::string(100000, 'x');
    return r;
  });
  auto port = server->Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();
  auto client = MakeHttpClient({"http://127.0.0.1:" + std::to_string(*port), {}, std::chrono::milliseconds(5000)});
  Request req;
  req.path = "/stream";
  size_t total = 0;
  std::stop_source stop;
  auto resp = client->Stream(req, [&](std::string_view chunk) { total += chunk.size(); return true; }, stop.get_token());
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(total, 100000u);
  // A consumer that stops early ends the stream without error.
  size_t first = 0;
  auto early = client->Stream(req, [&](std::string_view chunk) { first = chunk.size(); return false; }, stop.get_token());
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_GT(first, 0u);
  // A non-2xx status returns the body instead of streaming it.
  req.path = "/missing";
  auto missing = client->Stream(req, [&](std::string_view) { ADD_FAILURE() << "streamed an error body"; return true; },
                                stop.get_token());
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "not found\n");
  server->Stop();
}

}  // namespace
}  // namespace ferry::http

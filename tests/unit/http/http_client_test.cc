// The HTTP client's transport rules, against a hand-written loopback server.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "http/http.h"
#include "raw_server.h"

namespace ferry::http {
namespace {

using testing::RawServer;
using Steady = std::chrono::steady_clock;

std::unique_ptr<HttpClient> Client(const RawServer& s, int timeout_ms = 5000) {
  return MakeHttpClient({s.url(), {}, std::chrono::milliseconds(timeout_ms)});
}

// The server reads each request and hangs up without answering (it may have applied it).
// A POST or PATCH must then be sent once — the caller decides about retrying — while a GET
// may be re-sent on a fresh connection.
TEST(HttpClientTest, OnlySafeMethodsAreResentAfterATransportFailure) {
  RawServer server([](int fd, const std::string& req) {
    (void)fd;
    (void)req;
  });
  auto client = Client(server);
  struct Case {
    const char* method;
    int want_connections;
  };
  for (const Case c :
       {Case{"POST", 1}, Case{"PATCH", 1}, Case{"PUT", 1}, Case{"DELETE", 1}, Case{"GET", 3}}) {
    const int before = server.connections();
    Request r;
    r.method = c.method;
    r.path = "/apis/x";
    r.body = "{}";
    auto resp = client->Send(r);
    EXPECT_FALSE(resp.ok()) << c.method;
    EXPECT_TRUE(resp.status().IsTransient()) << resp.status();
    EXPECT_EQ(server.connections() - before, c.want_connections)
        << c.method << " sent that many times";
  }
}

// The second chunk is sent only after the client has delivered the first: a client that
// waited for more bytes (or the end) before calling on_data would time out here.
TEST(HttpClientTest, StreamDeliversEachChunkAsItArrives) {
  std::mutex mu;
  std::condition_variable cv;
  bool first_delivered = false;
  bool delivered_before_second_sent = false;
  RawServer server([&](int fd, const std::string&) {
    RawServer::Send(
        fd,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    RawServer::Send(fd, RawServer::Chunk("{\"n\":1}\n"));
    {
      std::unique_lock<std::mutex> l(mu);
      delivered_before_second_sent =
          cv.wait_for(l, std::chrono::seconds(3), [&] { return first_delivered; });
    }
    RawServer::Send(fd, RawServer::Chunk("{\"n\":2}\n") + "0\r\n\r\n");
  });
  auto client = Client(server);
  Request r;
  r.path = "/watch";
  std::string got;
  std::stop_source stop;
  auto resp = client->Stream(
      r,
      [&](std::string_view chunk) {
        got.append(chunk);
        if (got.find("{\"n\":1}\n") != std::string::npos) {
          std::lock_guard<std::mutex> l(mu);
          first_delivered = true;
          cv.notify_all();
        }
        return true;
      },
      stop.get_token());
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_TRUE(delivered_before_second_sent) << "the first chunk was held back until more arrived";
  EXPECT_EQ(got, "{\"n\":1}\n{\"n\":2}\n");
}

// A consumer that stops reading early (on_data returns false) closes the connection at once;
// the server sees it go instead of streaming into a buffer nobody reads.
TEST(HttpClientTest, StreamStoppedEarlyClosesTheConnection) {
  std::atomic<int> closed{-1};
  RawServer server([&](int fd, const std::string&) {
    RawServer::Send(
        fd,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    RawServer::Send(fd, RawServer::Chunk("{\"n\":1}\n"));
    closed = RawServer::PeerClosed(fd, 3000) ? 1 : 0;
  });
  auto client = Client(server, 60000);
  Request r;
  r.path = "/watch";
  std::stop_source stop;
  auto resp = client->Stream(
      r, [&](std::string_view) { return false; }, stop.get_token());
  ASSERT_TRUE(resp.ok()) << resp.status();
  const auto t0 = Steady::now();
  while (closed.load() < 0 && Steady::now() - t0 < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(closed.load(), 1) << "the connection stayed open after the consumer stopped";
}

// TLS material OpenSSL cannot use is reported as such (kInvalid, "TLS setup"), not as a
// transport error or, worse, a 401 from a server that never got the client certificate.
TEST(HttpClientTest, UnusableTlsMaterialIsAnErrorBeforeAnyRequest) {
  RawServer server([](int, const std::string&) {});
  struct Case {
    const char* name;
    TlsConfig tls;
    const char* want;
  };
  const Case cases[] = {
      {"garbage CA", {"not a certificate", "", "", false}, "CA"},
      {"garbage client key",
       {"", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a key", false},
       "client"},
      {"key without certificate", {"", "", "some key", false}, "certificate"},
  };
  for (const auto& c : cases) {
    auto client = MakeHttpClient({"https://127.0.0.1:" + std::to_string(server.port()), c.tls,
                                  std::chrono::milliseconds(2000)});
    Request r;
    r.path = "/api";
    auto resp = client->Send(r);
    EXPECT_EQ(resp.status().code(), StatusCode::kInvalid) << c.name << ": " << resp.status();
    EXPECT_NE(resp.status().message().find("TLS setup"), std::string::npos) << resp.status();
    EXPECT_NE(resp.status().message().find(c.want), std::string::npos) << resp.status();
    auto st = client->Stream(r, [](std::string_view) { return true; }, {});
    EXPECT_EQ(st.status().code(), StatusCode::kInvalid) << c.name;
  }
  EXPECT_EQ(server.connections(), 0);
}

}  // namespace
}  // namespace ferry::http

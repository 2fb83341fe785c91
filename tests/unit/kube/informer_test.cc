// The informer's reflector loop over a scripted HTTP server: what it does with a throwing
// handler, a relist after 410, bookmarks, a 410 at watch start, 429 + Retry-After, and how it
// spreads its watch timeouts. (Against a real server: tests/integration/informer_it.cc.)
#include "kube/informer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "fake_http.h"

namespace ferry::kube {
namespace {

using namespace testing;  // NOLINT: the fakes

const ResourceType& kRt = resources::kConfigMaps;

struct Log {
  std::mutex mu;
  std::vector<std::string> events;
  void Add(std::string e) {
    std::lock_guard<std::mutex> l(mu);
    events.push_back(std::move(e));
  }
  std::vector<std::string> Get() {
    std::lock_guard<std::mutex> l(mu);
    return events;
  }
};

EventHandler Recording(Log& log) {
  return {[&log](const ObjectPtr& o) { log.Add("add " + ObjectKey(*o)); },
          [&log](const ObjectPtr&, const ObjectPtr& o) { log.Add("update " + ObjectKey(*o)); },
          [&log](const ObjectPtr& o, DeleteReason why) {
            log.Add(std::string("delete ") + ObjectKey(*o) + " " + DeleteReasonName(why));
          }};
}

InformerOptions Fast() {
  InformerOptions o;
  o.ns = "ns";
  o.backoff_initial = std::chrono::milliseconds(10);
  o.backoff_max = std::chrono::milliseconds(20);
  return o;
}

template <typename Pred>
bool Eventually(Pred p, std::chrono::milliseconds t = std::chrono::seconds(10)) {
  const auto end = Steady::now() + t;
  while (Steady::now() < end) {
    if (p()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return p();
}

TEST(InformerTest, ThrowingHandlerIsContainedAndCountedAndOthersStillHearEveryEvent) {
  auto http = std::make_shared<FakeHttp>();
  http->send = [](const http::Request&) {
    return JsonResponse(200, ListBody("10", {Obj("a", "5"), Obj("b", "6")}));
  };
  std::atomic<int> watches{0};
  http->stream = [&](const http::Request&, const auto& emit,
                     std::stop_token stop) -> StatusOr<http::Response> {
    if (watches++ == 0) emit(Frame("MODIFIED", Obj("a", "11")) + Frame("DELETED", Obj("b", "12")));
    WaitForStop(stop);
    return CancelledError("stopped");
  };
  RestApiClient api(http, FakeConfig(), NoLimits());
  Informer inf(api, kRt, Fast());
  inf.AddIndex("broken", [](const Json& o) -> std::vector<std::string> {
    if (ObjectKey(o) == "ns/a") throw std::runtime_error("index bug");
    return {"x"};
  });
  inf.AddEventHandler(
      {[](const ObjectPtr&) { throw std::runtime_error("handler bug"); },
       [](const ObjectPtr&, const ObjectPtr&) { throw 42; },
       [](const ObjectPtr&, DeleteReason) { throw std::logic_error("handler bug"); }});
  Log log;
  inf.AddEventHandler(Recording(log));
  const uint64_t index_errors_before = Store::IndexErrors();
  std::jthread run([&](std::stop_token st) { inf.Run(st); });
  ASSERT_TRUE(Eventually([&] { return log.Get().size() == 4; }));
  EXPECT_EQ(log.Get(), (std::vector<std::string>{"add ns/a", "add ns/b", "update ns/a",
                                                 "delete ns/b Deleted"}));
  EXPECT_EQ(inf.stats().handler_errors, 4u);
  EXPECT_GE(Store::IndexErrors() - index_errors_before, 2u);  // list add + watch update of ns/a
  EXPECT_EQ(inf.store().Keys(), std::vector<std::string>{"ns/a"});
  EXPECT_EQ(inf.store().ByIndex("broken", "x").size(), 0u);  // a indexed under nothing, b gone
  EXPECT_EQ(inf.LastResourceVersion(), "12");
}

// A watch ending in ERROR 410 makes the informer relist; objects gone meanwhile reach the
// handlers as deletes, changed ones as updates. A BOOKMARK moves the resume version without
// any handler call; the re-watch resumes from it.
TEST(InformerTest, RelistAfterGoneDeliversDeletesAndBookmarksMoveTheResumePoint) {
  auto http = std::make_shared<FakeHttp>();
  std::atomic<int> lists{0}, watches{0};
  http->send = [&](const http::Request&) {
    return lists++ == 0 ? JsonResponse(200, ListBody("10", {Obj("a", "5"), Obj("b", "6")}))
                        : JsonResponse(200, ListBody("30", {Obj("a", "25"), Obj("c", "26")}));
  };
  http->stream = [&](const http::Request&, const auto& emit,
                     std::stop_token stop) -> StatusOr<http::Response> {
    const int n = watches++;
    if (n == 0) {  // a bookmark, then the server ends the watch (timeout)
      emit(Frame("BOOKMARK", Json{{"kind", "ConfigMap"},
                                  {"apiVersion", "v1"},
                                  {"metadata", {{"resourceVersion", "20"}}}}));
      return JsonResponse(200, Json::object());
    }
    if (n == 1) {  // resumed from the bookmark, then the version is too old
      emit(Frame(
          "ERROR",
          Json{{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}, {"message", "too old"}}));
      return JsonResponse(200, Json::object());
    }
    WaitForStop(stop);
    return CancelledError("stopped");
  };
  RestApiClient api(http, FakeConfig(), NoLimits());
  Informer inf(api, kRt, Fast());
  Log log;
  inf.AddEventHandler(Recording(log));
  std::jthread run([&](std::stop_token st) { inf.Run(st); });
  ASSERT_TRUE(Eventually([&] { return watches.load() >= 3; }));
  EXPECT_EQ(log.Get(), (std::vector<std::string>{"add ns/a", "add ns/b", "update ns/a", "add ns/c",
                                                 "delete ns/b Deleted"}));
  auto w = http->requests("watch=true");
  ASSERT_GE(w.size(), 3u);
  EXPECT_NE(w[0].path.find("resourceVersion=10"), std::string::npos) << w[0].path;
  EXPECT_NE(w[1].path.find("resourceVersion=20"), std::string::npos)
      << w[1].path;  // from the bookmark
  EXPECT_NE(w[2].path.find("resourceVersion=30"), std::string::npos)
      << w[2].path;  // from the relist
  const auto s = inf.stats();
  EXPECT_EQ(s.bookmarks, 1u);
  EXPECT_EQ(s.lists, 2u);
  EXPECT_EQ(s.relists_on_gone, 1u);
}

TEST(InformerTest, GoneAtWatchStartRelists) {
  auto http = std::make_shared<FakeHttp>();
  std::atomic<int> lists{0}, watches{0};
  http->send = [&](const http::Request&) {
    ++lists;
    return JsonResponse(200, ListBody(std::to_string(10 * lists.load()), {Obj("a", "5")}));
  };
  http->stream = [&](const http::Request&, const auto&,
                     std::stop_token stop) -> StatusOr<http::Response> {
    if (watches++ == 0)
      return StatusResponse(410, "Expired");  // the watch request itself is refused
    WaitForStop(stop);
    return CancelledError("stopped");
  };
  RestApiClient api(http, FakeConfig(), NoLimits());
  Informer inf(api, kRt, Fast());
  std::jthread run([&](std::stop_token st) { inf.Run(st); });
  ASSERT_TRUE(Eventually([&] { return watches.load() >= 2; }));
  EXPECT_EQ(lists.load(), 2);
  EXPECT_EQ(inf.stats().relists_on_gone, 1u);
  auto w = http->requests("watch=true");
  EXPECT_NE(w[1].path.find("resourceVersion=20"), std::string::npos) << w[1].path;
}

TEST(InformerTest, ThrottledListAndWatchWaitForRetryAfter) {
  auto http = std::make_shared<FakeHttp>();
  std::atomic<int> lists{0}, watches{0};
  http->send = [&](const http::Request&) {
    return lists++ == 0 ? StatusResponse(429, "TooManyRequests", 1)
                        : JsonResponse(200, ListBody("10", {}));
  };
  http->stream = [&](const http::Request&, const auto&,
                     std::stop_token stop) -> StatusOr<http::Response> {
    if (watches++ == 0) return StatusResponse(429, "TooManyRequests", 1);
    WaitForStop(stop);
    return CancelledError("stopped");
  };
  RestOptions ro = NoLimits();
  ro.max_throttle_retries = 0;  // the informer, not the REST client, sees the 429
  RestApiClient api(http, FakeConfig(), ro);
  Informer inf(api, kRt, Fast());  // backoff 10-20 ms: far shorter than the 1 s asked for
  std::jthread run([&](std::stop_token st) { inf.Run(st); });
  ASSERT_TRUE(Eventually([&] { return watches.load() >= 2; }));
  auto l = http->requests("/configmaps?");
  auto w = http->requests("watch=true");
  ASSERT_GE(l.size(), 2u);
  ASSERT_GE(w.size(), 2u);
  EXPECT_GE(l[1].at - l[0].at, std::chrono::milliseconds(990));
  EXPECT_GE(w[1].at - w[0].at, std::chrono::milliseconds(990));
  EXPECT_EQ(inf.stats().throttled, 2u);
}

TEST(InformerTest, WatchTimeoutsAreSpreadOverOneToTwoTimesTheBase) {
  auto http = std::make_shared<FakeHttp>();
  http->send = [&](const http::Request&) { return JsonResponse(200, ListBody("10", {})); };
  std::atomic<int> watches{0};
  http->stream = [&](const http::Request&, const auto&,
                     std::stop_token stop) -> StatusOr<http::Response> {
    if (++watches > 40) WaitForStop(stop);
    return JsonResponse(200, Json::object());  // the server ended the watch at once
  };
  RestApiClient api(http, FakeConfig(), NoLimits());
  InformerOptions o = Fast();
  o.watch_timeout_seconds = 300;
  Informer inf(api, kRt, o);
  std::jthread run([&](std::stop_token st) { inf.Run(st); });
  ASSERT_TRUE(Eventually([&] { return watches.load() > 40; }));
  std::set<int> seen;
  for (const auto& r : http->requests("watch=true")) {
    const auto p = r.path.find("timeoutSeconds=");
    ASSERT_NE(p, std::string::npos);
    const int t = std::stoi(r.path.substr(p + 15));
    EXPECT_GE(t, 300);
    EXPECT_LT(t, 600);
    seen.insert(t);
  }
  EXPECT_GT(seen.size(), 10u) << "informers started together would re-watch together";
}

// With a selector, an object leaving the cache is read back: gone = Deleted, present with
// other labels = NoLongerMatches.
TEST(InformerTest, SelectedInformerReadsBackWhatLeft) {
  auto http = std::make_shared<FakeHttp>();
  const Json mine = Json{{"node", "a"}};
  http->send = [&](const http::Request& r) -> StatusOr<http::Response> {
    if (r.path.find("/configmaps/moved") != std::string::npos) {
      return JsonResponse(200, Obj("moved", "21", Json{{"node", "b"}}));
    }
    if (r.path.find("/configmaps/gone") != std::string::npos)
      return StatusResponse(404, "NotFound");
    return JsonResponse(200, ListBody("10", {Obj("moved", "5", mine), Obj("gone", "6", mine)}));
  };
  std::atomic<int> watches{0};
  http->stream = [&](const http::Request&, const auto& emit,
                     std::stop_token stop) -> StatusOr<http::Response> {
    if (watches++ == 0)
      emit(Frame("DELETED", Obj("moved", "21", mine)) + Frame("DELETED", Obj("gone", "22", mine)));
    WaitForStop(stop);
    return CancelledError("stopped");
  };
  RestApiClient api(http, FakeConfig(), NoLimits());
  InformerOptions o = Fast();
  o.label_selector = "node=a";
  Informer inf(api, kRt, o);
  Log log;
  inf.AddEventHandler(Recording(log));
  std::jthread run([&](std::stop_token st) { inf.Run(st); });
  ASSERT_TRUE(Eventually([&] { return log.Get().size() == 4; }));
  EXPECT_EQ(log.Get(), (std::vector<std::string>{"add ns/moved", "add ns/gone",
                                                 "delete ns/moved NoLongerMatches",
                                                 "delete ns/gone Deleted"}));
  EXPECT_NE(http->requests("labelSelector=node%3Da").size(), 0u);
}

}  // namespace
}  // namespace ferry::kube

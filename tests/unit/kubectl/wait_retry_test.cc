// kubectl ferry's waits (`drain --wait`, `migrate --wait`) outlive an API server that times out
// or restarts: a transient error is retried until the command's own deadline, a lasting one
// (forbidden, ...) ends the wait at once. Against a scripted ApiClient.
#include <gtest/gtest.h>

#include <deque>
#include <mutex>
#include <sstream>

#include "cluster_builders.h"
#include "commands.h"
#include "follow.h"

namespace ferry::kubectl {
namespace {

using namespace std::chrono_literals;

// Answers Get from a per-resource script (the last answer repeats), List with `lists`
// (empty otherwise), Patch with the patch; every Watch fails at once, as when the server is
// unreachable, so a follower must read again with Get.
class ScriptedApi final : public kube::ApiClient {
 public:
  void ScriptGet(const std::string& resource, std::deque<StatusOr<Json>> answers) {
    std::lock_guard l(mu_);
    gets_[resource] = std::move(answers);
  }
  void SetList(const std::string& resource, std::vector<Json> items) {
    std::lock_guard l(mu_);
    lists_[resource] = std::move(items);
  }
  int gets(const std::string& resource) {
    std::lock_guard l(mu_);
    return get_calls_[resource];
  }

  StatusOr<Json> Get(const kube::ResourceType& rt, const std::string&,
                     const std::string&) override {
    std::lock_guard l(mu_);
    ++get_calls_[rt.resource];
    auto& q = gets_[rt.resource];
    if (q.empty()) return NotFoundError("nothing scripted");
    StatusOr<Json> a = q.front();
    if (q.size() > 1) q.pop_front();
    return a;
  }
  StatusOr<kube::ListResult> List(const kube::ResourceType& rt, const std::string&,
                                  const kube::ListOptions&) override {
    std::lock_guard l(mu_);
    kube::ListResult r;
    r.items = lists_[rt.resource];
    r.resource_version = "1";
    return r;
  }
  StatusOr<Json> Create(const kube::ResourceType&, const std::string&, const Json& o) override {
    return o;
  }
  StatusOr<Json> Update(const kube::ResourceType&, const Json& o) override { return o; }
  StatusOr<Json> UpdateStatus(const kube::ResourceType&, const Json& o) override { return o; }
  StatusOr<Json> Patch(const kube::ResourceType&, const std::string&, const std::string&,
                       const Json& p, kube::PatchType, bool) override {
    return p;
  }
  Status Delete(const kube::ResourceType&, const std::string&, const std::string&,
                const kube::DeleteOptions&) override {
    return OkStatus();
  }
  Status Watch(const kube::ResourceType&, const std::string&, const kube::WatchOptions&,
               const std::function<bool(const kube::WatchEvent&)>&, std::stop_token) override {
    return UnavailableError("connection refused");
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::deque<StatusOr<Json>>> gets_;
  std::map<std::string, std::vector<Json>> lists_;
  std::map<std::string, int> get_calls_;
};

Status Forbidden() { return {StatusCode::kPermissionDenied, "nodes \"node-a\" is forbidden"}; }

Json DrainedNode() {
  Json n = testing::NodeJson("node-a", true);
  n["metadata"]["annotations"] = {
      {"ferry.dev/evacuation", R"({"planned":0,"remaining":0,"migrating":0,"blocked":[]})"}};
  return n;
}

Json Vmm(const std::string& phase) {
  return {{"apiVersion", "ferry.dev/v1alpha1"},
          {"kind", "VirtualMachineMigration"},
          {"metadata", {{"name", "m1"}, {"namespace", "default"}, {"resourceVersion", "7"}}},
          {"spec", {{"vmName", "vm1"}}},
          {"status", {{"phase", phase}, {"sourceNode", "node-a"}, {"targetNode", "node-b"}}}};
}

struct DrainRun {
  int rc;
  std::string out, err;
};

DrainRun RunDrain(ScriptedApi& api) {
  std::ostringstream out, err;
  Env env{api, RealClock::Get(), out, err};
  const int rc = Drain(env, "node-a", /*wait=*/true, 60s);
  return {rc, out.str(), err.str()};
}

TEST(DrainWaitTest, ApiServerOutageIsWaitedOut) {
  ScriptedApi api;
  api.SetList("nodes", {testing::NodeJson("node-a")});
  api.ScriptGet("nodes", {UnavailableError("the server is currently unable to handle the request"),
                          DeadlineExceededError("request timed out after 20s"), DrainedNode()});
  const DrainRun r = RunDrain(api);
  EXPECT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("node-a drained"), std::string::npos) << r.out;
  // One outage, said once.
  const auto said = r.out.find("(still waiting)");
  ASSERT_NE(said, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("(still waiting)", said + 1), std::string::npos) << r.out;
  EXPECT_EQ(api.gets("nodes"), 3);
}

TEST(DrainWaitTest, LastingErrorEndsTheWait) {
  ScriptedApi api;
  api.SetList("nodes", {testing::NodeJson("node-a")});
  api.ScriptGet("nodes", {Forbidden()});
  const DrainRun r = RunDrain(api);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("forbidden"), std::string::npos) << r.err;
  EXPECT_EQ(api.gets("nodes"), 1);
}

StatusOr<FollowResult> Follow(ScriptedApi& api) {
  return FollowMigration(api, "default", "m1", RealClock::Get(), RealClock::Get().Now(), 60s, 50ms,
                         [](const api::VirtualMachineMigration&) {});
}

TEST(FollowMigrationTest, ReadsAgainThroughAnOutage) {
  ScriptedApi api;
  api.ScriptGet("virtualmachinemigrations",
                {Vmm("Running"), UnavailableError("connection refused"),
                 UnavailableError("connection refused"), Vmm("Succeeded")});
  auto r = Follow(api);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->last.has_value());
  EXPECT_EQ(r->last->status.phase, api::MigrationPhase::kSucceeded);
  EXPECT_GE(api.gets("virtualmachinemigrations"), 4);
}

TEST(FollowMigrationTest, LastingErrorEndsTheWait) {
  ScriptedApi api;
  api.ScriptGet("virtualmachinemigrations", {Vmm("Running"), Forbidden()});
  auto r = Follow(api);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace ferry::kubectl

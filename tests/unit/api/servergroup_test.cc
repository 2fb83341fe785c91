#include "api/servergroup.h"

#include <string>

#include <gtest/gtest.h>

namespace ferry::api {
namespace {

const char* kSg = R"({
  "apiVersion": "ferry.dev/v1alpha1", "kind": "ServerGroup",
  "metadata": {"name": "web", "namespace": "default"},
  "spec": {"policy": "AntiAffinity", "bestEffort": false, "maxPerNode": 2, "weight": 5},
  "status": {
    "members": [{"name": "web-1", "node": "node-a"}, {"name": "web-2", "node": "node-a", "migrating": true},
                {"name": "web-3"}],
    "compliant": false,
    "violations": ["node-a holds 2 members (web-1, web-2); maxPerNode is 1"],
    "observedGeneration": 2,
    "conditions": [{"type": "NodeLockBlocked", "status": "True", "reason": "NodeDraining",
                    "message": "node-a is draining", "lastTransitionTime": "2024-05-01T12:00:00Z"}],
    "lastEvaluated": "2024-05-01T12:00:00Z"
  }
})";

TEST(ServerGroup, DecodesAndRoundTrips) {
  const Json in = Json::parse(kSg);
  auto g = ServerGroup::FromJson(in);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->spec.policy, ServerGroupPolicy::kAntiAffinity);
  EXPECT_FALSE(g->spec.best_effort);
  EXPECT_EQ(g->spec.max_per_node, 2);
  ASSERT_EQ(g->status.members.size(), 3u);
  EXPECT_EQ(g->status.members[1].node, "node-a");
  EXPECT_TRUE(g->status.members[2].node.empty());
  EXPECT_FALSE(g->status.compliant);
  EXPECT_EQ(g->status.violations.size(), 1u);
  EXPECT_EQ(FindCondition(g->status.conditions, kConditionNodeLockBlocked)->reason, "NodeDraining");
  EXPECT_EQ(g->ToJson(), in);

  g->status.compliant = true;
  g->status.violations.clear();
  g->status.members.pop_back();
  Json out = g->ToJson();
  EXPECT_EQ(out["status"]["compliant"], true);
  EXPECT_FALSE(out["status"].contains("violations"));
  EXPECT_EQ(out["status"]["members"][1]["migrating"], true);
  EXPECT_EQ(out["status"]["lastEvaluated"], "2024-05-01T12:00:00Z");
  EXPECT_EQ(out["spec"]["weight"], 5);
}

TEST(ServerGroup, DefaultsAreNotInvented) {
  ServerGroup g;
  g.metadata.name = "db";
  g.spec.policy = ServerGroupPolicy::kAffinity;
  EXPECT_EQ(g.ToJson(), Json::parse(R"({"apiVersion": "ferry.dev/v1alpha1", "kind": "ServerGroup",
      "metadata": {"name": "db"}, "spec": {"policy": "Affinity"}})"));
  auto decoded = ServerGroup::FromJson(g.ToJson());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->spec.max_per_node, 1);  // the CRD default when absent
}

TEST(ServerGroup, InvalidInputIsAClearError) {
  struct Case {
    const char* pointer;
    Json value;
    const char* want;
  };
  const Case cases[] = {
      {"/spec/policy", "Spread", "spec.policy: unsupported value \"Spread\" (accepted: \"Affinity\", \"AntiAffinity\")"},
      {"/spec/maxPerNode", 0, "spec.maxPerNode: must be at least 1"},
      {"/spec/bestEffort", "no", "spec.bestEffort: must be a boolean"},
      {"/status/members/0", Json{{"node", "node-a"}}, "status.members[0].name: Required value"},
      {"/status/violations", "one", "status.violations: must be a list"},
  };
  for (const auto& c : cases) {
    Json j = Json::parse(kSg);
    j[Json::json_pointer(c.pointer)] = c.value;
    auto g = ServerGroup::FromJson(j);
    ASSERT_FALSE(g.ok()) << c.pointer;
    EXPECT_NE(g.status().message().find(c.want), std::string::npos) << g.status().message();
  }
  Json no_policy = Json::parse(kSg);
  no_policy["spec"].erase("policy");
  EXPECT_NE(ServerGroup::FromJson(no_policy).status().message().find("spec.policy: Required value"),
            std::string::npos);
}

}  // namespace
}  // namespace ferry::api

#include "plan.h"

#include <gtest/gtest.h>

#include "cluster_builders.h"

namespace ferry::kubectl {
namespace {

using namespace std::chrono_literals;
using testing::Decode;
using testing::LabCluster;

const Json* Step(const Json& plan, const std::string& vm) {
  for (const Json& s : plan["steps"]) {
    if (s["vm"] == vm) return &s;
  }
  return nullptr;
}

const Json* Candidate(const Json& explain, const std::string& node) {
  for (const Json& c : explain["candidates"]) {
    if (c["node"] == node) return &c;
  }
  return nullptr;
}

TEST(DrainPlanModelTest, AntiAffinityTargetAndStrictAffinityPairBlocked) {
  FakeClock clock;
  const ClusterObjects c = LabCluster(clock);
  auto state = BuildState(c, clock, 40s);
  auto plan = DrainPlanModel(*state, c, "node-a");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ((*plan)["node"], "node-a");
  EXPECT_FALSE((*plan)["complete"]);
  EXPECT_FALSE((*plan)["allowGroupMoves"]);
  const Json* web = Step(*plan, "default/web-1");
  ASSERT_NE(web, nullptr) << plan->dump(2);
  EXPECT_EQ((*web)["action"], "Migrate");
  EXPECT_EQ((*web)["target"], "node-c") << "web-2 holds node-b (strict anti-affinity)";
  const Json* app = Step(*plan, "default/app-1");
  ASSERT_NE(app, nullptr);
  EXPECT_TRUE((*app)["running"]);
  const Json* old = Step(*plan, "default/old-1");
  ASSERT_NE(old, nullptr) << "a stopped VM is on the node and is listed";
  EXPECT_FALSE((*old)["running"]);
  ASSERT_EQ((*plan)["blockers"].size(), 2u) << plan->dump(2);
  for (const Json& b : (*plan)["blockers"]) {
    EXPECT_EQ(b["code"], "MayNotMoveAlone") << b.dump();
    EXPECT_TRUE(b["vm"] == "default/db-1" || b["vm"] == "default/db-2");
  }
  const std::string table = DrainPlanTable(*plan);
  EXPECT_NE(
      table.find("Drain plan for node-a: 2 VM(s) to move, 2 blocked, 1 not running (they stay)"),
      std::string::npos)
      << table;
  EXPECT_NE(table.find("default/web-1   Migrate"), std::string::npos) << table;
  EXPECT_NE(table.find("MayNotMoveAlone"), std::string::npos) << table;
}

TEST(DrainPlanModelTest, GroupMoveAnnotationMovesTheAffinityPairTogether) {
  FakeClock clock;
  const ClusterObjects c = LabCluster(clock, /*allow_db_move=*/true);
  auto state = BuildState(c, clock, 40s);
  auto plan = DrainPlanModel(*state, c, "node-a");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE((*plan)["allowGroupMoves"]);
  const Json* db1 = Step(*plan, "default/db-1");
  const Json* db2 = Step(*plan, "default/db-2");
  ASSERT_TRUE(db1 && db2) << plan->dump(2);
  EXPECT_EQ((*db1)["groupMove"], "default/db");
  EXPECT_EQ((*db1)["target"], (*db2)["target"]);
  EXPECT_NE((*db1)["target"], "node-a");
  EXPECT_TRUE((*plan)["blockers"].empty()) << plan->dump(2);
}

TEST(DrainPlanModelTest, UnknownNodeIsNotFound) {
  FakeClock clock;
  const ClusterObjects c = LabCluster(clock);
  auto state = BuildState(c, clock, 40s);
  auto plan = DrainPlanModel(*state, c, "node-x");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kNotFound);
}

TEST(ExplainModelTest, MoveThatBreaksStrictAntiAffinityIsRefusedWithTheReason) {
  FakeClock clock;
  const ClusterObjects c = LabCluster(clock);
  auto state = BuildState(c, clock, 40s);
  auto m = ExplainModel(*state, c, "default", "web-1", "node-b");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)["decision"], "TargetRejected") << m->dump(2);
  const Json* b = Candidate(*m, "node-b");
  ASSERT_NE(b, nullptr) << m->dump(2);
  EXPECT_EQ((*b)["verdict"], "Rejected");
  EXPECT_NE((*b)["reason"].get<std::string>().find("anti-affinity"), std::string::npos)
      << b->dump();
  const std::string table = ExplainTable(*m);
  EXPECT_NE(table.find("default/web-1 on node-a: refused to move to node-b"), std::string::npos)
      << table;
}

TEST(ExplainModelTest, WithoutATargetEveryNodeHasAVerdictAndTheOnlyCompliantNodeIsChosen) {
  FakeClock clock;
  const ClusterObjects c = LabCluster(clock);
  auto state = BuildState(c, clock, 40s);
  auto m = ExplainModel(*state, c, "default", "web-1", "");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)["decision"], "Scheduled");
  EXPECT_EQ((*m)["target"], "node-c");
  EXPECT_EQ((*m)["candidates"].size(), 3u);
  EXPECT_EQ((*Candidate(*m, "node-a"))["verdict"], "Rejected");  // its own node
  EXPECT_EQ((*Candidate(*m, "node-c"))["verdict"], "Selected");
}

TEST(ExplainModelTest, SilentHandlerGetsNoPlacement) {
  FakeClock clock;
  ClusterObjects c = LabCluster(clock);
  // node-c's handler last reported a minute ago: more than the operator's 40 s.
  c.hypervisors[2] =
      Decode<api::Hypervisor>(testing::HypervisorJson("node-c", clock.WallNow() - 60s));
  auto state = BuildState(c, clock, 40s);
  auto m = ExplainModel(*state, c, "default", "web-1", "");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)["decision"], "Unschedulable") << m->dump(2);
  EXPECT_EQ((*Candidate(*m, "node-c"))["verdict"], "Rejected");
  EXPECT_NE(ExplainTable(*m).find("no node fits now"), std::string::npos);
}

TEST(ExplainModelTest, UnknownVmOrNodeIsNotFound) {
  FakeClock clock;
  const ClusterObjects c = LabCluster(clock);
  auto state = BuildState(c, clock, 40s);
  EXPECT_EQ(ExplainModel(*state, c, "default", "nope", "").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ExplainModel(*state, c, "default", "web-1", "node-x").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace ferry::kubectl

#include "placement/rebalance.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_builders.h"

namespace ferry::placement {
namespace {

using ::ferry::placement::testing::MakeGroup;
using ::ferry::placement::testing::MakeNode;
using ::ferry::placement::testing::MakeVm;
using ::ferry::placement::testing::MustBuild;
using ::testing::HasSubstr;

std::string Moves(const RebalancePlan& plan) {
  std::string out;
  for (const RebalanceMove& m : plan.moves) {
    if (!out.empty()) out += " ";
    out += m.vm + ":" + m.from + ">" + m.to;
  }
  return out;
}

TEST(RebalanceTest, BestEffortAntiAffinityViolatorsSpreadOut) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("a"), MakeNode("b"), MakeNode("c")};
  s.groups = {MakeGroup("g", GroupPolicy::kAntiAffinity, true)};
  s.vms = {MakeVm("m1", 1, 1, "a", "g"), MakeVm("m2", 1, 1, "a", "g"),
           MakeVm("m3", 1, 1, "a", "g")};
  ClusterView view = MustBuild(s);
  const RebalancePlan plan = PlanRebalance(view);
  EXPECT_EQ(Moves(plan), "m2:a>b m3:a>c");  // earlier moves counted: not both to b
  EXPECT_EQ(plan.moves[0].violation,
            "best-effort anti-affinity: group g has 3 members on a (maxPerNode 1)");
  EXPECT_TRUE(plan.still_violating.empty());
}

TEST(RebalanceTest, ViolatorWithoutACompliantNodeStays) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("a"), MakeNode("b")};
  s.groups = {MakeGroup("g", GroupPolicy::kAntiAffinity, true)};
  s.vms = {MakeVm("m1", 1, 1, "a", "g"), MakeVm("m2", 1, 1, "a", "g"),
           MakeVm("m3", 1, 1, "b", "g")};
  ClusterView view = MustBuild(s);
  const RebalancePlan plan = PlanRebalance(view);
  EXPECT_TRUE(plan.moves.empty());
  ASSERT_EQ(plan.still_violating.size(), 1u);
  EXPECT_EQ(plan.still_violating[0].vm, "m2");
  EXPECT_THAT(plan.still_violating[0].reason, HasSubstr("1 node anti-affinity"));
}

TEST(RebalanceTest, BestEffortAffinityMembersReturnToTheGroupNode) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("a", 16, 16), MakeNode("b"), MakeNode("c")};
  s.groups = {MakeGroup("g", GroupPolicy::kAffinity, true)};
  s.vms = {MakeVm("m1", 1, 4, "a", "g"), MakeVm("m2", 1, 4, "a", "g"), MakeVm("m3", 1, 4, "b", "g"),
           MakeVm("m4", 1, 8, "c", "g")};
  ClusterView view = MustBuild(s);
  const RebalancePlan plan = PlanRebalance(view);
  EXPECT_EQ(Moves(plan), "m3:b>a");
  ASSERT_EQ(plan.still_violating.size(), 1u);  // a has 4Gi left after m3, m4 needs 8Gi
  EXPECT_EQ(plan.still_violating[0].vm, "m4");
  EXPECT_EQ(plan.still_violating[0].reason, "requested node a: memory: needs 8Gi, free 4Gi");
  EXPECT_EQ(plan.still_violating[0].code, Reason::kMemory);
}

// Review defect: with best-effort anti-affinity, a member leaving a node made the one that
// stays look like a violator (when the leaving one sorted first by name), so the plan depended
// on VM names and added a needless migration. The one that stays is alone once the other has
// left: nothing to do, whatever the names.
TEST(RebalanceTest, AMemberLeavingANodeDoesNotMakeTheOneStayingAViolator) {
  for (const auto& [leaving, staying] :
       {std::pair{"a-leaving", "b-staying"}, std::pair{"b-leaving", "a-staying"}}) {
    ClusterSnapshot s;
    s.nodes = {MakeNode("n1"), MakeNode("n2"), MakeNode("n3")};
    s.groups = {MakeGroup("be", GroupPolicy::kAntiAffinity, true)};
    s.vms = {MakeVm(leaving, 1, 1, "n1", "be"), MakeVm(staying, 1, 1, "n1", "be")};
    s.migrations = {{leaving, "n1", "n2", "m"}};
    ClusterView view = MustBuild(s);
    const RebalancePlan plan = PlanRebalance(view);
    EXPECT_EQ(Moves(plan), "") << leaving << " / " << staying;
    EXPECT_TRUE(plan.still_violating.empty());
  }
}

TEST(RebalanceTest, LeavesStrictGroupsMigratingMembersAndRespectsTheLimit) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("a"), MakeNode("b"), MakeNode("c"), MakeNode("d")};
  s.groups = {MakeGroup("be", GroupPolicy::kAntiAffinity, true),
              MakeGroup("strict", GroupPolicy::kAffinity, false)};
  s.vms = {MakeVm("be-1", 1, 1, "a", "be"),    MakeVm("be-2", 1, 1, "a", "be"),
           MakeVm("be-3", 1, 1, "a", "be"),    MakeVm("be-4", 1, 1, "a", "be"),
           MakeVm("s-1", 1, 1, "b", "strict"), MakeVm("s-2", 1, 1, "c", "strict")};
  s.migrations = {{"be-2", "a", "d", ""}};
  ClusterView view = MustBuild(s);
  RebalanceOptions options;
  options.max_moves = 1;
  const RebalancePlan plan = PlanRebalance(view, options);
  EXPECT_EQ(Moves(plan), "be-3:a>b");
}

}  // namespace
}  // namespace ferry::placement

#include "placement/group_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "placement/placement.h"
#include "placement/rebalance.h"
#include "test_builders.h"

namespace ferry::placement {
namespace {

using ::ferry::placement::testing::MakeGroup;
using ::ferry::placement::testing::MakeNode;
using ::ferry::placement::testing::MakeVm;
using ::ferry::placement::testing::MustBuild;
using ::testing::HasSubstr;

// ADR 5, rule 2: best-effort affinity is honoured only on the group's main node (most
// members; ties to the first name). A member on another node that also holds members is not
// compliant: placement says so, rebalance moves it, and the group status lists it.
TEST(GroupStatusTest, BestEffortAffinityHasOneMeaningOfCompliant) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("n1"), MakeNode("n2"), MakeNode("n3")};
  s.groups = {MakeGroup("web", GroupPolicy::kAffinity, true)};
  s.vms = {MakeVm("web-1", 1, 1, "n1", "web"), MakeVm("web-2", 1, 1, "n1", "web"),
           MakeVm("web-3", 1, 1, "n2", "web"), MakeVm("web-4", 1, 1, "n2", "web"),
           MakeVm("web-5", 1, 1, "n1", "web"), MakeVm("new", 1, 1, "", "web")};
  ClusterView view = MustBuild(s);

  const GroupStatus status = DescribeGroup(view, "web");
  EXPECT_FALSE(status.compliant);
  EXPECT_EQ(status.violations, 2);
  ASSERT_EQ(status.members.size(), 6u);
  EXPECT_EQ(status.members[0].vm, "new");  // not running: nothing to judge
  EXPECT_TRUE(status.members[0].compliant);
  EXPECT_TRUE(status.members[1].compliant);   // web-1 on n1
  EXPECT_FALSE(status.members[3].compliant);  // web-3 on n2
  EXPECT_EQ(status.members[3].violation,
            "best-effort affinity: group web is on n1 (its main node), vm is on n2");

  // Placement: n2 holds members too, but only n1 is compliant; n2 ranks above n3 among the
  // non-compliant nodes (score 50 against 0).
  PlacementOptions options;
  options.excluded_nodes = {"n1"};
  const TargetDecision d = ChooseTarget(view, {"new", ""}, options);
  ASSERT_TRUE(d.scheduled);
  EXPECT_EQ(d.node, "n2");
  EXPECT_FALSE(d.compliant);
  EXPECT_THAT(d.compliance, HasSubstr("group web is together on n1 (its main node)"));
  EXPECT_TRUE(ChooseTarget(view, {"new", ""}).compliant);

  // Rebalance moves exactly the members the status lists.
  const RebalancePlan plan = PlanRebalance(view);
  ASSERT_EQ(plan.moves.size(), 2u);
  EXPECT_EQ(plan.moves[0].vm, "web-3");
  EXPECT_EQ(plan.moves[1].vm, "web-4");
  EXPECT_EQ(plan.moves[0].to, "n1");
}

TEST(GroupStatusTest, AntiAffinityCountsArrivingMembersButNotLeavingOnes) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("n1"), MakeNode("n2"), MakeNode("n3")};
  s.groups = {MakeGroup("db", GroupPolicy::kAntiAffinity, false)};
  s.vms = {MakeVm("db-a", 1, 1, "n1", "db"), MakeVm("db-b", 1, 1, "n1", "db"),
           MakeVm("db-c", 1, 1, "n2", "db"), MakeVm("db-d", 1, 1, "n3", "db")};
  // db-a is leaving n1: db-b alone stays. db-d arrives on n2, where db-c stays: db-c violates.
  s.migrations = {{"db-a", "n1", "n3", "m-a"}, {"db-d", "n3", "n2", "m-d"}};
  ClusterView view = MustBuild(s);
  const GroupStatus status = DescribeGroup(view, "db");
  EXPECT_EQ(status.violations, 1);
  EXPECT_TRUE(status.members[1].compliant);  // db-b
  EXPECT_FALSE(status.members[2].compliant);
  EXPECT_EQ(status.members[2].violation,
            "strict anti-affinity: group db has 2 members on n2 (maxPerNode 1)");
  EXPECT_EQ(status.members[0].migrating_to, "n3");
  EXPECT_FALSE(DescribeGroup(view, "nope").found);
}

}  // namespace
}  // namespace ferry::placement

#include "placement/group_move.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_builders.h"

namespace ferry::placement {
namespace {

using ::ferry::placement::testing::MakeGroup;
using ::ferry::placement::testing::MakeNode;
using ::ferry::placement::testing::MakeVm;
using ::ferry::placement::testing::MustBuild;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Group "web" (strict affinity): three 2-CPU 8Gi members on a.
ClusterSnapshot WebOnA() {
  ClusterSnapshot s;
  s.nodes = {MakeNode("a"), MakeNode("b", 16, 16), MakeNode("c", 16, 64)};
  s.groups = {MakeGroup("web", GroupPolicy::kAffinity, false)};
  s.vms = {MakeVm("web-1", 2, 8, "a", "web"), MakeVm("web-2", 2, 8, "a", "web"),
           MakeVm("web-3", 2, 8, "a", "web")};
  return s;
}

TEST(GroupMoveTest, FindsOneNodeForAllMembersCountingEachOne) {
  ClusterIndex index = MustBuild(WebOnA());
  const GroupMoveDecision d = PlanGroupMove(index, "web");
  ASSERT_TRUE(d.feasible) << d.reason;
  EXPECT_EQ(d.node, "c");
  EXPECT_THAT(d.moves, ElementsAre("web-1", "web-2", "web-3"));
  ASSERT_EQ(d.node_lines.size(), 3u);
  EXPECT_EQ(d.node_lines[0], "a: current node: the whole group is already here");
  // b fits two members; the third is what does not fit.
  EXPECT_EQ(d.node_lines[1],
            "b: vm web-3: memory: needs 8Gi, free 0 (group needs 6 cpu, 24Gi memory in all)");
  EXPECT_THAT(d.node_lines[2], HasSubstr("c: score "));
  EXPECT_THAT(d.reason, HasSubstr("group web moves to c (3 member(s) migrate; 1 node(s) fit"));
}

TEST(GroupMoveTest, ExplainsWhyNoNodeFits) {
  ClusterSnapshot s = WebOnA();
  s.nodes[2].memory_bytes = 20 * kGi;
  ClusterIndex index = MustBuild(s);
  const GroupMoveDecision d = PlanGroupMove(index, "web");
  EXPECT_FALSE(d.feasible);
  EXPECT_EQ(d.reason,
            "no node fits all 3 members of group web (group needs 6 cpu, 24Gi memory in all): "
            "2 node(s) memory (b, vm web-3: memory: needs 8Gi, free 0)");
}

TEST(GroupMoveTest, SplitGroupMovesOnlyTheMembersElsewhere) {
  ClusterSnapshot s = WebOnA();
  s.vms[2].node = "c";
  ClusterIndex index = MustBuild(s);
  GroupMoveOptions options;
  options.excluded_nodes = {"a"};
  const GroupMoveDecision d = PlanGroupMove(index, "web", options);
  ASSERT_TRUE(d.feasible) << d.reason;
  EXPECT_EQ(d.node, "c");
  EXPECT_THAT(d.moves, ElementsAre("web-1", "web-2"));
  EXPECT_EQ(d.node_lines[0], "a: excluded: node is being drained or was excluded by the caller");
}

TEST(GroupMoveTest, DedicatedCpusAddUpAcrossMembers) {
  ClusterSnapshot s = WebOnA();
  for (Vm& v : s.vms) v.dedicated_cpus = true;
  s.nodes[0].dedicated_cpus = 6;
  s.nodes[2].dedicated_cpus = 5;  // room for two members of three
  ClusterIndex index = MustBuild(s);
  const GroupMoveDecision d = PlanGroupMove(index, "web");
  EXPECT_FALSE(d.feasible);
  EXPECT_THAT(d.reason, HasSubstr("2 node(s) dedicated cpus"));
  EXPECT_EQ(d.node_lines[2],
            "c: vm web-3: dedicated cpus: needs 2, free 1 (group needs 6 cpu, 24Gi memory in all)");
}

TEST(GroupMoveTest, RefusesWhatIsNotAGroupMove) {
  ClusterSnapshot s = WebOnA();
  s.groups.push_back(MakeGroup("db", GroupPolicy::kAntiAffinity, false));
  s.groups.push_back(MakeGroup("empty", GroupPolicy::kAffinity, false));
  s.migrations = {{"web-2", "a", "c", ""}};
  ClusterIndex index = MustBuild(s);
  EXPECT_EQ(PlanGroupMove(index, "nope").reason, "server group nope does not exist");
  EXPECT_THAT(PlanGroupMove(index, "db").reason, HasSubstr("is an anti-affinity group"));
  EXPECT_EQ(PlanGroupMove(index, "empty").reason, "group empty has no members");
  EXPECT_EQ(PlanGroupMove(index, "web").reason,
            "member web-2 of group web is already migrating to c");
}

}  // namespace
}  // namespace ferry::placement

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
  ClusterView view = MustBuild(WebOnA());
  const GroupMoveDecision d = PlanGroupMove(view, "web");
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
  ClusterView view = MustBuild(s);
  const GroupMoveDecision d = PlanGroupMove(view, "web");
  EXPECT_FALSE(d.feasible);
  EXPECT_EQ(
      d.reason,
      "no node fits all 3 running members of group web (group needs 6 cpu, 24Gi memory in all): "
      "2 node(s) memory (b, vm web-3: memory: needs 8Gi, free 0)");
}

TEST(GroupMoveTest, SplitGroupMovesOnlyTheMembersElsewhere) {
  ClusterSnapshot s = WebOnA();
  s.vms[2].node = "c";
  ClusterView view = MustBuild(s);
  GroupMoveOptions options;
  options.excluded_nodes = {"a"};
  const GroupMoveDecision d = PlanGroupMove(view, "web", options);
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
  ClusterView view = MustBuild(s);
  const GroupMoveDecision d = PlanGroupMove(view, "web");
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
  ClusterView view = MustBuild(s);
  EXPECT_EQ(PlanGroupMove(view, "nope").reason, "server group nope does not exist");
  EXPECT_THAT(PlanGroupMove(view, "db").reason, HasSubstr("is an anti-affinity group"));
  EXPECT_EQ(PlanGroupMove(view, "nope").code, Reason::kGroupNotFound);
  EXPECT_EQ(PlanGroupMove(view, "db").code, Reason::kGroupMoveRefused);
  EXPECT_EQ(PlanGroupMove(view, "empty").code, Reason::kNoRunningMember);
  // A member already migrating is a move under way: the others follow it.
  const GroupMoveDecision follow = PlanGroupMove(view, "web");
  ASSERT_TRUE(follow.feasible) << follow.reason;
  EXPECT_EQ(follow.node, "c");
  EXPECT_THAT(follow.moves, ElementsAre("web-1", "web-3"));
  EXPECT_THAT(follow.reason, HasSubstr("group web follows its move to c (2 member(s) migrate"));
}

// Review defect: a group with no running member was explained on every node as "the whole
// group is already here".
TEST(GroupMoveTest, GroupWithNoRunningMemberHasNothingToMove) {
  ClusterSnapshot s = WebOnA();
  for (Vm& v : s.vms) v.node.clear();
  ClusterView view = MustBuild(s);
  const GroupMoveDecision d = PlanGroupMove(view, "web");
  EXPECT_FALSE(d.feasible);
  EXPECT_EQ(d.code, Reason::kNoRunningMember);
  EXPECT_EQ(d.reason,
            "no member of group web is running; nothing to move (members start where the group "
            "is)");
  EXPECT_TRUE(d.node_lines.empty());
}

TEST(GroupMoveTest, MembersMigratingToDifferentNodesAreReported) {
  ClusterSnapshot s = WebOnA();
  s.migrations = {{"web-1", "a", "b", "m1"}, {"web-2", "a", "c", "m2"}};
  ClusterView view = MustBuild(s);
  const GroupMoveDecision d = PlanGroupMove(view, "web");
  EXPECT_FALSE(d.feasible);
  EXPECT_EQ(d.code, Reason::kAlreadyMigrating);
  EXPECT_THAT(d.reason, HasSubstr("are migrating to different nodes (b, c)"));
}

}  // namespace
}  // namespace ferry::placement

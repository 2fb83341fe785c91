// A group move ends together (docs/adr/0006 §7): once a member of a strict-affinity group
// left the node the group leaves, the others follow it to that node — each member's VMM is
// planned separately, and before this the last one could be sent wherever scored best.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "placement/group_move.h"
#include "test_builders.h"

namespace ferry::placement {
namespace {

using ::ferry::placement::testing::MakeGroup;
using ::ferry::placement::testing::MakeNode;
using ::ferry::placement::testing::MakeVm;
using ::ferry::placement::testing::MustBuild;
using ::testing::HasSubstr;

struct Case {
  std::string name;
  std::vector<std::string> member_nodes;  // web-1..web-n (2 CPU, 8Gi each)
  std::string leaving;
  int64_t b_memory_gi = 32;  // b: where web-1 went in most rows; c: 64Gi, scores best
  bool want_feasible;
  std::string want_node;
  std::vector<std::string> want_moves;
  std::string want_reason;  // substring
};

TEST(GroupMoveFollowTest, TheRestFollowTheMembersThatMoved) {
  const std::vector<Case> cases = {
      {"nothing moved yet: the best node for all",
       {"a", "a", "a"},
       "a",
       32,
       true,
       "c",
       {"web-1", "web-2", "web-3"},
       "moves to c"},
      {"web-1 is on b: the rest follow to b, not to c",
       {"b", "a", "a"},
       "a",
       32,
       true,
       "b",
       {"web-2", "web-3"},
       "follows its move to b"},
      {"the last member follows too",
       {"b", "b", "a"},
       "a",
       32,
       true,
       "b",
       {"web-3"},
       "follows its move to b"},
      {"b has no room for the rest: refused, never split",
       {"b", "a", "a"},
       "a",
       16,
       false,
       "",
       {},
       "cannot follow the move under way to b"},
      {"members on two other nodes: reported",
       {"b", "c", "a"},
       "a",
       32,
       false,
       "",
       {},
       "different nodes"},
      {"without the node left (a drain's own plan): as before",
       {"b", "a", "a"},
       "",
       32,
       true,
       "c",
       {"web-1", "web-2", "web-3"},
       "moves to c"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ClusterSnapshot s;
    s.nodes = {MakeNode("a"), MakeNode("b", 16, c.b_memory_gi), MakeNode("c", 16, 64)};
    s.groups = {MakeGroup("web", GroupPolicy::kAffinity, false)};
    for (size_t i = 0; i < c.member_nodes.size(); ++i)
      s.vms.push_back(MakeVm("web-" + std::to_string(i + 1), 2, 8, c.member_nodes[i], "web"));
    ClusterView view = MustBuild(s);
    GroupMoveOptions options;
    options.excluded_nodes = {"a"};  // being drained
    options.leaving = c.leaving;
    const GroupMoveDecision d = PlanGroupMove(view, "web", options);
    EXPECT_EQ(d.feasible, c.want_feasible) << d.reason;
    if (c.want_feasible) {
      EXPECT_EQ(d.node, c.want_node);
      EXPECT_EQ(d.moves, c.want_moves);
    }
    EXPECT_THAT(d.reason, HasSubstr(c.want_reason));
  }
}

}  // namespace
}  // namespace ferry::placement

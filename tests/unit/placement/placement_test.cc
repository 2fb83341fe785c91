#include "placement/placement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>

#include "test_builders.h"

namespace ferry::placement {
namespace {

using ::ferry::placement::testing::MakeGroup;
using ::ferry::placement::testing::MakeNode;
using ::ferry::placement::testing::MakeVm;
using ::ferry::placement::testing::MustBuild;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

ClusterSnapshot ThreeNodes() {
  ClusterSnapshot s;
  s.nodes = {MakeNode("node-1"), MakeNode("node-2"), MakeNode("node-3")};
  s.vms = {MakeVm("web", 2, 4), MakeVm("db", 4, 40, "node-2")};
  return s;
}

TEST(ChooseTargetTest, ExplainsEveryNode) {
  ClusterSnapshot s = ThreeNodes();
  s.nodes[0].unschedulable = true;
  s.vms[0].memory_bytes = 30 * kGi;
  ClusterView view = MustBuild(s);
  const TargetDecision d = ChooseTarget(view, {"web", ""});
  ASSERT_TRUE(d.scheduled);
  EXPECT_EQ(d.node, "node-3");
  EXPECT_EQ(d.feasible_nodes, 1);
  EXPECT_THAT(ExplainNodes(view, d),
              ElementsAre("node-1: cordoned: node is unschedulable",
                          "node-2: memory: needs 30Gi, free 24Gi",
                          "node-3: score 570 = group 3x100 + load 1x70 + pinned 1x100 + "
                          "in-flight 1x100 (chosen)"));
}

TEST(ChooseTargetTest, EqualInputGivesEqualOutputWhateverTheOrder) {
  ClusterSnapshot s;
  for (int i = 0; i < 30; ++i) s.nodes.push_back(MakeNode("n" + std::to_string(i), 8, 32));
  for (int i = 0; i < 60; ++i) {
    s.vms.push_back(MakeVm("v" + std::to_string(i), 1 + i % 3, 2 + i % 5,
                           "n" + std::to_string(i % 30), i % 4 == 0 ? "g" : ""));
  }
  s.groups = {MakeGroup("g", GroupPolicy::kAntiAffinity, true)};
  s.vms.push_back(MakeVm("new", 2, 4, "", "g"));
  ClusterView first = MustBuild(s);
  const TargetDecision want = ChooseTarget(first, {"new", ""});
  const std::vector<std::string> want_lines = ExplainNodes(first, want);
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    ClusterSnapshot shuffled = s;
    std::shuffle(shuffled.nodes.begin(), shuffled.nodes.end(), rng);
    std::shuffle(shuffled.vms.begin(), shuffled.vms.end(), rng);
    ClusterView view = MustBuild(shuffled);
    const TargetDecision got = ChooseTarget(view, {"new", ""});
    EXPECT_EQ(got.node, want.node);
    EXPECT_EQ(got.reason, want.reason);
    EXPECT_EQ(ExplainNodes(view, got), want_lines);
  }
}

TEST(ChooseTargetTest, RequestedNode) {
  ClusterView view = MustBuild(ThreeNodes());
  TargetDecision d = ChooseTarget(view, {"web", "node-2"});
  EXPECT_TRUE(d.scheduled);
  EXPECT_EQ(d.node, "node-2");
  EXPECT_EQ(d.verdicts.size(), 1u);
  d = ChooseTarget(view, {"db", "node-2"});
  EXPECT_FALSE(d.scheduled);
  EXPECT_EQ(d.reason, "requested node node-2: current node: vm db already runs here");
  ClusterSnapshot grouped = ThreeNodes();
  grouped.groups = {MakeGroup("g", GroupPolicy::kAffinity, false)};
  grouped.vms[1].server_group = "g";
  grouped.vms.push_back(MakeVm("db-peer", 1, 1, "node-2", "g"));
  ClusterView grouped_index = MustBuild(grouped);
  EXPECT_THAT(ChooseTarget(grouped_index, {"db", "node-3"}).reason,
              HasSubstr("a member may not migrate alone"));
  d = ChooseTarget(view, {"web", "node-9"});
  EXPECT_FALSE(d.scheduled);
  EXPECT_EQ(d.reason, "requested node node-9 does not exist");
}

TEST(ChooseTargetTest, ExcludedNodesAndQuietMode) {
  ClusterView view = MustBuild(ThreeNodes());
  PlacementOptions options;
  options.excluded_nodes = {"node-1", "node-3", "unknown"};
  options.explain_nodes = false;
  const TargetDecision d = ChooseTarget(view, {"web", ""}, options);
  EXPECT_EQ(d.node, "node-2");
  EXPECT_TRUE(d.verdicts.empty());
  EXPECT_EQ(d.rejections.count[static_cast<size_t>(Reason::kExcluded)], 2);
}

struct BadInputCase {
  const char* name;
  std::function<void(ClusterSnapshot&)> mutate;
  PlacementRequest request;
  const char* want;
};

TEST(ChooseTargetTest, BadInputGivesAClearReason) {
  const BadInputCase cases[] = {
      {"unknown vm", [](ClusterSnapshot&) {}, {"ghost", ""}, "vm ghost is not in the view"},
      {"zero nodes",
       [](ClusterSnapshot& s) { s.nodes.clear(); },
       {"web", ""},
       "no nodes in the cluster"},
      {"larger than any node",
       [](ClusterSnapshot& s) { s.vms[0].memory_bytes = 512 * kGi; },
       {"web", ""},
       "vm web is larger than any node: needs 512Gi memory; the largest node has 64Gi"},
      {"more cpu than any node",
       [](ClusterSnapshot& s) { s.vms[0].cpu_millis = 64000; },
       {"web", ""},
       "needs 64 cpu; the largest node has 16"},
      {"missing group",
       [](ClusterSnapshot& s) { s.vms[0].server_group = "nope"; },
       {"web", ""},
       "server group nope does not exist; vm web cannot be placed until it does"},
      {"already migrating",
       [](ClusterSnapshot& s) {
         s.migrations = {{"db", "node-2", "node-1", ""}};
       },
       {"db", ""},
       "vm db is already migrating to node-1"},
  };
  for (const BadInputCase& c : cases) {
    ClusterSnapshot s = ThreeNodes();
    c.mutate(s);
    ClusterView view = MustBuild(s);
    const TargetDecision d = ChooseTarget(view, c.request);
    EXPECT_FALSE(d.scheduled) << c.name;
    EXPECT_THAT(d.reason, HasSubstr(c.want)) << c.name;
  }
}

TEST(ChooseTargetTest, SnapshotOverloadReportsInvalidSnapshots) {
  ClusterSnapshot s = ThreeNodes();
  s.nodes.push_back(MakeNode("node-1"));
  const StatusOr<TargetDecision> d = ChooseTarget(s, {"web", ""});
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("duplicate node name \"node-1\""));
  const StatusOr<TargetDecision> ok = ChooseTarget(ThreeNodes(), {"web", ""});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->scheduled);
}

struct RelaxCase {
  const char* name;
  bool dedicated;
  int numa;
  std::vector<std::string> want_relaxed;
  const char* want_because;  // why the strict pass failed
};

TEST(ChooseTargetTest, RelaxedPinningOnlyWhenAskedAndSaysWhatWasDropped) {
  const RelaxCase cases[] = {
      {"numa",
       false,
       2,
       {"numa"},
       "because: no node fits vm web: 3 nodes numa (node-1: numa: needs 2 cells"},
      {"dedicated",
       true,
       0,
       {"dedicated cpus"},
       "because: vm web is larger than any node: needs 2 dedicated cpus; the largest pool has 0"},
      {"both", true, 2, {"numa", "dedicated cpus"}, "because: vm web is larger than any node"},
  };
  for (const RelaxCase& c : cases) {
    ClusterSnapshot s = ThreeNodes();  // no NUMA cells, no dedicated pools anywhere
    s.vms[0].dedicated_cpus = c.dedicated;
    s.vms[0].numa_nodes = c.numa;
    ClusterView view = MustBuild(s);
    const TargetDecision strict = ChooseTarget(view, {"web", ""});
    EXPECT_FALSE(strict.scheduled) << c.name;
    EXPECT_TRUE(strict.relaxed.empty()) << c.name;
    PlacementOptions options;
    options.relax_pinning = true;
    const TargetDecision relaxed = ChooseTarget(view, {"web", ""}, options);
    EXPECT_TRUE(relaxed.scheduled) << c.name;
    EXPECT_EQ(relaxed.relaxed, c.want_relaxed) << c.name;
    EXPECT_THAT(relaxed.reason, HasSubstr("relaxed pinning dropped")) << c.name;
    EXPECT_THAT(relaxed.reason, HasSubstr(c.want_because)) << c.name;
  }
}

TEST(ChooseTargetTest, RelaxedPinningKeepsNumaWhenOnlyPinningIsShort) {
  ClusterSnapshot s = ThreeNodes();
  for (Node& n : s.nodes) n.numa_cells = {{8000, 32 * kGi}, {8000, 32 * kGi}};
  s.vms[0].dedicated_cpus = true;
  s.vms[0].numa_nodes = 2;
  ClusterView view = MustBuild(s);
  PlacementOptions options;
  options.relax_pinning = true;
  const TargetDecision d = ChooseTarget(view, {"web", ""}, options);
  ASSERT_TRUE(d.scheduled);
  // NUMA alone was dropped first and did not help; both are dropped.
  EXPECT_EQ(d.relaxed, (std::vector<std::string>{"numa", "dedicated cpus"}));
  EXPECT_THAT(d.reason, HasSubstr("needs 2 dedicated cpus; the largest pool has 0"));
}

}  // namespace
}  // namespace ferry::placement

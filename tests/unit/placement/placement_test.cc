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

constexpr Filter kOk = Filter::kNone;
constexpr Filter kAnti = Filter::kAntiAffinity;
constexpr Filter kAff = Filter::kAffinity;
constexpr Filter kHere = Filter::kCurrentNode;

// Server-group semantics: policy x bestEffort x members migrating in/out. Nodes a, b, c
// (16 CPUs, 64Gi); the VM "x" in group "g" is placed (new, or migrated from x_node).
struct GroupCase {
  const char* name;
  GroupPolicy policy;
  bool best_effort;
  int max_per_node;
  std::function<void(ClusterSnapshot&)> setup;  // other members, fillers, migrations
  const char* x_node;                           // "" = new VM
  const char* want_node;                        // "" = unschedulable
  bool want_compliant;
  std::vector<Filter> want_filters;  // per node a, b, c
  const char* want_reason;           // substring of reason / compliance
};

void Member(ClusterSnapshot& s, const char* name, const char* node) {
  s.vms.push_back(MakeVm(name, 1, 1, node, "g"));
}
void Migrating(ClusterSnapshot& s, const char* vm, const char* from, const char* to) {
  s.migrations.push_back({vm, from, to});
}
void Filler(ClusterSnapshot& s, const char* node, int64_t cpus, int64_t mem_gi) {
  s.vms.push_back(MakeVm(std::string("filler-") + node, cpus, mem_gi, node));
}

class GroupSemanticsTest : public ::testing::TestWithParam<GroupCase> {};

TEST_P(GroupSemanticsTest, HoldsExactly) {
  const GroupCase& c = GetParam();
  ClusterSnapshot s;
  s.nodes = {MakeNode("a"), MakeNode("b"), MakeNode("c")};
  s.groups = {MakeGroup("g", c.policy, c.best_effort, c.max_per_node)};
  s.vms = {MakeVm("x", 2, 4, c.x_node, "g")};
  c.setup(s);
  ClusterIndex index = MustBuild(s);
  const TargetDecision d = ChooseTarget(index, {"x", ""});
  EXPECT_EQ(d.scheduled, std::string(c.want_node) != "") << d.reason;
  EXPECT_EQ(d.node, c.want_node) << d.reason;
  EXPECT_EQ(d.compliant, c.want_compliant) << d.compliance;
  std::vector<Filter> filters;
  for (const NodeVerdict& v : d.verdicts) filters.push_back(v.rejection.filter);
  EXPECT_EQ(filters, c.want_filters);
  EXPECT_THAT(d.reason, HasSubstr(c.want_reason));
}

const GroupCase kGroupCases[] = {
    {"anti_strict_avoids_member", GroupPolicy::kAntiAffinity, false, 1,
     [](ClusterSnapshot& s) { Member(s, "m1", "a"); }, "", "b", true, {kAnti, kOk, kOk}, "b chosen"},
    {"anti_strict_counts_member_migrating_in", GroupPolicy::kAntiAffinity, false, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Migrating(s, "m1", "a", "b");
     },
     "", "c", true, {kAnti, kAnti, kOk}, "c chosen"},
    {"anti_strict_counts_member_migrating_out", GroupPolicy::kAntiAffinity, false, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "c");
       Migrating(s, "m1", "c", "a");
     },
     "", "b", true, {kAnti, kOk, kAnti}, "b chosen"},
    {"anti_strict_migration_of_member", GroupPolicy::kAntiAffinity, false, 1,
     [](ClusterSnapshot& s) { Member(s, "m1", "b"); }, "a", "c", true, {kHere, kAnti, kOk},
     "c chosen"},
    {"anti_strict_migration_blocked_by_inbound_member", GroupPolicy::kAntiAffinity, false, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "c");
       Migrating(s, "m1", "c", "b");
     },
     "a", "", true, {kHere, kAnti, kAnti}, "2 nodes anti-affinity"},
    {"anti_strict_max_per_node", GroupPolicy::kAntiAffinity, false, 2,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Member(s, "m2", "b");
       Member(s, "m3", "b");
     },
     "", "c", true, {kOk, kAnti, kOk}, "c chosen"},
    {"anti_strict_no_node_left", GroupPolicy::kAntiAffinity, false, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Member(s, "m2", "b");
       Member(s, "m3", "c");
     },
     "", "", true, {kAnti, kAnti, kAnti},
     "3 nodes anti-affinity (a: anti-affinity: group g already on a (m1; 1 of maxPerNode 1"},
    {"anti_best_effort_prefers_fewest", GroupPolicy::kAntiAffinity, true, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Member(s, "m2", "b");
       Member(s, "m3", "b");
       Filler(s, "c", 10, 40);  // c is the most loaded, still preferred
     },
     "", "c", true, {kOk, kOk, kOk}, "c chosen"},
    {"anti_best_effort_breaks_rule_marked", GroupPolicy::kAntiAffinity, true, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Member(s, "m2", "b");
       Member(s, "m3", "b");
       Member(s, "m4", "c");
     },
     "", "a", false, {kOk, kOk, kOk},
     "non-compliant: best-effort anti-affinity: group g already on a (m1; 1 of maxPerNode 1"},
    {"anti_best_effort_counts_inbound", GroupPolicy::kAntiAffinity, true, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Migrating(s, "m1", "a", "c");
     },
     "", "b", true, {kOk, kOk, kOk}, "b chosen"},
    {"anti_best_effort_counts_outbound", GroupPolicy::kAntiAffinity, true, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Member(s, "m2", "b");
       Migrating(s, "m2", "b", "a");  // leaving b, still counted there until it ends
     },
     "", "c", true, {kOk, kOk, kOk}, "c chosen"},
    {"anti_best_effort_rule_outranks_the_weights", GroupPolicy::kAntiAffinity, true, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       s.nodes[2].unschedulable = true;
       Filler(s, "b", 12, 56);  // b: nearly full and busy migrating, but compliant
       s.vms.push_back(MakeVm("busy-1", 1, 1, "b"));
       s.vms.push_back(MakeVm("busy-2", 1, 1, "b"));
       Migrating(s, "busy-1", "b", "c");
       Migrating(s, "busy-2", "b", "c");
     },
     "", "b", true, {kOk, kOk, Filter::kCordoned}, "b chosen"},
    {"aff_strict_joins_group", GroupPolicy::kAffinity, false, 1,
     [](ClusterSnapshot& s) { Member(s, "m1", "b"); }, "", "b", true, {kAff, kOk, kAff},
     "b chosen"},
    {"aff_strict_group_node_full", GroupPolicy::kAffinity, false, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "b");
       Filler(s, "b", 1, 62);
     },
     "", "", true, {kAff, Filter::kMemory, kAff},
     "1 node memory (b: memory: needs 4Gi, free 1Gi); 2 nodes affinity"},
    {"aff_strict_member_may_not_migrate_alone", GroupPolicy::kAffinity, false, 1,
     [](ClusterSnapshot& s) { Member(s, "m1", "a"); }, "a", "", true, {kHere, kAff, kAff},
     "a member may not migrate alone, move the group as a unit"},
    {"aff_strict_single_member_migrates", GroupPolicy::kAffinity, false, 1,
     [](ClusterSnapshot&) {}, "a", "b", true, {kHere, kOk, kOk}, "b chosen"},
    {"aff_strict_group_move_in_flight", GroupPolicy::kAffinity, false, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Migrating(s, "m1", "a", "b");
     },
     "", "a", true, {kOk, kOk, kAff}, "a chosen"},
    {"aff_strict_member_may_join_rest_of_group", GroupPolicy::kAffinity, false, 1,
     [](ClusterSnapshot& s) { Member(s, "m1", "c"); }, "a", "c", true, {kHere, kAff, kOk},
     "c chosen"},
    {"aff_best_effort_prefers_group_node", GroupPolicy::kAffinity, true, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "b");
       Filler(s, "b", 10, 40);
     },
     "", "b", true, {kOk, kOk, kOk}, "b chosen"},
    {"aff_best_effort_group_node_full_marked", GroupPolicy::kAffinity, true, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "b");
       Filler(s, "b", 1, 62);
     },
     "", "a", false, {kOk, Filter::kMemory, kOk},
     "non-compliant: best-effort affinity: group g is on b, not here"},
    {"aff_best_effort_member_migrating_in", GroupPolicy::kAffinity, true, 1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "c");
       Member(s, "m2", "b");
       Migrating(s, "m2", "b", "c");  // c holds two (one arriving), b one (leaving)
     },
     "", "c", true, {kOk, kOk, kOk}, "c chosen"},
    {"aff_best_effort_member_migrates_out", GroupPolicy::kAffinity, true, 1,
     [](ClusterSnapshot& s) { Member(s, "m1", "a"); }, "a", "b", false, {kHere, kOk, kOk},
     "group g is on a, not here"},
};

INSTANTIATE_TEST_SUITE_P(Groups, GroupSemanticsTest, ::testing::ValuesIn(kGroupCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

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
  ClusterIndex index = MustBuild(s);
  const TargetDecision d = ChooseTarget(index, {"web", ""});
  ASSERT_TRUE(d.scheduled);
  EXPECT_EQ(d.node, "node-3");
  EXPECT_EQ(d.feasible_nodes, 1);
  EXPECT_THAT(ExplainNodes(index, d),
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
  ClusterIndex first = MustBuild(s);
  const TargetDecision want = ChooseTarget(first, {"new", ""});
  const std::vector<std::string> want_lines = ExplainNodes(first, want);
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    ClusterSnapshot shuffled = s;
    std::shuffle(shuffled.nodes.begin(), shuffled.nodes.end(), rng);
    std::shuffle(shuffled.vms.begin(), shuffled.vms.end(), rng);
    ClusterIndex index = MustBuild(shuffled);
    const TargetDecision got = ChooseTarget(index, {"new", ""});
    EXPECT_EQ(got.node, want.node);
    EXPECT_EQ(got.reason, want.reason);
    EXPECT_EQ(ExplainNodes(index, got), want_lines);
  }
}

TEST(ChooseTargetTest, RequestedNode) {
  ClusterIndex index = MustBuild(ThreeNodes());
  TargetDecision d = ChooseTarget(index, {"web", "node-2"});
  EXPECT_TRUE(d.scheduled);
  EXPECT_EQ(d.node, "node-2");
  EXPECT_EQ(d.verdicts.size(), 1u);
  d = ChooseTarget(index, {"db", "node-2"});
  EXPECT_FALSE(d.scheduled);
  EXPECT_EQ(d.reason, "requested node node-2: current node: vm db already runs here");
  ClusterSnapshot grouped = ThreeNodes();
  grouped.groups = {MakeGroup("g", GroupPolicy::kAffinity, false)};
  grouped.vms[1].server_group = "g";
  grouped.vms.push_back(MakeVm("db-peer", 1, 1, "node-2", "g"));
  ClusterIndex grouped_index = MustBuild(grouped);
  EXPECT_THAT(ChooseTarget(grouped_index, {"db", "node-3"}).reason,
              HasSubstr("a member may not migrate alone"));
  d = ChooseTarget(index, {"web", "node-9"});
  EXPECT_FALSE(d.scheduled);
  EXPECT_EQ(d.reason, "requested node node-9 does not exist");
}

TEST(ChooseTargetTest, ExcludedNodesAndQuietMode) {
  ClusterIndex index = MustBuild(ThreeNodes());
  PlacementOptions options;
  options.excluded_nodes = {"node-1", "node-3", "unknown"};
  options.explain_nodes = false;
  const TargetDecision d = ChooseTarget(index, {"web", ""}, options);
  EXPECT_EQ(d.node, "node-2");
  EXPECT_TRUE(d.verdicts.empty());
  EXPECT_EQ(d.rejections.count[static_cast<size_t>(Filter::kExcluded)], 2);
}

struct BadInputCase {
  const char* name;
  std::function<void(ClusterSnapshot&)> mutate;
  PlacementRequest request;
  const char* want;
};

TEST(ChooseTargetTest, BadInputGivesAClearReason) {
  const BadInputCase cases[] = {
      {"unknown vm", [](ClusterSnapshot&) {}, {"ghost", ""}, "vm ghost is not in the snapshot"},
      {"zero nodes", [](ClusterSnapshot& s) { s.nodes.clear(); }, {"web", ""},
       "no nodes in the cluster"},
      {"larger than any node", [](ClusterSnapshot& s) { s.vms[0].memory_bytes = 512 * kGi; },
       {"web", ""},
       "vm web is larger than any node: needs 512Gi memory; the largest node has 64Gi"},
      {"more cpu than any node", [](ClusterSnapshot& s) { s.vms[0].cpu_millis = 64000; },
       {"web", ""}, "needs 64 cpu; the largest node has 16"},
      {"missing group", [](ClusterSnapshot& s) { s.vms[0].server_group = "nope"; }, {"web", ""},
       "server group nope does not exist; vm web cannot be placed until it does"},
      {"already migrating",
       [](ClusterSnapshot& s) { s.migrations = {{"db", "node-2", "node-1"}}; }, {"db", ""},
       "vm db is already migrating to node-1"},
  };
  for (const BadInputCase& c : cases) {
    ClusterSnapshot s = ThreeNodes();
    c.mutate(s);
    ClusterIndex index = MustBuild(s);
    const TargetDecision d = ChooseTarget(index, c.request);
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
      {"numa", false, 2, {"numa"}, "because: no node fits vm web: 3 nodes numa (node-1: numa: needs 2 cells"},
      {"dedicated", true, 0, {"dedicated cpus"},
       "because: vm web is larger than any node: needs 2 dedicated cpus; the largest pool has 0"},
      {"both", true, 2, {"numa", "dedicated cpus"}, "because: vm web is larger than any node"},
  };
  for (const RelaxCase& c : cases) {
    ClusterSnapshot s = ThreeNodes();  // no NUMA cells, no dedicated pools anywhere
    s.vms[0].dedicated_cpus = c.dedicated;
    s.vms[0].numa_nodes = c.numa;
    ClusterIndex index = MustBuild(s);
    const TargetDecision strict = ChooseTarget(index, {"web", ""});
    EXPECT_FALSE(strict.scheduled) << c.name;
    EXPECT_TRUE(strict.relaxed.empty()) << c.name;
    PlacementOptions options;
    options.relax_pinning = true;
    const TargetDecision relaxed = ChooseTarget(index, {"web", ""}, options);
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
  ClusterIndex index = MustBuild(s);
  PlacementOptions options;
  options.relax_pinning = true;
  const TargetDecision d = ChooseTarget(index, {"web", ""}, options);
  ASSERT_TRUE(d.scheduled);
  // NUMA alone was dropped first and did not help; both are dropped.
  EXPECT_EQ(d.relaxed, (std::vector<std::string>{"numa", "dedicated cpus"}));
  EXPECT_THAT(d.reason, HasSubstr("needs 2 dedicated cpus; the largest pool has 0"));
}

}  // namespace
}  // namespace ferry::placement

// ChooseTarget's server-group semantics (docs/design.md §3): policy × bestEffort × members
// migrating in or out, table-driven. Split from placement_test.cc to keep files short.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "placement/placement.h"
#include "test_builders.h"

namespace ferry::placement {
namespace {

using ::ferry::placement::testing::MakeGroup;
using ::ferry::placement::testing::MakeNode;
using ::ferry::placement::testing::MakeVm;
using ::ferry::placement::testing::MustBuild;
using ::testing::HasSubstr;
constexpr Reason kOk = Reason::kNone;
constexpr Reason kAnti = Reason::kAntiAffinity;
constexpr Reason kAff = Reason::kAffinity;
constexpr Reason kHere = Reason::kCurrentNode;

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
  std::vector<Reason> want_filters;  // per node a, b, c
  const char* want_reason;           // substring of reason / compliance
};

void Member(ClusterSnapshot& s, const char* name, const char* node) {
  s.vms.push_back(MakeVm(name, 1, 1, node, "g"));
}
void Migrating(ClusterSnapshot& s, const char* vm, const char* from, const char* to) {
  s.migrations.push_back({vm, from, to, ""});
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
  ClusterView view = MustBuild(s);
  const TargetDecision d = ChooseTarget(view, {"x", ""});
  EXPECT_EQ(d.scheduled, std::string(c.want_node) != "") << d.reason;
  EXPECT_EQ(d.node, c.want_node) << d.reason;
  EXPECT_EQ(d.compliant, c.want_compliant) << d.compliance;
  std::vector<Reason> filters;
  for (const NodeVerdict& v : d.verdicts) filters.push_back(v.rejection.reason);
  EXPECT_EQ(filters, c.want_filters);
  EXPECT_THAT(d.reason, HasSubstr(c.want_reason));
}

const GroupCase kGroupCases[] = {
    {"anti_strict_avoids_member",
     GroupPolicy::kAntiAffinity,
     false,
     1,
     [](ClusterSnapshot& s) { Member(s, "m1", "a"); },
     "",
     "b",
     true,
     {kAnti, kOk, kOk},
     "b chosen"},
    {"anti_strict_counts_member_migrating_in",
     GroupPolicy::kAntiAffinity,
     false,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Migrating(s, "m1", "a", "b");
     },
     "",
     "c",
     true,
     {kAnti, kAnti, kOk},
     "c chosen"},
    {"anti_strict_counts_member_migrating_out",
     GroupPolicy::kAntiAffinity,
     false,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "c");
       Migrating(s, "m1", "c", "a");
     },
     "",
     "b",
     true,
     {kAnti, kOk, kAnti},
     "b chosen"},
    {"anti_strict_migration_of_member",
     GroupPolicy::kAntiAffinity,
     false,
     1,
     [](ClusterSnapshot& s) { Member(s, "m1", "b"); },
     "a",
     "c",
     true,
     {kHere, kAnti, kOk},
     "c chosen"},
    {"anti_strict_migration_blocked_by_inbound_member",
     GroupPolicy::kAntiAffinity,
     false,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "c");
       Migrating(s, "m1", "c", "b");
     },
     "a",
     "",
     true,
     {kHere, kAnti, kAnti},
     "2 nodes anti-affinity"},
    {"anti_strict_max_per_node",
     GroupPolicy::kAntiAffinity,
     false,
     2,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Member(s, "m2", "b");
       Member(s, "m3", "b");
     },
     "",
     "c",
     true,
     {kOk, kAnti, kOk},
     "c chosen"},
    {"anti_strict_no_node_left",
     GroupPolicy::kAntiAffinity,
     false,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Member(s, "m2", "b");
       Member(s, "m3", "c");
     },
     "",
     "",
     true,
     {kAnti, kAnti, kAnti},
     "3 nodes anti-affinity (a: anti-affinity: group g already on a (m1; 1 of maxPerNode 1"},
    {"anti_best_effort_prefers_fewest",
     GroupPolicy::kAntiAffinity,
     true,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Member(s, "m2", "b");
       Member(s, "m3", "b");
       Filler(s, "c", 10, 40);  // c is the most loaded, still preferred
     },
     "",
     "c",
     true,
     {kOk, kOk, kOk},
     "c chosen"},
    {"anti_best_effort_breaks_rule_marked",
     GroupPolicy::kAntiAffinity,
     true,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Member(s, "m2", "b");
       Member(s, "m3", "b");
       Member(s, "m4", "c");
     },
     "",
     "a",
     false,
     {kOk, kOk, kOk},
     "non-compliant: best-effort anti-affinity: group g already on a (m1; 1 of maxPerNode 1"},
    {"anti_best_effort_counts_inbound",
     GroupPolicy::kAntiAffinity,
     true,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Migrating(s, "m1", "a", "c");
     },
     "",
     "b",
     true,
     {kOk, kOk, kOk},
     "b chosen"},
    {"anti_best_effort_counts_outbound",
     GroupPolicy::kAntiAffinity,
     true,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Member(s, "m2", "b");
       Migrating(s, "m2", "b", "a");  // leaving b, still counted there until it ends
     },
     "",
     "c",
     true,
     {kOk, kOk, kOk},
     "c chosen"},
    {"anti_best_effort_rule_outranks_the_weights",
     GroupPolicy::kAntiAffinity,
     true,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       s.nodes[2].unschedulable = true;
       Filler(s, "b", 12, 56);  // b: nearly full and busy migrating, but compliant
       s.vms.push_back(MakeVm("busy-1", 1, 1, "b"));
       s.vms.push_back(MakeVm("busy-2", 1, 1, "b"));
       Migrating(s, "busy-1", "b", "c");
       Migrating(s, "busy-2", "b", "c");
     },
     "",
     "b",
     true,
     {kOk, kOk, Reason::kCordoned},
     "b chosen"},
    {"aff_strict_joins_group",
     GroupPolicy::kAffinity,
     false,
     1,
     [](ClusterSnapshot& s) { Member(s, "m1", "b"); },
     "",
     "b",
     true,
     {kAff, kOk, kAff},
     "b chosen"},
    {"aff_strict_group_node_full",
     GroupPolicy::kAffinity,
     false,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "b");
       Filler(s, "b", 1, 62);
     },
     "",
     "",
     true,
     {kAff, Reason::kMemory, kAff},
     "1 node memory (b: memory: needs 4Gi, free 1Gi); 2 nodes affinity"},
    {"aff_strict_member_may_not_migrate_alone",
     GroupPolicy::kAffinity,
     false,
     1,
     [](ClusterSnapshot& s) { Member(s, "m1", "a"); },
     "a",
     "",
     true,
     {kHere, kAff, kAff},
     "a member may not migrate alone, move the group as a unit"},
    {"aff_strict_single_member_migrates",
     GroupPolicy::kAffinity,
     false,
     1,
     [](ClusterSnapshot&) {},
     "a",
     "b",
     true,
     {kHere, kOk, kOk},
     "b chosen"},
    {"aff_strict_group_move_in_flight",
     GroupPolicy::kAffinity,
     false,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "a");
       Migrating(s, "m1", "a", "b");
     },
     "",
     "a",
     true,
     {kOk, kOk, kAff},
     "a chosen"},
    {"aff_strict_member_may_join_rest_of_group",
     GroupPolicy::kAffinity,
     false,
     1,
     [](ClusterSnapshot& s) { Member(s, "m1", "c"); },
     "a",
     "c",
     true,
     {kHere, kAff, kOk},
     "c chosen"},
    {"aff_best_effort_prefers_group_node",
     GroupPolicy::kAffinity,
     true,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "b");
       Filler(s, "b", 10, 40);
     },
     "",
     "b",
     true,
     {kOk, kOk, kOk},
     "b chosen"},
    {"aff_best_effort_group_node_full_marked",
     GroupPolicy::kAffinity,
     true,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "b");
       Filler(s, "b", 1, 62);
     },
     "",
     "a",
     false,
     {kOk, Reason::kMemory, kOk},
     "non-compliant: best-effort affinity: group g is on b, not here"},
    {"aff_best_effort_member_migrating_in",
     GroupPolicy::kAffinity,
     true,
     1,
     [](ClusterSnapshot& s) {
       Member(s, "m1", "c");
       Member(s, "m2", "b");
       Migrating(s, "m2", "b", "c");  // c holds two (one arriving), b one (leaving)
     },
     "",
     "c",
     true,
     {kOk, kOk, kOk},
     "c chosen"},
    {"aff_best_effort_member_migrates_out",
     GroupPolicy::kAffinity,
     true,
     1,
     [](ClusterSnapshot& s) { Member(s, "m1", "a"); },
     "a",
     "b",
     false,
     {kHere, kOk, kOk},
     "group g is on a, not here"},
};

INSTANTIATE_TEST_SUITE_P(Groups, GroupSemanticsTest, ::testing::ValuesIn(kGroupCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace ferry::placement

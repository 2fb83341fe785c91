#include "placement/scoring.h"

#include <gtest/gtest.h>

#include <functional>
#include <type_traits>

#include "placement/placement.h"
#include "test_builders.h"

namespace ferry::placement {
namespace {

// Weights are set by name: a positional Weights{1, 1, 3, 1}, which silently depends on the
// order of the fields, does not compile.
static_assert(!std::is_aggregate_v<Weights>);
static_assert(Weights().WithGroup(5).WithInflight(0).group == 5);

using ::ferry::placement::testing::MakeGroup;
using ::ferry::placement::testing::MakeNode;
using ::ferry::placement::testing::MakeVm;
using ::ferry::placement::testing::MustBuild;

// Each weight alone decides between two nodes that are otherwise equal.
struct WeightCase {
  const char* name;
  std::function<void(ClusterSnapshot&)> setup;  // makes node a worse on one component
  Weights weights;
  const char* want;
  ScoreBreakdown want_a;  // components on a (total ignored)
};

class WeightTest : public ::testing::TestWithParam<WeightCase> {};

TEST_P(WeightTest, PrefersTheBetterNode) {
  const WeightCase& c = GetParam();
  ClusterSnapshot s;
  s.nodes = {MakeNode("a", 16, 64), MakeNode("b", 16, 64), MakeNode("c", 16, 64)};
  s.nodes[2].unschedulable = true;  // only a and b compete
  s.vms = {MakeVm("x", 2, 8)};
  c.setup(s);
  ClusterView view = MustBuild(s);
  PlacementOptions options;
  options.weights = c.weights;
  const TargetDecision d = ChooseTarget(view, {"x", ""}, options);
  ASSERT_TRUE(d.scheduled) << d.reason;
  EXPECT_EQ(d.node, c.want);
  const ScoreBreakdown a = d.verdicts[0].score;
  EXPECT_EQ(a.least_loaded, c.want_a.least_loaded);
  EXPECT_EQ(a.least_pinned, c.want_a.least_pinned);
  EXPECT_EQ(a.group, c.want_a.group);
  EXPECT_EQ(a.inflight, c.want_a.inflight);
  EXPECT_EQ(a.total, int64_t{c.weights.least_loaded} * a.least_loaded +
                         int64_t{c.weights.least_pinned} * a.least_pinned +
                         int64_t{c.weights.group} * a.group +
                         int64_t{c.weights.inflight} * a.inflight);
}

const WeightCase kWeightCases[] = {
    {"least_loaded",
     [](ClusterSnapshot& s) { s.vms.push_back(MakeVm("f", 8, 32, "a")); },
     Weights{},
     "b",
     {37, 100, 100, 100, 0}},
    {"least_pinned",
     [](ClusterSnapshot& s) {
       s.nodes[0].dedicated_cpus = 8;
       s.nodes[1].dedicated_cpus = 8;
       s.vms.push_back(MakeVm("pinned", 4, 8, "a"));
       s.vms.back().dedicated_cpus = true;
       s.vms.push_back(MakeVm("shared", 4, 8, "b"));  // same load, not pinned
     },
     Weights{},
     "b",
     {68, 50, 100, 100, 0}},
    {"fewest_in_flight",
     [](ClusterSnapshot& s) {
       s.vms.push_back(MakeVm("leaving", 2, 8, "a"));
       s.vms.push_back(MakeVm("staying", 2, 8, "b"));
       s.migrations = {{"leaving", "a", "c", ""}};
     },
     Weights{},
     "b",
     {75, 100, 100, 50, 0}},
    {"fewest_group_conflicts",
     [](ClusterSnapshot& s) {
       s.groups = {MakeGroup("g", GroupPolicy::kAntiAffinity, true)};
       s.vms[0].server_group = "g";
       s.vms.push_back(MakeVm("m1", 2, 8, "a", "g"));
       s.vms.push_back(MakeVm("other", 2, 8, "b"));
     },
     Weights{},
     "b",
     {75, 100, 50, 100, 0}},
    {"zero_weight_ignores_load",
     [](ClusterSnapshot& s) { s.vms.push_back(MakeVm("f", 8, 32, "b")); },
     Weights().WithLeastLoaded(0),
     "a",
     {87, 100, 100, 100, 0}},
};

INSTANTIATE_TEST_SUITE_P(Weights, WeightTest, ::testing::ValuesIn(kWeightCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(GroupScoreTest, AffinityAndAntiAffinity) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("a"), MakeNode("b"), MakeNode("c")};
  s.groups = {MakeGroup("aff", GroupPolicy::kAffinity, true),
              MakeGroup("anti", GroupPolicy::kAntiAffinity, true, 3)};
  s.vms = {MakeVm("x", 1, 1, "", "aff"),
           MakeVm("y", 1, 1, "", "anti"),
           MakeVm("p1", 1, 1, "a", "aff"),
           MakeVm("p2", 1, 1, "a", "aff"),
           MakeVm("p3", 1, 1, "b", "aff"),
           MakeVm("q1", 1, 1, "a", "anti"),
           MakeVm("q2", 1, 1, "a", "anti"),
           MakeVm("q3", 1, 1, "b", "anti"),
           MakeVm("z", 1, 1)};
  ClusterView view = MustBuild(s);
  auto score = [&](const char* vm, const char* node) {
    const VmId v = view.FindVm(vm);
    const VmContext ctx = MakeVmContext(view, view.usage(), v, DemandOf(view.vm(v)), false);
    return GroupScore(view, ctx, view.FindNode(node));
  };
  EXPECT_EQ(score("x", "a"), 100);  // the group's node
  EXPECT_EQ(score("x", "b"), 50);   // holds some members
  EXPECT_EQ(score("x", "c"), 0);
  EXPECT_EQ(score("y", "a"), 33);  // 100 / (1 + 2)
  EXPECT_EQ(score("y", "b"), 50);
  EXPECT_EQ(score("y", "c"), 100);
  EXPECT_EQ(score("z", "a"), 100);  // no group: neutral
}

}  // namespace
}  // namespace ferry::placement

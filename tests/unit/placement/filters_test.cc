#include "placement/filters.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "placement/explain.h"
#include "test_builders.h"

namespace ferry::placement {
namespace {

using ::ferry::placement::testing::MakeGroup;
using ::ferry::placement::testing::MakeNode;
using ::ferry::placement::testing::MakeVm;
using ::ferry::placement::testing::MustBuild;
using ::testing::HasSubstr;

// One filter case: the VM "v" (on node "src" when migrating, unplaced otherwise) is checked
// against node "dst" after the mutations.
struct FilterCase {
  const char* name;
  std::function<void(ClusterSnapshot&)> mutate;
  bool migrating;
  Reason want;
  const char* message;  // substring of the explanation ("" when passing)
};

Node& Dst(ClusterSnapshot& s) { return s.nodes[1]; }
Vm& V(ClusterSnapshot& s) { return s.vms[0]; }

class FilterTableTest : public ::testing::TestWithParam<FilterCase> {};

TEST_P(FilterTableTest, RejectsWithTheNumbers) {
  const FilterCase& c = GetParam();
  ClusterSnapshot s;
  s.nodes = {MakeNode("src"), MakeNode("dst", 8, 16)};
  s.vms = {MakeVm("v", 2, 4, c.migrating ? "src" : "")};
  c.mutate(s);
  ClusterView view = MustBuild(s);
  const VmId v = view.FindVm("v");
  const NodeId dst = view.FindNode("dst");
  const VmContext ctx = MakeVmContext(view, view.usage(), v, DemandOf(view.vm(v)), false);
  const Rejection r = CheckNode(view, view.usage(), ctx, dst);
  EXPECT_EQ(r.reason, c.want) << ReasonLabel(r.reason);
  if (r.rejected()) {
    EXPECT_THAT(DescribeRejection(view, v, dst, r), HasSubstr(c.message));
  }
}

const FilterCase kCases[] = {
    {"passes", [](ClusterSnapshot&) {}, true, Reason::kNone, ""},
    {"not_ready", [](ClusterSnapshot& s) { Dst(s).ready = false; }, true, Reason::kNodeNotReady,
     "not ready: node is not Ready"},
    {"cordoned", [](ClusterSnapshot& s) { Dst(s).unschedulable = true; }, false, Reason::kCordoned,
     "cordoned: node is unschedulable"},
    {"taint_not_tolerated",
     [](ClusterSnapshot& s) {
       Dst(s).taints = {{"gpu", "yes", TaintEffect::kNoSchedule}};
     },
     false, Reason::kTaint, "taint: gpu=yes:NoSchedule not tolerated"},
    {"noexecute_taint",
     [](ClusterSnapshot& s) {
       Dst(s).taints = {{"maint", "", TaintEffect::kNoExecute}};
     },
     true, Reason::kTaint, "taint: maint:NoExecute not tolerated"},
    {"prefer_no_schedule_ignored",
     [](ClusterSnapshot& s) {
       Dst(s).taints = {{"x", "", TaintEffect::kPreferNoSchedule}};
     },
     false, Reason::kNone, ""},
    {"taint_tolerated_by_value",
     [](ClusterSnapshot& s) {
       Dst(s).taints = {{"gpu", "yes", TaintEffect::kNoSchedule}};
       V(s).tolerations = {Toleration::Equal("gpu", "yes")};
     },
     false, Reason::kNone, ""},
    {"taint_wrong_effect",
     [](ClusterSnapshot& s) {
       Dst(s).taints = {{"gpu", "yes", TaintEffect::kNoExecute}};
       V(s).tolerations = {Toleration::Exists("gpu", TaintEffect::kNoSchedule)};
     },
     false, Reason::kTaint, "gpu=yes:NoExecute"},
    {"taint_tolerated_by_wildcard",
     [](ClusterSnapshot& s) {
       Dst(s).taints = {{"a", "b", TaintEffect::kNoSchedule}};
       V(s).tolerations = {Toleration::Exists()};
     },
     false, Reason::kNone, ""},
    {"selector_label_missing",
     [](ClusterSnapshot& s) {
       V(s).node_selector = {{"zone", "a"}};
     },
     false, Reason::kNodeSelector, "node selector: needs zone=a, node has no zone label"},
    {"selector_label_differs",
     [](ClusterSnapshot& s) {
       V(s).node_selector = {{"rack", "1"}, {"zone", "a"}};
       Dst(s).labels = {{"rack", "1"}, {"zone", "b"}};
     },
     false, Reason::kNodeSelector, "needs zone=a, node has zone=b"},
    {"selector_matches",
     [](ClusterSnapshot& s) {
       V(s).node_selector = {{"zone", "a"}};
       Dst(s).labels = {{"zone", "a"}, {"x", "y"}};
     },
     false, Reason::kNone, ""},
    {"passthrough_other_host_model",
     [](ClusterSnapshot& s) {
       V(s).cpu_model = kHostPassthrough;
       Dst(s).cpu_model = "Icelake";
     },
     true, Reason::kCpuModel, "host-passthrough needs host model Skylake, node has Icelake"},
    {"passthrough_new_vm_anywhere",
     [](ClusterSnapshot& s) {
       V(s).cpu_model = kHostPassthrough;
       Dst(s).cpu_model = "Icelake";
     },
     false, Reason::kNone, ""},
    {"named_model_unsupported", [](ClusterSnapshot& s) { V(s).cpu_model = "EPYC"; }, false,
     Reason::kCpuModel, "model EPYC not supported (host Skylake)"},
    {"named_model_supported",
     [](ClusterSnapshot& s) {
       V(s).cpu_model = "Haswell";
       Dst(s).cpu_models = {"Broadwell", "Haswell"};
     },
     false, Reason::kNone, ""},
    {"qemu_older_than_source",
     [](ClusterSnapshot& s) { Dst(s).version.qemu = MakeVersion(6, 2, 0); }, true, Reason::kVersion,
     "QEMU 6.2.0 is older than 7.2.0"},
    {"libvirt_older_than_source",
     [](ClusterSnapshot& s) { Dst(s).version.libvirt = MakeVersion(8, 0, 0); }, true,
     Reason::kVersion, "libvirt 8.0.0 is older than 9.0.0"},
    {"older_allowed_back_to_boot_version",
     [](ClusterSnapshot& s) {
       Dst(s).version.qemu = MakeVersion(6, 2, 0);
       V(s).boot_version = {MakeVersion(9, 0, 0), MakeVersion(6, 2, 0)};
     },
     true, Reason::kNone, ""},
    {"older_than_boot_version",
     [](ClusterSnapshot& s) {
       Dst(s).version.qemu = MakeVersion(6, 0, 0);
       V(s).boot_version = {MakeVersion(9, 0, 0), MakeVersion(6, 2, 0)};
     },
     true, Reason::kVersion, "QEMU 6.0.0 is older than 6.2.0"},
    {"new_vm_needs_boot_version",
     [](ClusterSnapshot& s) {
       Dst(s).version.qemu = MakeVersion(6, 0, 0);
       V(s).boot_version = {0, MakeVersion(7, 0, 0)};
     },
     false, Reason::kVersion, "QEMU 6.0.0 is older than 7.0.0"},
    {"cpu", [](ClusterSnapshot& s) { V(s).cpu_millis = 8500; }, false, Reason::kCpu,
     "cpu: needs 8500m, free 8"},
    {"cpu_counts_vms", [](ClusterSnapshot& s) { s.vms.push_back(MakeVm("other", 7, 1, "dst")); },
     false, Reason::kCpu, "cpu: needs 2, free 1"},
    {"memory", [](ClusterSnapshot& s) { s.vms.push_back(MakeVm("big", 1, 14, "dst")); }, true,
     Reason::kMemory, "memory: needs 4Gi, free 2Gi"},
    {"memory_counts_inflight_reservation",
     [](ClusterSnapshot& s) {
       s.vms.push_back(MakeVm("incoming", 1, 14, "src"));
       s.migrations = {{"incoming", "src", "dst", ""}};
     },
     false, Reason::kMemory, "memory: needs 4Gi, free 2Gi"},
    {"dedicated_cpus",
     [](ClusterSnapshot& s) {
       V(s).dedicated_cpus = true;
       Dst(s).dedicated_cpus = 1;
     },
     false, Reason::kDedicatedCpus, "dedicated cpus: needs 2, free 1"},
    {"dedicated_pool_used",
     [](ClusterSnapshot& s) {
       V(s).dedicated_cpus = true;
       Dst(s).dedicated_cpus = 4;
       s.vms.push_back(MakeVm("pinned", 3, 1, "dst"));
       s.vms.back().dedicated_cpus = true;
     },
     false, Reason::kDedicatedCpus, "needs 2, free 1"},
    {"hugepages_no_pool", [](ClusterSnapshot& s) { V(s).hugepage_size_bytes = kGi; }, false,
     Reason::kHugepages, "hugepages-1Gi: needs 4Gi, free 0"},
    {"hugepages_small_pool",
     [](ClusterSnapshot& s) {
       V(s).hugepage_size_bytes = 2 * kMi;
       Dst(s).hugepages = {{kGi, 64 * kGi}, {2 * kMi, 3 * kGi}};
     },
     false, Reason::kHugepages, "hugepages-2Mi: needs 4Gi, free 3Gi"},
    {"hugepages_fit_not_regular_memory",
     [](ClusterSnapshot& s) {
       V(s).hugepage_size_bytes = kGi;
       V(s).memory_bytes = 32 * kGi;  // more than dst's 16Gi regular memory
       Dst(s).hugepages = {{kGi, 32 * kGi}};
     },
     false, Reason::kNone, ""},
    {"numa_no_cells", [](ClusterSnapshot& s) { V(s).numa_nodes = 1; }, false, Reason::kNuma,
     "numa: needs 1 cells with 4Gi and 2 cpu free each, 0 of 0 cells have room"},
    {"numa_cells_too_small",
     [](ClusterSnapshot& s) {
       V(s).numa_nodes = 2;
       Dst(s).numa_cells = {{4000, 8 * kGi}, {4000, 1 * kGi}};
     },
     false, Reason::kNuma, "needs 2 cells with 2Gi and 1 cpu free each, 1 of 2 cells have room"},
    {"numa_fits",
     [](ClusterSnapshot& s) {
       V(s).numa_nodes = 2;
       Dst(s).numa_cells = {{4000, 8 * kGi}, {4000, 8 * kGi}};
     },
     false, Reason::kNone, ""},
    {"strict_anti_affinity",
     [](ClusterSnapshot& s) {
       V(s).server_group = "db";
       s.vms.push_back(MakeVm("db-2", 1, 1, "dst", "db"));
       s.groups = {MakeGroup("db", GroupPolicy::kAntiAffinity, false)};
     },
     false, Reason::kAntiAffinity,
     "anti-affinity: group db already on dst (db-2; 1 of maxPerNode 1"},
    {"best_effort_anti_affinity_is_no_filter",
     [](ClusterSnapshot& s) {
       V(s).server_group = "db";
       s.vms.push_back(MakeVm("db-2", 1, 1, "dst", "db"));
       s.groups = {MakeGroup("db", GroupPolicy::kAntiAffinity, true)};
     },
     false, Reason::kNone, ""},
    {"strict_affinity_elsewhere",
     [](ClusterSnapshot& s) {
       V(s).server_group = "web";
       s.vms.push_back(MakeVm("web-2", 1, 1, "src", "web"));
       s.groups = {MakeGroup("web", GroupPolicy::kAffinity, false)};
     },
     false, Reason::kAffinity, "affinity: group web is on src, not here"},
    {"capacity_reported_before_group_rule",
     [](ClusterSnapshot& s) {
       V(s).server_group = "db";
       V(s).memory_bytes = 32 * kGi;
       s.vms.push_back(MakeVm("db-2", 1, 1, "dst", "db"));
       s.groups = {MakeGroup("db", GroupPolicy::kAntiAffinity, false)};
     },
     false, Reason::kMemory, "memory: needs 32Gi, free 15Gi"},
};

INSTANTIATE_TEST_SUITE_P(Filters, FilterTableTest, ::testing::ValuesIn(kCases),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(FiltersTest, CurrentAndExcludedNodesAreRejected) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("a"), MakeNode("b")};
  s.vms = {MakeVm("v", 1, 1, "a")};
  ClusterView view = MustBuild(s);
  VmContext ctx = MakeVmContext(view, view.usage(), 0, DemandOf(view.vm(0)), false);
  EXPECT_EQ(CheckNode(view, view.usage(), ctx, 0).reason, Reason::kCurrentNode);
  const std::vector<char> excluded = {0, 1};
  ctx.excluded = &excluded;
  EXPECT_EQ(CheckNode(view, view.usage(), ctx, 1).reason, Reason::kExcluded);
}

// Members migrating to or from a node count there (StarlingX), and maxPerNode bounds them.
TEST(GroupPresenceTest, CountsMembersMigratingToAndFrom) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("a"), MakeNode("b"), MakeNode("c")};
  s.vms = {MakeVm("m1", 1, 1, "a", "g"), MakeVm("m2", 1, 1, "a", "g"), MakeVm("m3", 1, 1, "c", "g"),
           MakeVm("x", 1, 1, "", "g")};
  s.groups = {MakeGroup("g", GroupPolicy::kAntiAffinity, false, 2)};
  s.migrations = {{"m2", "a", "b", ""}};
  ClusterView view = MustBuild(s);
  const GroupPresence p = ComputePresence(view, view.usage(), 0, view.FindVm("x"));
  EXPECT_EQ(p.members, 3);
  EXPECT_EQ(p.CountOn(view.FindNode("a")), 2);
  EXPECT_EQ(p.CountOn(view.FindNode("b")), 1);
  EXPECT_EQ(p.CountOn(view.FindNode("c")), 1);
  EXPECT_EQ(p.main_node, view.FindNode("a"));
  EXPECT_EQ(p.ExampleOn(view.FindNode("b")), view.FindVm("m2"));
  const VmId x = view.FindVm("x");
  const VmContext ctx = MakeVmContext(view, view.usage(), x, DemandOf(view.vm(x)), false);
  EXPECT_EQ(CheckGroup(view, ctx, view.FindNode("a")).reason, Reason::kAntiAffinity);
  EXPECT_EQ(CheckGroup(view, ctx, view.FindNode("b")).reason, Reason::kNone);  // 1 < 2
}

}  // namespace
}  // namespace ferry::placement

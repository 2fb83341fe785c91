#include "placement/cluster_index.h"

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

TEST(ClusterIndexTest, SortsByNameSoInputOrderDoesNotMatter) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("node-b"), MakeNode("node-a")};
  s.vms = {MakeVm("vm-2", 1, 1, "node-b"), MakeVm("vm-1", 1, 1, "node-b")};
  ClusterIndex index = MustBuild(s);
  EXPECT_EQ(index.node(0).name, "node-a");
  EXPECT_EQ(index.FindNode("node-b"), 1);
  EXPECT_EQ(index.FindVm("vm-1"), 0);
  EXPECT_EQ(index.FindVm("missing"), kNoId);
  EXPECT_THAT(index.vms_on(1), ElementsAre(0, 1));
  EXPECT_EQ(index.location(0), 1);
}

struct InvalidCase {
  const char* name;
  void (*mutate)(ClusterSnapshot&);
  const char* want;
};

TEST(ClusterIndexTest, RejectsAmbiguousSnapshotsWithAClearReason) {
  const InvalidCase cases[] = {
      {"duplicate node", [](ClusterSnapshot& s) { s.nodes.push_back(MakeNode("n1")); },
       "duplicate node name \"n1\""},
      {"duplicate vm", [](ClusterSnapshot& s) { s.vms.push_back(MakeVm("v1")); },
       "duplicate vm name \"v1\""},
      {"duplicate group",
       [](ClusterSnapshot& s) {
         s.groups.push_back(MakeGroup("g", GroupPolicy::kAffinity, false));
       },
       "duplicate server group name \"g\""},
      {"empty node name", [](ClusterSnapshot& s) { s.nodes.push_back(MakeNode("")); },
       "node with an empty name"},
      {"negative vm memory", [](ClusterSnapshot& s) { s.vms[0].memory_bytes = -1; },
       "vm v1: negative memory"},
      {"negative node cpu", [](ClusterSnapshot& s) { s.nodes[0].cpu_millis = -5; },
       "node n1: negative cpu"},
      {"maxPerNode zero", [](ClusterSnapshot& s) { s.groups[0].max_per_node = 0; },
       "maxPerNode 0 must be at least 1"},
      {"too many numa cells",
       [](ClusterSnapshot& s) { s.nodes[0].numa_cells.resize(kMaxNumaCells + 1); }, "NUMA cells"},
      {"numa out of range", [](ClusterSnapshot& s) { s.vms[0].numa_nodes = -1; },
       "numaNodes -1 out of range"},
      {"two pools of one size",
       [](ClusterSnapshot& s) {
         s.nodes[0].hugepages = {{2 * kMi, kGi}, {2 * kMi, kGi}};
       },
       "two hugepage pools of page size 2Mi"},
  };
  for (const InvalidCase& c : cases) {
    ClusterSnapshot s;
    s.nodes = {MakeNode("n1")};
    s.vms = {MakeVm("v1", 1, 1, "n1", "g")};
    s.groups = {MakeGroup("g", GroupPolicy::kAffinity, false)};
    c.mutate(s);
    StatusOr<ClusterIndex> index = ClusterIndex::Build(s);
    ASSERT_FALSE(index.ok()) << c.name;
    EXPECT_EQ(index.status().code(), StatusCode::kInvalid) << c.name;
    EXPECT_THAT(index.status().message(), HasSubstr(c.want)) << c.name;
  }
}

TEST(ClusterIndexTest, RecordsNonFatalProblemsAndKeepsGoing) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("n1")};
  s.vms = {MakeVm("v1", 1, 1, "gone-node"), MakeVm("v2", 1, 1, "n1", "nosuch"),
           MakeVm("v3", 1, 1, "n1", "g")};
  s.groups = {MakeGroup("g", GroupPolicy::kAntiAffinity, false)};
  s.groups[0].members = {"v3", "ghost", "v2"};
  s.migrations = {{"ghost-vm", "n1", "n1", ""}, {"v3", "n1", "nowhere", ""}};
  ClusterIndex index = MustBuild(s);
  EXPECT_EQ(index.location(index.FindVm("v1")), kNoId);
  EXPECT_EQ(index.group_of(index.FindVm("v2")), kMissingGroup);
  EXPECT_THAT(index.members(0), ElementsAre(index.FindVm("v3")));
  const std::string all = [&] {
    std::string out;
    for (const std::string& p : index.problems()) out += p + "\n";
    return out;
  }();
  EXPECT_THAT(all, HasSubstr("vm v1 is on node gone-node, which is not in the snapshot"));
  EXPECT_THAT(all, HasSubstr("names server group nosuch, which does not exist"));
  EXPECT_THAT(all, HasSubstr("lists member ghost, which is not a VM in the snapshot"));
  EXPECT_THAT(all, HasSubstr("lists member v2, whose serverGroup is \"nosuch\""));
  EXPECT_THAT(all, HasSubstr("in-flight migration of unknown vm ghost-vm ignored"));
  EXPECT_THAT(all, HasSubstr("in-flight migration of vm v3 to unknown node nowhere ignored"));
  EXPECT_EQ(index.problems().size(), 6u);
}

TEST(ClusterIndexTest, UsageCountsVmsAndInFlightReservations) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("n1"), MakeNode("n2")};
  s.nodes[1].dedicated_cpus = 8;
  s.nodes[1].hugepages = {{kGi, 16 * kGi}};
  s.vms = {MakeVm("a", 2, 4, "n1"), MakeVm("b", 4, 8, "n1")};
  s.vms[1].dedicated_cpus = true;
  s.vms[1].hugepage_size_bytes = kGi;
  s.migrations = {{"b", "n1", "n2", ""}};
  ClusterIndex index = MustBuild(s);
  const UsageTable& u = index.usage();
  EXPECT_EQ(u.cpu_millis[0], 6000);
  EXPECT_EQ(u.memory_bytes[0], 4 * kGi + 8 * kGi);  // n1 has no 1Gi pool: b counted as memory
  EXPECT_EQ(u.cpu_millis[1], 4000);                 // reservation on the target
  EXPECT_EQ(u.memory_bytes[1], 0);
  EXPECT_EQ(u.hugepage_bytes[static_cast<size_t>(index.PoolIndex(1, kGi))], 8 * kGi);
  EXPECT_EQ(u.dedicated_cpus[1], 4);
  EXPECT_EQ(u.inflight[0], 1);
  EXPECT_EQ(u.inflight[1], 1);
  EXPECT_EQ(u.migrating_to[static_cast<size_t>(index.FindVm("b"))], 1);
  EXPECT_EQ(u.migrating_to[static_cast<size_t>(index.FindVm("a"))], kNoId);
}

TEST(ClusterIndexTest, NumaVmsTakeTheCellsWithMostFreeMemory) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("n1", 16, 64)};
  s.nodes[0].numa_cells = {{8000, 32 * kGi}, {8000, 32 * kGi}};
  s.vms = {MakeVm("a", 4, 8, "n1"), MakeVm("b", 4, 8, "n1"), MakeVm("c", 4, 16, "n1")};
  s.vms[0].numa_nodes = 1;
  s.vms[1].numa_nodes = 1;
  s.vms[2].numa_nodes = 2;
  ClusterIndex index = MustBuild(s);
  const UsageTable& u = index.usage();
  // a -> cell 0, b -> cell 1 (more free), c -> both with 8Gi and 2 CPUs each.
  EXPECT_EQ(u.cell_memory_bytes[0], 16 * kGi);
  EXPECT_EQ(u.cell_memory_bytes[1], 16 * kGi);
  EXPECT_EQ(u.cell_cpu_millis[0], 6000);
  EXPECT_EQ(u.cell_cpu_millis[1], 6000);
}

TEST(ClusterIndexTest, DemandOfHonoursRelaxation) {
  Vm v = MakeVm("v", 3, 6);
  v.dedicated_cpus = true;
  v.numa_nodes = 2;
  v.cpu_millis = 2500;  // rounds up to 3 dedicated CPUs
  const Demand full = DemandOf(v);
  EXPECT_EQ(full.dedicated_cpus, 3);
  EXPECT_EQ(full.numa_nodes, 2);
  const Demand relaxed = DemandOf(v, {true, true});
  EXPECT_EQ(relaxed.dedicated_cpus, 0);
  EXPECT_EQ(relaxed.numa_nodes, 0);
  EXPECT_EQ(relaxed.cpu_millis, 2500);
}

TEST(ClusterIndexTest, EmptySnapshotIsValid) {
  ClusterIndex index = MustBuild({});
  EXPECT_EQ(index.node_count(), 0);
  EXPECT_EQ(index.vm_count(), 0);
  EXPECT_TRUE(index.problems().empty());
}

}  // namespace
}  // namespace ferry::placement

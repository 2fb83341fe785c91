#include "placement/cluster_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "placement/placement.h"
#include "test_builders.h"
#include "view_compare.h"

namespace ferry::placement {
namespace {

using ::ferry::placement::testing::MakeGroup;
using ::ferry::placement::testing::MakeNode;
using ::ferry::placement::testing::MakeVm;
using ::ferry::placement::testing::MustBuild;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const NodeUse& Use(const ClusterView& view, NodeId node) {
  return view.usage().nodes[static_cast<size_t>(node)];
}

std::vector<std::string> NodeNames(const ClusterView& view) {
  std::vector<std::string> out;
  for (NodeId n : view.node_ids()) out.push_back(view.node(n).name);
  return out;
}

std::vector<std::string> VmNames(const ClusterView& view, const std::vector<VmId>& ids) {
  std::vector<std::string> out;
  for (VmId v : ids) out.push_back(view.vm(v).name);
  return out;
}

TEST(ClusterViewTest, NodesAndVmsAreInNameOrderWhateverTheInputOrder) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("node-b"), MakeNode("node-a")};
  s.vms = {MakeVm("vm-2", 1, 1, "node-b"), MakeVm("vm-1", 1, 1, "node-b")};
  ClusterView view = MustBuild(s);
  EXPECT_THAT(NodeNames(view), ElementsAre("node-a", "node-b"));
  const NodeId b = view.FindNode("node-b");
  EXPECT_THAT(VmNames(view, view.vms_on(b)), ElementsAre("vm-1", "vm-2"));
  EXPECT_EQ(view.location(view.FindVm("vm-1")), b);
  EXPECT_EQ(view.FindVm("missing"), kNoId);
  EXPECT_LT(view.rank(view.FindNode("node-a")), view.rank(b));
}

struct InvalidCase {
  const char* name;
  void (*mutate)(ClusterSnapshot&);
  const char* want;
};

TEST(ClusterViewTest, BuildRejectsAmbiguousSnapshotsWithAClearReason) {
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
      {"duplicate migration",
       [](ClusterSnapshot& s) {
         s.migrations = {{"v1", "n1", "n2", "m"}, {"v1", "n1", "n3", "m"}};
       },
       "duplicate migration name \"m\""},
      {"empty node name", [](ClusterSnapshot& s) { s.nodes.push_back(MakeNode("")); },
       "node with an empty name"},
      {"node with neither half",
       [](ClusterSnapshot& s) {
         s.nodes[0].has_node_object = false;
         s.nodes[0].has_hypervisor = false;
       },
       "node n1 has neither a Node object nor a Hypervisor"},
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
    StatusOr<ClusterView> view = ClusterView::Build(s);
    ASSERT_FALSE(view.ok()) << c.name;
    EXPECT_EQ(view.status().code(), StatusCode::kInvalid) << c.name;
    EXPECT_THAT(view.status().message(), HasSubstr(c.want)) << c.name;
  }
}

TEST(ClusterViewTest, InvalidUpdatesLeaveTheViewUnchanged) {
  ClusterView view = MustBuild({});
  Vm bad = MakeVm("v", 1, 1);
  bad.memory_bytes = -1;
  EXPECT_EQ(view.UpsertVm(bad).code(), StatusCode::kInvalid);
  HypervisorInfo hv = HypervisorInfoOf(MakeNode("n"));
  hv.hugepages = {{0, kGi}};
  EXPECT_EQ(view.UpsertHypervisor(hv).code(), StatusCode::kInvalid);
  EXPECT_EQ(view.UpsertMigration({"v", "", "n", ""}).code(), StatusCode::kInvalid);
  EXPECT_EQ(view.generation(), 0u);
  EXPECT_EQ(view.vm_count(), 0);
  EXPECT_EQ(view.node_count(), 0);
}

TEST(ClusterViewTest, RecordsNonFatalProblemsAndKeepsGoing) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("n1"), MakeNode("n2"), MakeNode("n3")};
  s.vms = {MakeVm("v1", 1, 1, "gone-node"), MakeVm("v2", 1, 1, "n1", "nosuch"),
           MakeVm("v3", 1, 1, "n1", "g"), MakeVm("v4", 1, 1, "n1")};
  s.groups = {MakeGroup("g", GroupPolicy::kAntiAffinity, false)};
  s.groups[0].members = {"v3", "ghost", "v2"};
  s.migrations = {{"ghost-vm", "n1", "n2", "m1"},
                  {"v3", "n1", "nowhere", "m2"},
                  {"v4", "n1", "n3", "m4"},  // counts: the smallest name
                  {"v4", "n1", "n2", "m5"},
                  {"v3", "n1", "n1", "m3"}};
  ClusterView view = MustBuild(s);
  EXPECT_EQ(view.location(view.FindVm("v1")), kNoId);
  EXPECT_EQ(view.group_of(view.FindVm("v2")), kMissingGroup);
  EXPECT_THAT(VmNames(view, view.members(view.FindGroup("g"))), ElementsAre("v3"));
  EXPECT_EQ(view.usage().migrating_to[static_cast<size_t>(view.FindVm("v4"))], view.FindNode("n3"));
  EXPECT_THAT(
      view.Problems(),
      ElementsAre(
          "in-flight migration m1 of unknown vm ghost-vm ignored",
          "in-flight migration m2 of vm v3 to unknown node nowhere ignored",
          "in-flight migration m3 of vm v3 targets its current node n1; ignored",
          "server group g lists member ghost, which is not a VM in the view; ignored",
          "server group g lists member v2, whose serverGroup is \"nosuch\"; membership follows "
          "the VM",
          "vm v1 is on node gone-node, which the view does not know; its usage is not counted",
          "vm v2 names server group nosuch, which does not exist; it cannot be placed until it "
          "does",
          "vm v4 has more than one in-flight migration; only m4 (to n3) is counted, not m5"));
}

TEST(ClusterViewTest, UsageCountsVmsAndInFlightReservations) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("n1"), MakeNode("n2")};
  s.nodes[1].dedicated_cpus = 8;
  s.nodes[1].hugepages = {{kGi, 16 * kGi}};
  s.vms = {MakeVm("a", 2, 4, "n1"), MakeVm("b", 4, 8, "n1")};
  s.vms[1].dedicated_cpus = true;
  s.vms[1].hugepage_size_bytes = kGi;
  s.migrations = {{"b", "n1", "n2", ""}};
  ClusterView view = MustBuild(s);
  const UsageTable& u = view.usage();
  const auto n1 = static_cast<size_t>(view.FindNode("n1"));
  const auto n2 = static_cast<size_t>(view.FindNode("n2"));
  EXPECT_EQ(u.nodes[n1].cpu_millis, 6000);
  EXPECT_EQ(u.nodes[n1].memory_bytes,
            4 * kGi + 8 * kGi);             // n1 has no 1Gi pool: b counted as memory
  EXPECT_EQ(u.nodes[n2].cpu_millis, 4000);  // reservation on the target
  EXPECT_EQ(u.nodes[n2].memory_bytes, 0);
  EXPECT_EQ(u.hugepage_bytes[n2][static_cast<size_t>(view.PoolIndex(view.FindNode("n2"), kGi))],
            8 * kGi);
  EXPECT_EQ(u.nodes[n2].dedicated_cpus, 4);
  EXPECT_EQ(u.nodes[n1].inflight, 1);
  EXPECT_EQ(u.nodes[n2].inflight, 1);
  EXPECT_EQ(u.migrating_to[static_cast<size_t>(view.FindVm("b"))], view.FindNode("n2"));
  EXPECT_EQ(u.migrating_to[static_cast<size_t>(view.FindVm("a"))], kNoId);
}

TEST(ClusterViewTest, NumaCellsArePackedLargestFirstEachIntoTheCellsWithMostFreeMemory) {
  const std::vector<NumaCell> cells = {{8000, 32 * kGi}, {8000, 32 * kGi}};
  // 16Gi over two cells (8Gi each), then 8Gi and 4Gi whole: 8Gi goes to cell 0 (tie), 4Gi to
  // cell 1 (more free).
  const NumaEntry entries[] = {{1, 2000, 4 * kGi}, {2, 2000, 8 * kGi}, {1, 2000, 8 * kGi}};
  int64_t cpu[2];
  int64_t mem[2];
  EXPECT_EQ(PackNuma(cells, entries, cpu, mem), 0);
  EXPECT_EQ(mem[0], 16 * kGi);
  EXPECT_EQ(mem[1], 12 * kGi);
  EXPECT_EQ(cpu[0], 4000);
  EXPECT_EQ(cpu[1], 4000);
  const NumaEntry too_big[] = {{1, 1000, 40 * kGi}};
  EXPECT_EQ(PackNuma(cells, too_big, cpu, mem), 1);
  EXPECT_EQ(mem[0], 40 * kGi);  // charged anyway, so the overuse shows
}

// Review defect: NUMA cells were handed out greedily in list order, so the same in-flight
// migrations listed in another order changed the next decision. Cells 10Gi + 10Gi; inbound
// 5Gi, 5Gi and 10Gi (one cell each) fill both cells exactly when the 10Gi goes first, and
// leave room in list order 5, 5, 10. Every order must now give the same answer.
TEST(ClusterViewTest, SameMigrationsInAnyOrderGiveTheSameDecision) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("src", 64, 256), MakeNode("t", 64, 64)};
  s.nodes[1].numa_cells = {{32000, 10 * kGi}, {32000, 10 * kGi}};
  for (auto [name, gi] : {std::pair{"a", 5}, std::pair{"b", 5}, std::pair{"c", 10}}) {
    Vm v = MakeVm(name, 1, gi, "src");
    v.numa_nodes = 1;
    s.vms.push_back(v);
  }
  Vm probe = MakeVm("probe", 1, 1, "src");
  probe.numa_nodes = 1;
  s.vms.push_back(probe);
  std::vector<InFlightMigration> migrations = {
      {"a", "src", "t", "ma"}, {"b", "src", "t", "mb"}, {"c", "src", "t", "mc"}};
  std::sort(migrations.begin(), migrations.end(),
            [](const auto& x, const auto& y) { return x.name < y.name; });
  std::string first;
  int orders = 0;
  do {
    ClusterSnapshot ordered = s;
    ordered.migrations = migrations;
    ClusterView built = MustBuild(ordered);
    const TargetDecision d = ChooseTarget(built, {"probe", "t"});
    // And fed one event at a time in this order.
    ClusterView fed = MustBuild(s);
    for (const InFlightMigration& m : migrations) ASSERT_TRUE(fed.UpsertMigration(m).ok());
    const TargetDecision e = ChooseTarget(fed, {"probe", "t"});
    EXPECT_FALSE(d.scheduled);
    EXPECT_EQ(d.code, Reason::kNuma);
    EXPECT_EQ(e.reason, d.reason);
    if (orders++ == 0) first = d.reason;
    EXPECT_EQ(d.reason, first);
  } while (std::next_permutation(migrations.begin(), migrations.end(),
                                 [](const auto& x, const auto& y) { return x.name < y.name; }));
  EXPECT_EQ(orders, 6);
  EXPECT_EQ(first,
            "requested node t: numa: needs 1 cells with 1Gi and 1 cpu free each, 0 of 2 cells "
            "have room");
}

TEST(ClusterViewTest, UpdatesAreIdempotent) {
  ClusterView view;
  const Node n1 = MakeNode("n1");
  ASSERT_TRUE(view.UpsertNode(NodeInfoOf(n1)).ok());
  ASSERT_TRUE(view.UpsertHypervisor(HypervisorInfoOf(n1)).ok());
  ASSERT_TRUE(view.UpsertGroup(MakeGroup("g", GroupPolicy::kAntiAffinity, true)).ok());
  ASSERT_TRUE(view.UpsertVm(MakeVm("v", 2, 4, "n1", "g")).ok());
  ASSERT_TRUE(view.UpsertMigration({"v", "n1", "n2", "m"}).ok());
  const uint64_t generation = view.generation();
  EXPECT_TRUE(view.UpsertNode(NodeInfoOf(n1)).ok());
  EXPECT_TRUE(view.UpsertHypervisor(HypervisorInfoOf(n1)).ok());
  EXPECT_TRUE(view.UpsertGroup(MakeGroup("g", GroupPolicy::kAntiAffinity, true)).ok());
  EXPECT_TRUE(view.UpsertVm(MakeVm("v", 2, 4, "n1", "g")).ok());
  EXPECT_TRUE(view.UpsertMigration({"v", "n1", "n2", "m"}).ok());
  EXPECT_TRUE(view.RemoveVm("nobody").ok());
  EXPECT_TRUE(view.RemoveNode("nowhere").ok());
  EXPECT_TRUE(view.RemoveHypervisor("nowhere").ok());
  EXPECT_TRUE(view.RemoveGroup("none").ok());
  EXPECT_TRUE(view.RemoveMigration("none").ok());
  EXPECT_TRUE(view.FinishMigration("none").ok());
  EXPECT_EQ(view.generation(), generation);
  EXPECT_EQ(Use(view, view.FindNode("n1")).cpu_millis, 2000);
}

TEST(ClusterViewTest, ObjectsMayArriveInAnyOrder) {
  ClusterView view;
  // A migration of a VM not seen yet, to a node not seen yet; the VM on a node not seen yet,
  // in a group not seen yet.
  ASSERT_TRUE(view.UpsertMigration({"v", "n1", "n2", "m"}).ok());
  ASSERT_TRUE(view.UpsertVm(MakeVm("v", 2, 4, "n1", "g")).ok());
  EXPECT_EQ(view.node_count(), 0);
  EXPECT_EQ(view.group_of(view.FindVm("v")), kMissingGroup);
  ASSERT_TRUE(view.UpsertGroup(MakeGroup("g", GroupPolicy::kAffinity, true)).ok());
  EXPECT_EQ(view.group_of(view.FindVm("v")), view.FindGroup("g"));
  ASSERT_TRUE(view.UpsertHypervisor(HypervisorInfoOf(MakeNode("n2"))).ok());
  ASSERT_TRUE(view.UpsertNode(NodeInfoOf(MakeNode("n1"))).ok());
  const NodeId n1 = view.FindNode("n1");
  const NodeId n2 = view.FindNode("n2");
  EXPECT_EQ(view.location(view.FindVm("v")), n1);
  EXPECT_EQ(Use(view, n1).cpu_millis, 2000);
  EXPECT_EQ(Use(view, n2).cpu_millis, 2000);  // the reservation
  EXPECT_EQ(Use(view, n1).inflight, 1);

  ClusterSnapshot same;
  same.nodes = {MakeNode("n1"), MakeNode("n2")};
  same.nodes[0].has_hypervisor = false;
  same.nodes[1].has_node_object = false;
  same.vms = {MakeVm("v", 2, 4, "n1", "g")};
  same.groups = {MakeGroup("g", GroupPolicy::kAffinity, true)};
  same.migrations = {{"v", "n1", "n2", "m"}};
  EXPECT_EQ(view.Snapshot(), MustBuild(same).Snapshot());
}

TEST(ClusterViewTest, FinishMigrationMovesTheVmAndItsOwnUpdateIsThenANoOp) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("n1"), MakeNode("n2")};
  s.vms = {MakeVm("v", 2, 4, "n1")};
  s.migrations = {{"v", "n1", "n2", "m"}};
  ClusterView view = MustBuild(s);
  ASSERT_TRUE(view.FinishMigration("m").ok());
  const NodeId n1 = view.FindNode("n1");
  const NodeId n2 = view.FindNode("n2");
  EXPECT_EQ(view.location(view.FindVm("v")), n2);
  EXPECT_EQ(Use(view, n1).cpu_millis, 0);
  EXPECT_EQ(Use(view, n2).cpu_millis, 2000);
  EXPECT_EQ(Use(view, n2).inflight, 0);
  const uint64_t generation = view.generation();
  EXPECT_TRUE(view.UpsertVm(MakeVm("v", 2, 4, "n2")).ok());
  EXPECT_TRUE(view.FinishMigration("m").ok());
  EXPECT_EQ(view.generation(), generation);

  // The other order: the VM's flip arrives first; the migration then no longer counts.
  ClusterView other = MustBuild(s);
  ASSERT_TRUE(other.UpsertVm(MakeVm("v", 2, 4, "n2")).ok());
  EXPECT_EQ(Use(other, other.FindNode("n2")).cpu_millis, 2000);
  ASSERT_TRUE(other.FinishMigration("m").ok());
  EXPECT_EQ(other.Snapshot(), view.Snapshot());
}

TEST(ClusterViewTest, RemovingAMigrationDropsItsReservation) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("n1"), MakeNode("n2")};
  s.vms = {MakeVm("v", 2, 4, "n1")};
  ClusterView view = MustBuild(s);
  ASSERT_TRUE(view.UpsertMigration({"v", "n1", "n2", "m"}).ok());
  ASSERT_TRUE(view.RemoveMigration("m").ok());
  EXPECT_EQ(Use(view, view.FindNode("n2")).cpu_millis, 0);
  EXPECT_EQ(Use(view, view.FindNode("n1")).inflight, 0);
  EXPECT_EQ(view.location(view.FindVm("v")), view.FindNode("n1"));
}

// Capacity comes from the Hypervisor, schedulability from the Node: a node missing either,
// or with a stale hypervisor, takes no new VMs, and says why.
TEST(ClusterViewTest, NodeHalvesDecideSchedulability) {
  ClusterView view;
  const Node a = MakeNode("a");
  const Node b = MakeNode("b");
  const Node c = MakeNode("c");
  ASSERT_TRUE(view.UpsertNode(NodeInfoOf(a)).ok());              // no Hypervisor
  ASSERT_TRUE(view.UpsertHypervisor(HypervisorInfoOf(b)).ok());  // no Node
  HypervisorInfo stale = HypervisorInfoOf(c);
  stale.ready = false;
  ASSERT_TRUE(view.UpsertNode(NodeInfoOf(c)).ok());
  ASSERT_TRUE(view.UpsertHypervisor(stale).ok());
  ASSERT_TRUE(view.UpsertVm(MakeVm("v", 1, 1)).ok());
  TargetDecision d = ChooseTarget(view, {"v", ""});
  EXPECT_FALSE(d.scheduled);
  EXPECT_EQ(d.code, Reason::kHypervisorNotReady);
  EXPECT_THAT(ExplainNodes(view, d),
              ElementsAre("a: hypervisor not ready: no Hypervisor object reports this node's "
                          "capacity",
                          "b: not ready: there is no Node object",
                          "c: hypervisor not ready: the Hypervisor is not ready or its heartbeat "
                          "is stale"));
  stale.ready = true;
  ASSERT_TRUE(view.UpsertHypervisor(stale).ok());
  d = ChooseTarget(view, {"v", ""});
  EXPECT_TRUE(d.scheduled);
  EXPECT_EQ(d.node, "c");
  ASSERT_TRUE(view.RemoveNode("c").ok());
  EXPECT_FALSE(ChooseTarget(view, {"v", ""}).scheduled);
  ASSERT_TRUE(view.RemoveHypervisor("c").ok());
  EXPECT_EQ(view.FindNode("c"), kNoId);
  EXPECT_THAT(NodeNames(view), ElementsAre("a", "b"));
}

// Informers deliver objects in any order (VMs before their Nodes, say), which scatters node
// ids; the view renumbers them into name order so decisions walk memory in sequence, and
// nothing a caller sees changes.
TEST(ClusterViewTest, NodesArrivingInAnyOrderAreRenumberedIntoNameOrder) {
  ClusterSnapshot s;
  std::mt19937 rng(3);
  for (int i = 0; i < 300; ++i) s.nodes.push_back(MakeNode("n" + std::to_string(1000 + i)));
  s.groups = {MakeGroup("g", GroupPolicy::kAntiAffinity, false)};
  for (int i = 0; i < 120; ++i) {
    s.vms.push_back(MakeVm("v" + std::to_string(i), 1, 1,
                           "n" + std::to_string(1000 + (i * 7) % 300), i % 10 == 0 ? "g" : ""));
  }
  for (int i = 0; i < 20; ++i) {
    s.migrations.push_back({"v" + std::to_string(i * 3), "", "n" + std::to_string(1000 + i * 11),
                            "m" + std::to_string(i)});
  }
  ClusterView view;
  for (const Vm& v : s.vms) ASSERT_TRUE(view.UpsertVm(v).ok());  // nodes unknown yet
  for (const InFlightMigration& m : s.migrations) ASSERT_TRUE(view.UpsertMigration(m).ok());
  std::vector<Node> nodes = s.nodes;
  std::shuffle(nodes.begin(), nodes.end(), rng);
  for (const Node& n : nodes) {
    ASSERT_TRUE(view.UpsertHypervisor(HypervisorInfoOf(n)).ok());
    ASSERT_TRUE(view.UpsertNode(NodeInfoOf(n)).ok());
  }
  ASSERT_TRUE(view.UpsertGroup(s.groups[0]).ok());
  int consecutive = 0;
  for (size_t i = 1; i < view.node_ids().size(); ++i) {
    consecutive += view.node_ids()[i] == view.node_ids()[i - 1] + 1 ? 1 : 0;
  }
  EXPECT_GE(consecutive, 299 - 64);  // at most 64 breaks are left before renumbering
  EXPECT_EQ(::ferry::placement::testing::CompareViews(view, MustBuild(s)).difference, "");
}

TEST(ClusterViewTest, SnapshotRoundTrips) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("n2"), MakeNode("n1")};
  s.nodes[0].labels = {{"zone", "a"}};
  s.vms = {MakeVm("v2", 1, 1, "n2", "g"), MakeVm("v1", 1, 2, "n1", "g")};
  s.groups = {MakeGroup("g", GroupPolicy::kAntiAffinity, false)};
  s.migrations = {{"v1", "n1", "n2", ""}};
  ClusterView view = MustBuild(s);
  const ClusterSnapshot out = view.Snapshot();
  EXPECT_EQ(out.nodes[0].name, "n1");
  EXPECT_EQ(out.migrations[0].name, "v1");  // an unnamed migration takes the VM's name
  EXPECT_EQ(MustBuild(out).Snapshot(), out);
}

}  // namespace
}  // namespace ferry::placement

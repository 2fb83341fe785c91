// API objects → placement structs, as tables: units, missing halves of a node, clamps of
// bad input, and the VM's node whatever its phase (a stopped VM keeps its node and its
// capacity, docs/adr/0004).
#include "cluster/adapter.h"

#include <gtest/gtest.h>

#include "api/group.h"

namespace ferry::op {
namespace {

api::Quantity Q(const char* text) { return *api::Quantity::Parse(text); }

api::Node ReadyNode(const std::string& name) {
  api::Node n;
  n.metadata.name = name;
  api::NodeCondition c;
  c.type = "Ready";
  c.status = api::ConditionStatus::kTrue;
  n.status.conditions.push_back(c);
  return n;
}

api::Hypervisor Hv(const std::string& name) {
  api::Hypervisor h;
  h.metadata.name = name;
  h.status.ready = true;
  h.status.cpu_model = "Skylake-Server";
  h.status.cpu_models = {"Haswell", "Skylake-Server"};
  h.status.libvirt_version = "9.0.0";
  h.status.qemu_version = "7.2.1";
  h.status.allocatable.cpus = 16;
  h.status.allocatable.memory = Q("32Gi");
  h.status.allocatable.dedicated_cpus = 8;
  h.status.allocatable.hugepages = {{"2Mi", Q("4Gi")}, {"1Gi", Q("8Gi")}};
  api::HypervisorNumaCell cell;
  cell.cpus = 8;
  cell.memory = Q("16Gi");
  h.status.numa_cells = {cell, cell};
  return h;
}

TEST(AdapterNode, BothHalves) {
  api::Node node = ReadyNode("n1");
  node.metadata.labels["zone"] = "a";
  node.spec.unschedulable = true;
  api::Taint t;
  t.key = "ferry.dev/drain";
  t.effect = api::TaintEffect::kNoExecute;
  node.spec.taints = {t};
  const api::Hypervisor hv = Hv("n1");
  const placement::Node n = NodeFromApi("n1", &node, &hv, true);
  EXPECT_EQ(n.name, "n1");
  EXPECT_TRUE(n.has_node_object);
  EXPECT_TRUE(n.ready);
  EXPECT_TRUE(n.unschedulable);
  EXPECT_EQ(n.labels.at("zone"), "a");
  ASSERT_EQ(n.taints.size(), 1u);
  EXPECT_EQ(n.taints[0].effect, placement::TaintEffect::kNoExecute);
  EXPECT_TRUE(n.has_hypervisor);
  EXPECT_TRUE(n.hypervisor_ready);
  EXPECT_EQ(n.cpu_millis, 16000);
  EXPECT_EQ(n.memory_bytes, int64_t{32} << 30);
  EXPECT_EQ(n.dedicated_cpus, 8);
  ASSERT_EQ(n.hugepages.size(), 2u);
  // Sorted by the map's key ("1Gi" < "2Mi").
  EXPECT_EQ(n.hugepages[0].page_size_bytes, int64_t{1} << 30);
  EXPECT_EQ(n.hugepages[0].total_bytes, int64_t{8} << 30);
  EXPECT_EQ(n.hugepages[1].page_size_bytes, int64_t{2} << 20);
  ASSERT_EQ(n.numa_cells.size(), 2u);
  EXPECT_EQ(n.numa_cells[0].cpu_millis, 8000);
  EXPECT_EQ(n.numa_cells[0].memory_bytes, int64_t{16} << 30);
  EXPECT_EQ(n.cpu_model, "Skylake-Server");
  EXPECT_EQ(n.cpu_models, (std::vector<std::string>{"Haswell", "Skylake-Server"}));
  EXPECT_EQ(n.version.libvirt, 9000000);
  EXPECT_EQ(n.version.qemu, 7002001);
}

TEST(AdapterNode, MissingHalvesAndStaleHeartbeats) {
  struct Case {
    std::string name;
    bool with_node, with_hv, alive, node_ready;
    bool want_ready, want_has_hv, want_hv_ready;
  };
  const std::vector<Case> cases = {
      {"both, alive", true, true, true, true, true, true, true},
      {"heartbeat stale", true, true, false, true, true, true, false},
      {"no Hypervisor", true, false, true, true, true, false, false},
      {"no Node object: not ready, capacity still known", false, true, true, true, false, true,
       true},
      {"Node NotReady", true, true, true, false, false, true, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    api::Node node = ReadyNode("n1");
    if (!c.node_ready) node.status.conditions[0].status = api::ConditionStatus::kFalse;
    const api::Hypervisor hv = Hv("n1");
    const placement::Node n =
        NodeFromApi("n1", c.with_node ? &node : nullptr, c.with_hv ? &hv : nullptr, c.alive);
    EXPECT_EQ(n.has_node_object, c.with_node);
    EXPECT_EQ(n.ready, c.want_ready);
    EXPECT_EQ(n.has_hypervisor, c.want_has_hv);
    EXPECT_EQ(n.hypervisor_ready, c.want_hv_ready);
    EXPECT_EQ(n.cpu_millis, c.with_hv ? 16000 : 0);
  }
}

TEST(AdapterNode, BadNumbersOfferNothing) {
  api::Hypervisor hv = Hv("n1");
  hv.status.allocatable.cpus = -4;
  hv.status.allocatable.memory = Q("-1Gi");
  hv.status.allocatable.dedicated_cpus = -1;
  hv.status.allocatable.hugepages = {{"banana", Q("1Gi")}, {"0", Q("1Gi")}, {"2Mi", Q("-2Mi")}};
  hv.status.libvirt_version = "nine";
  const placement::Node n = NodeFromApi("n1", nullptr, &hv, true);
  EXPECT_EQ(n.cpu_millis, 0);
  EXPECT_EQ(n.memory_bytes, 0);
  EXPECT_EQ(n.dedicated_cpus, 0);
  ASSERT_EQ(n.hugepages.size(), 1u) << "malformed and zero page sizes are skipped";
  EXPECT_EQ(n.hugepages[0].total_bytes, 0);
  EXPECT_EQ(n.version.libvirt, 0) << "an unreadable version is unknown (0)";
}

api::VirtualMachine Vm(api::VmPhase phase, const std::string& node) {
  api::VirtualMachine vm;
  vm.metadata.name = "web";
  vm.metadata.namespace_ = "ns";
  vm.spec.running = phase != api::VmPhase::kStopped;
  vm.spec.cpus = 2;
  vm.spec.memory = Q("3Gi");
  vm.status.phase = phase;
  vm.status.node_name = node;
  return vm;
}

TEST(AdapterVm, NodeWhateverThePhase) {
  // ADR 4: a stopped (or failed) VM keeps its node and counts against its capacity, as a
  // stopped instance does in Nova; only a VM without status.nodeName has no node.
  using P = api::VmPhase;
  const std::vector<std::pair<P, std::string>> cases = {
      {P::kUnset, ""},     {P::kPending, ""},     {P::kScheduled, "n1"}, {P::kStarting, "n1"},
      {P::kRunning, "n1"}, {P::kMigrating, "n1"}, {P::kStopped, "n1"},   {P::kFailed, "n1"},
  };
  for (const auto& [phase, node] : cases) {
    SCOPED_TRACE(std::string(api::ToString(phase)));
    const placement::Vm v = VmFromApi(Vm(phase, node));
    EXPECT_EQ(v.node, node);
    EXPECT_EQ(v.cpu_millis, 2000) << "a stopped VM's demand still counts on its node";
    EXPECT_EQ(v.memory_bytes, int64_t{3} << 30);
  }
}

TEST(AdapterVm, SpecFields) {
  api::VirtualMachine vm = Vm(api::VmPhase::kRunning, "n1");
  vm.spec.dedicated_cpus = true;
  vm.spec.numa_nodes = 2;
  vm.spec.hugepages = api::Hugepages{Q("1Gi"), {}};
  vm.spec.cpu_model = "host-passthrough";
  vm.spec.node_selector = {{"zone", "a"}};
  vm.spec.server_group = "db";
  vm.spec.eviction_strategy = api::EvictionStrategy::kShutdown;
  api::Toleration exists;
  exists.key = "ferry.dev/drain";
  exists.op = api::TolerationOperator::kExists;
  api::Toleration equal;
  equal.key = "dedicated";
  equal.value = "db";
  equal.effect = api::TaintEffect::kNoSchedule;
  vm.spec.tolerations = {exists, equal};
  vm.status.first_boot = api::BootRecord{"n0", "8.0.0", "7.0.0", {}};
  const placement::Vm v = VmFromApi(vm);
  EXPECT_EQ(v.name, "ns/web");
  EXPECT_TRUE(v.dedicated_cpus);
  EXPECT_EQ(v.numa_nodes, 2);
  EXPECT_EQ(v.hugepage_size_bytes, int64_t{1} << 30);
  EXPECT_EQ(v.cpu_model, "host-passthrough");
  EXPECT_EQ(v.node_selector.at("zone"), "a");
  EXPECT_EQ(v.server_group, "ns/db") << "groups are namespaced like VMs";
  EXPECT_EQ(v.eviction_strategy, placement::EvictionStrategy::kShutdown);
  ASSERT_EQ(v.tolerations.size(), 2u);
  EXPECT_TRUE(v.tolerations[0].exists);
  EXPECT_FALSE(v.tolerations[0].effect.has_value()) << "no effect named: every effect";
  EXPECT_FALSE(v.tolerations[1].exists);
  EXPECT_EQ(v.tolerations[1].value, "db");
  EXPECT_EQ(v.tolerations[1].effect, placement::TaintEffect::kNoSchedule);
  EXPECT_EQ(v.boot_version.libvirt, 8000000);
  EXPECT_EQ(v.boot_version.qemu, 7000000);
}

TEST(AdapterVm, EvictionStrategies) {
  using A = api::EvictionStrategy;
  using E = placement::EvictionStrategy;
  const std::vector<std::pair<A, E>> cases = {
      {A::kLiveMigrate, E::kLiveMigrate},
      {A::kLiveMigrateIfPossible, E::kLiveMigrateIfPossible},
      {A::kShutdown, E::kShutdown},
      {A::kNone, E::kNone}};
  for (const auto& [in, want] : cases) {
    api::VirtualMachine vm = Vm(api::VmPhase::kRunning, "n1");
    vm.spec.eviction_strategy = in;
    EXPECT_EQ(VmFromApi(vm).eviction_strategy, want);
  }
}

TEST(AdapterVm, BadNumbersAreClamped) {
  api::VirtualMachine vm = Vm(api::VmPhase::kRunning, "n1");
  vm.spec.cpus = -3;
  vm.spec.memory = Q("-1Gi");
  vm.spec.numa_nodes = 1000;
  const placement::Vm v = VmFromApi(vm);
  EXPECT_EQ(v.cpu_millis, 0);
  EXPECT_EQ(v.memory_bytes, 0);
  EXPECT_EQ(v.numa_nodes, 64);
  vm.spec.numa_nodes = -2;
  EXPECT_EQ(VmFromApi(vm).numa_nodes, 0);
}

TEST(AdapterGroup, Fields) {
  api::ServerGroup g;
  g.metadata.name = "db";
  g.metadata.namespace_ = "ns";
  g.spec.policy = api::ServerGroupPolicy::kAffinity;
  g.spec.best_effort = true;
  g.spec.max_per_node = 0;
  placement::ServerGroup pg = GroupFromApi(g);
  EXPECT_EQ(pg.name, "ns/db");
  EXPECT_EQ(pg.policy, placement::GroupPolicy::kAffinity);
  EXPECT_TRUE(pg.best_effort);
  EXPECT_EQ(pg.max_per_node, 1) << "at least one per node";
  g.spec.policy = api::ServerGroupPolicy::kAntiAffinity;
  g.spec.max_per_node = 3;
  pg = GroupFromApi(g);
  EXPECT_EQ(pg.policy, placement::GroupPolicy::kAntiAffinity);
  EXPECT_EQ(pg.max_per_node, 3);
}

TEST(AdapterMigration, ReservationByPhase) {
  using P = api::MigrationPhase;
  struct Case {
    P phase;
    bool finalizer;
    bool holds;
  };
  const std::vector<Case> cases = {
      {P::kUnset, true, false},    {P::kPending, true, false},        {P::kScheduling, true, false},
      {P::kScheduled, true, true}, {P::kPreparingTarget, true, true}, {P::kTargetReady, true, true},
      {P::kRunning, true, true},   {P::kSucceeded, true, true},       {P::kSucceeded, false, false},
      {P::kFailed, true, false},   {P::kCancelled, true, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(api::ToString(c.phase)) + (c.finalizer ? " +finalizer" : ""));
    api::VirtualMachineMigration m;
    m.metadata.name = "mig";
    m.metadata.namespace_ = "ns";
    m.spec.vm_name = "web";
    if (c.finalizer) m.metadata.finalizers = {api::kMigrationFinalizer};
    m.status.source_node = "n1";
    m.status.target_node = "n2";
    const auto r = MigrationFromApi(m, c.phase);
    ASSERT_EQ(r.has_value(), c.holds);
    if (r) {
      EXPECT_EQ(r->vm, "ns/web");
      EXPECT_EQ(r->name, "ns/mig");
      EXPECT_EQ(r->source_node, "n1");
      EXPECT_EQ(r->target_node, "n2");
    }
    EXPECT_EQ(IsActivePhase(c.phase), c.holds && c.phase != P::kSucceeded);
  }
}

TEST(AdapterMigration, NoTargetNoReservationAndTheAdmittedVmWins) {
  api::VirtualMachineMigration m;
  m.metadata.name = "mig";
  m.metadata.namespace_ = "ns";
  m.spec.vm_name = "edited-later";
  m.metadata.labels[api::kLabelVm] = "web";
  EXPECT_FALSE(MigrationFromApi(m, api::MigrationPhase::kScheduled).has_value())
      << "no target: nothing reserved";
  m.status.target_node = "n2";
  EXPECT_EQ(MigrationFromApi(m, api::MigrationPhase::kScheduled)->vm, "ns/web")
      << "the VM admitted (label) counts, not a later edit of spec.vmName";
}

}  // namespace
}  // namespace ferry::op

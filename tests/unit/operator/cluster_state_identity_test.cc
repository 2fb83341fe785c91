// The migration ledger's "is another migration of this VM in the way?" (admission waits until
// the last outcome is recorded on the VM; docs/adr/0006 §1) and the rule that a migration never
// targets the node it leaves.
#include <gtest/gtest.h>

#include "api/group.h"
#include "cluster/cluster_state.h"
#include "core/clock.h"

namespace ferry::op {
namespace {

using api::MigrationPhase;
using Kind = migration::SchedulingOutcome::Kind;

class ClusterStateIdentityTest : public ::testing::Test {
 protected:
  ClusterStateIdentityTest() : state_(clock_, std::chrono::seconds(40), MigrationLimits{}) {
    AddNode("n0");
    AddNode("n1");
    state_.UpsertVm(Vm("vm-1", "n0"));
  }

  static api::VirtualMachine Vm(const std::string& uid, const std::string& node) {
    api::VirtualMachine v;
    v.metadata.name = "a";
    v.metadata.namespace_ = "ns";
    v.metadata.uid = uid;
    v.spec.running = true;
    v.spec.cpus = 1;
    v.spec.memory = *api::Quantity::Parse("1Gi");
    v.status.phase = api::VmPhase::kRunning;
    v.status.node_name = node;
    return v;
  }

  void AddNode(const std::string& name) {
    api::Node n;
    n.metadata.name = name;
    api::NodeCondition c;
    c.type = "Ready";
    c.status = api::ConditionStatus::kTrue;
    n.status.conditions.push_back(c);
    state_.UpsertNode(n);
    api::Hypervisor h;
    h.metadata.name = name;
    h.status.ready = true;
    h.status.last_heartbeat_time = clock_.WallNow();
    h.status.allocatable.cpus = 16;
    h.status.allocatable.memory = *api::Quantity::Parse("32Gi");
    state_.UpsertHypervisor(h);
  }

  // VMM `name` of VM a, admitted for VM uid `vm_uid` from n0, in `phase`.
  static api::VirtualMachineMigration Vmm(const std::string& name, MigrationPhase phase,
                                          bool finalizer = true,
                                          const std::string& vm_uid = "vm-1") {
    api::VirtualMachineMigration m;
    m.metadata.name = name;
    m.metadata.namespace_ = "ns";
    m.metadata.uid = name + "-uid";
    if (finalizer) m.metadata.finalizers = {api::kMigrationFinalizer};
    m.metadata.labels[api::kLabelVm] = "a";
    m.spec.vm_name = "a";
    m.status.phase = phase;
    m.status.vm_uid = vm_uid;
    m.status.source_node = "n0";
    m.status.effective_options = api::EffectiveMigrationOptions{};
    if (phase >= MigrationPhase::kScheduled) m.status.target_node = "n1";
    return m;
  }

  FakeClock clock_;
  ClusterState state_;
};

TEST_F(ClusterStateIdentityTest, AFinishedMigrationIsInTheWayUntilItsOutcomeIsRecorded) {
  state_.UpsertMigration(Vmm("first", MigrationPhase::kRunning));
  EXPECT_EQ(state_.ActiveMigrationOf("ns/a", "ns/second"), "ns/first");
  // Succeeded, not yet recorded on the VM (finalizer held): the VM still names the old node.
  state_.UpsertMigration(Vmm("first", MigrationPhase::kSucceeded));
  EXPECT_EQ(state_.ActiveMigrationOf("ns/a", "ns/second"), "ns/first");
  // Recorded (the finalizer goes only after the record with its node flip): free.
  state_.UpsertMigration(Vmm("first", MigrationPhase::kSucceeded, /*finalizer=*/false));
  EXPECT_EQ(state_.ActiveMigrationOf("ns/a", "ns/second"), "");
  EXPECT_EQ(state_.ActiveMigrationOf("ns/a", "ns/first"), "") << "never itself";
}

TEST_F(ClusterStateIdentityTest, MigrationsOfAnEarlierVmOfTheNameAreNotInTheWay) {
  state_.UpsertVm(Vm("vm-2", "n0"));  // deleted and created again
  state_.UpsertMigration(Vmm("evac", MigrationPhase::kSucceeded, true, "vm-1"));
  state_.UpsertMigration(Vmm("stuck", MigrationPhase::kRunning, true, "vm-1"));
  EXPECT_EQ(state_.ActiveMigrationOf("ns/a", "ns/new"), "");
  state_.UpsertMigration(Vmm("mine", MigrationPhase::kRunning, true, "vm-2"));
  EXPECT_EQ(state_.ActiveMigrationOf("ns/a", "ns/new"), "ns/mine");
}

// The VM was deleted while a migration of it ran, and created again: the old migration's
// reservation is not the new VM's (it was "already migrating" and never placed).
TEST_F(ClusterStateIdentityTest, ARecreatedVmIsPlacedWhileTheOldOnesMigrationRuns) {
  state_.UpsertMigration(Vmm("old", MigrationPhase::kRunning));
  state_.RemoveVm("ns/a");
  api::VirtualMachine again = Vm("vm-2", "");
  again.status.phase = api::VmPhase::kPending;
  state_.UpsertVm(again);
  const VmPlacement p = state_.PlaceVm("ns/a");
  EXPECT_TRUE(p.scheduled) << p.summary;
}

// The view already counts the VM on n1 (its last migration's flip, assumed), while the queued
// VMM was admitted from n0 on an older copy: placement must not send it to n0, the node it
// leaves (that ran node-a -> node-a and failed "Domain not found").
TEST_F(ClusterStateIdentityTest, NeverTheSourceAsTarget) {
  state_.AssumeVmNode("ns/a", "n1");
  const api::VirtualMachineMigration m = Vmm("second", MigrationPhase::kScheduling);
  state_.UpsertMigration(m);
  const migration::SchedulingOutcome out = state_.ScheduleMigration(m);
  EXPECT_NE(out.kind, Kind::kScheduled) << "scheduled to " << out.target;
  EXPECT_NE(out.target, "n0");
}

TEST_F(ClusterStateIdentityTest, AskingForTheSourceIsRefused) {
  api::VirtualMachineMigration m = Vmm("m", MigrationPhase::kScheduling);
  m.status.effective_options->target_node = "n0";
  state_.UpsertMigration(m);
  EXPECT_EQ(state_.ScheduleMigration(m).kind, Kind::kTargetRejected);
  m.status.effective_options->target_node = "n1";
  state_.UpsertMigration(m);
  EXPECT_EQ(state_.ScheduleMigration(m).kind, Kind::kScheduled);
}

}  // namespace
}  // namespace ferry::op

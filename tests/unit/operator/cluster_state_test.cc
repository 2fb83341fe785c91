// The migration ledger's slot accounting under assumed decisions: a decision counts at once,
// a decision whose write failed is forgotten, and forgetting it never frees the slot of an
// earlier decision of the same VMM whose write succeeded but whose echo the informer has not
// delivered yet (the operator would then schedule past the limits).
#include "cluster/cluster_state.h"

#include <gtest/gtest.h>

#include "api/group.h"
#include "core/clock.h"

namespace ferry::op {
namespace {

using api::MigrationPhase;
using Kind = migration::SchedulingOutcome::Kind;

api::Quantity Q(const char* text) { return *api::Quantity::Parse(text); }

class ClusterStateTest : public ::testing::Test {
 protected:
  ClusterStateTest() : state_(clock_, std::chrono::seconds(40), Limits()) {
    for (int i = 0; i < 4; ++i) AddNode("n" + std::to_string(i));
    for (const char* vm : {"a", "b", "c"}) {
      state_.UpsertVm(Vm(vm, 1, "n0"));
      state_.UpsertMigration(Created(vm));
    }
  }

  static api::VirtualMachine Vm(const std::string& name, int cpus, const std::string& node) {
    api::VirtualMachine v;
    v.metadata.name = name;
    v.metadata.namespace_ = "ns";
    v.spec.running = true;
    v.spec.cpus = cpus;
    v.spec.memory = Q("1Gi");
    v.status.phase = node.empty() ? api::VmPhase::kPending : api::VmPhase::kRunning;
    v.status.node_name = node;
    return v;
  }

  static MigrationLimits Limits() {
    MigrationLimits l;
    l.per_cluster = 5;
    l.outbound_per_node = 2;
    l.inbound_per_node = 2;
    return l;
  }

  void AddNode(const std::string& name, int cpus = 16) {
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
    h.status.allocatable.cpus = cpus;
    h.status.allocatable.memory = Q("32Gi");
    state_.UpsertHypervisor(h);
  }

  // VMM `vm`-mig of VM `vm` as created (no status, no finalizer): what the informer shows
  // until the operator's first writes come back.
  static api::VirtualMachineMigration Created(const std::string& vm) {
    api::VirtualMachineMigration m;
    m.metadata.name = vm + "-mig";
    m.metadata.namespace_ = "ns";
    m.metadata.generation = 1;
    m.spec.vm_name = vm;
    return m;
  }
  // The same VMM as admission leaves it: finalizer, Scheduling, source n0.
  static api::VirtualMachineMigration Admitted(const std::string& vm) {
    api::VirtualMachineMigration m = Created(vm);
    m.metadata.finalizers = {api::kMigrationFinalizer};
    m.metadata.labels[api::kLabelVm] = vm;
    m.status.phase = MigrationPhase::kScheduling;
    m.status.source_node = "n0";
    m.status.effective_options = api::EffectiveMigrationOptions{};
    m.status.observed_generation = 1;
    return m;
  }

  // What the migration controller does with a decision to schedule: ask, then assume.
  migration::SchedulingOutcome Schedule(const std::string& vm) {
    api::VirtualMachineMigration m = Admitted(vm);
    migration::SchedulingOutcome out = state_.ScheduleMigration(m);
    if (out.kind == Kind::kScheduled) {
      m.status.phase = MigrationPhase::kScheduled;
      m.status.target_node = out.target;
      state_.AssumeScheduled(m);
    }
    return out;
  }

  int Scheduled() { return state_.PhaseCounts()[MigrationPhase::kScheduled]; }

  FakeClock clock_;
  ClusterState state_;
};

TEST_F(ClusterStateTest, TwoOutboundSlotsThenWait) {
  ASSERT_EQ(Schedule("a").kind, Kind::kScheduled);
  ASSERT_EQ(Schedule("b").kind, Kind::kScheduled);
  const migration::SchedulingOutcome c = Schedule("c");
  EXPECT_EQ(c.kind, Kind::kWait);
  EXPECT_NE(c.message.find("outbound limit of n0"), std::string::npos) << c.message;
  EXPECT_EQ(Scheduled(), 2);
}

TEST_F(ClusterStateTest, AFailedWriteFreesTheSlotItTook) {
  ASSERT_EQ(Schedule("a").kind, Kind::kScheduled);
  ASSERT_EQ(Schedule("b").kind, Kind::kScheduled);
  state_.ForgetMigrationAssumption("ns/b-mig");  // b's status write failed
  EXPECT_EQ(Scheduled(), 1);
  EXPECT_EQ(Schedule("c").kind, Kind::kScheduled);
}

// The defect OperatorKilledMidDrainRestartsWithoutDuplicateMigrations found: a's first
// reconcile admitted and scheduled it and both writes succeeded; the informer then delivered
// only the metadata write (finalizer, no status yet), so the next reconcile of a admitted it
// again from that stale copy and its status write got 409. Forgetting that second decision
// cleared a's assumed Scheduled too: a's slot looked free and c was scheduled as a third
// migration off n0 (outbound limit 2).
TEST_F(ClusterStateTest, ForgettingAStaleRedecisionKeepsTheSlotOfTheWrittenOne) {
  ASSERT_EQ(Schedule("a").kind, Kind::kScheduled);  // written: metadata and status
  ASSERT_EQ(Schedule("b").kind, Kind::kScheduled);
  api::VirtualMachineMigration echo = Created("a");  // the metadata write's echo
  echo.metadata.finalizers = {api::kMigrationFinalizer};
  state_.UpsertMigration(echo);
  EXPECT_EQ(Scheduled(), 2) << "an echo older than the decision never undoes it";

  state_.AssumeAdmitted(Admitted("a"));  // the stale re-decision (waits for a slot)...
  EXPECT_EQ(state_.ScheduleMigration(Admitted("a")).kind, Kind::kWait);
  state_.ForgetMigrationAssumption("ns/a-mig");  // ...and its write's 409

  EXPECT_EQ(Scheduled(), 2);
  const migration::SchedulingOutcome c = Schedule("c");
  EXPECT_EQ(c.kind, Kind::kWait) << "a third migration off n0: " << c.target;
  EXPECT_EQ(Scheduled(), 2);

  // The informer catches up: a is Scheduled for real, still two.
  api::VirtualMachineMigration a = Admitted("a");
  a.status.phase = MigrationPhase::kScheduled;
  a.status.target_node = "n1";
  state_.UpsertMigration(a);
  EXPECT_EQ(Schedule("c").kind, Kind::kWait);
  EXPECT_EQ(Scheduled(), 2);
}

// The same with a stale re-decision that schedules again (to another node) and fails: the
// written target keeps its reservation.
TEST_F(ClusterStateTest, ForgettingAFailedRescheduleRestoresTheWrittenTarget) {
  const migration::SchedulingOutcome first = Schedule("a");
  ASSERT_EQ(first.kind, Kind::kScheduled);
  const std::string other = first.target == "n3" ? "n2" : "n3";
  api::VirtualMachineMigration again = Admitted("a");
  again.status.phase = MigrationPhase::kScheduled;
  again.status.target_node = other;
  state_.AssumeScheduled(again);
  state_.ForgetMigrationAssumption("ns/a-mig");
  EXPECT_EQ(Scheduled(), 1);
  EXPECT_EQ(state_.MigrationsTouching(first.target), std::vector<std::string>{"ns/a-mig"});
  EXPECT_EQ(state_.MigrationsTouching(other), std::vector<std::string>{})
      << "the failed decision's target is not kept";
  ASSERT_EQ(Schedule("b").kind, Kind::kScheduled);
  EXPECT_EQ(Schedule("c").kind, Kind::kWait);
}

// The same for a VM's initial placement: its node was written (label, then status), the
// label's echo came back without status.nodeName, a stale re-placement picked another node
// and failed; forgetting that must leave the VM counted on the node it was written to.
TEST_F(ClusterStateTest, ForgettingAStaleReplacementKeepsTheWrittenNode) {
  for (int i = 4; i < 6; ++i) AddNode("small" + std::to_string(i), 2);
  for (int i = 0; i < 4; ++i) {  // the large nodes leave: two nodes of 2 CPUs remain
    state_.RemoveHypervisor("n" + std::to_string(i));
    state_.RemoveNode("n" + std::to_string(i));
  }
  state_.UpsertVm(Vm("x", 2, ""));
  const VmPlacement x = state_.PlaceVm("ns/x");
  ASSERT_TRUE(x.scheduled) << x.summary;
  state_.AssumeVmNode("ns/x", x.node);  // written: label and status
  state_.UpsertVm(Vm("x", 2, ""));      // the label's echo, no nodeName yet
  const std::string other = x.node == "small4" ? "small5" : "small4";
  state_.AssumeVmNode("ns/x", other);  // the stale re-placement...
  state_.ForgetVmAssumption("ns/x");   // ...and its 409

  state_.UpsertVm(Vm("y", 2, ""));
  const VmPlacement y = state_.PlaceVm("ns/y");
  ASSERT_TRUE(y.scheduled) << y.summary;
  EXPECT_EQ(y.node, other) << x.node << " holds x";
  state_.AssumeVmNode("ns/y", y.node);
  state_.UpsertVm(Vm("z", 2, ""));
  EXPECT_FALSE(state_.PlaceVm("ns/z").scheduled) << "two nodes of 2 CPUs hold x and y";
}

}  // namespace
}  // namespace ferry::op

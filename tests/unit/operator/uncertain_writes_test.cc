// ADR 6 §5: a write whose answer was lost (timeout, 5xx, reset) may have landed, so what its
// decision assumed — a migration slot, a node for a VM — stays until the informer shows the
// object newer than the version written against (showing the decision or not) or until
// kUncertainWriteTtl passes. Forgetting it at once (as every failed write did) let a sixth
// migration past a limit of five and a strict anti-affinity sibling onto the same node.
#include <gtest/gtest.h>

#include "api/group.h"
#include "cluster/cluster_state.h"
#include "core/clock.h"
#include "kube/fenced_client.h"

namespace ferry::op {
namespace {

using api::MigrationPhase;
using Kind = migration::SchedulingOutcome::Kind;

api::Quantity Q(const char* text) { return *api::Quantity::Parse(text); }

class UncertainWritesTest : public ::testing::Test {
 protected:
  UncertainWritesTest() : state_(clock_, std::chrono::seconds(40), Limits()) {
    for (int i = 0; i < 4; ++i) AddNode("n" + std::to_string(i));
    for (const char* vm : {"a", "b", "c"}) {
      state_.UpsertVm(Vm(vm, 1, "n0"));
      state_.UpsertMigration(Created(vm, "5"));
    }
  }

  static MigrationLimits Limits() {
    MigrationLimits l;
    l.per_cluster = 2;  // two migrations in the whole cluster
    l.outbound_per_node = 5;
    l.inbound_per_node = 5;
    return l;
  }

  static api::VirtualMachine Vm(const std::string& name, int cpus, const std::string& node,
                                const std::string& group = "", const std::string& rv = "1") {
    api::VirtualMachine v;
    v.metadata.name = name;
    v.metadata.namespace_ = "ns";
    v.metadata.resource_version = rv;
    v.spec.running = true;
    v.spec.cpus = cpus;
    v.spec.memory = Q("1Gi");
    v.spec.server_group = group;
    v.status.phase = node.empty() ? api::VmPhase::kPending : api::VmPhase::kRunning;
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
    h.status.allocatable.memory = Q("32Gi");
    state_.UpsertHypervisor(h);
  }

  // As created (what the informer shows until the operator's writes come back).
  static api::VirtualMachineMigration Created(const std::string& vm, const std::string& rv) {
    api::VirtualMachineMigration m;
    m.metadata.name = vm + "-mig";
    m.metadata.namespace_ = "ns";
    m.metadata.generation = 1;
    m.metadata.resource_version = rv;
    m.spec.vm_name = vm;
    return m;
  }
  // As admission leaves it: finalizer, Scheduling, source n0.
  static api::VirtualMachineMigration Admitted(const std::string& vm, const std::string& rv) {
    api::VirtualMachineMigration m = Created(vm, rv);
    m.metadata.finalizers = {api::kMigrationFinalizer};
    m.metadata.labels[api::kLabelVm] = vm;
    m.status.phase = MigrationPhase::kScheduling;
    m.status.source_node = "n0";
    m.status.effective_options = api::EffectiveMigrationOptions{};
    m.status.observed_generation = 1;
    return m;
  }

  // The migration controller's path: decide, assume, write; the write's answer is `answer`.
  Kind Schedule(const std::string& vm, const Status& answer, std::string* target = nullptr) {
    api::VirtualMachineMigration m = Admitted(vm, "5");
    migration::SchedulingOutcome out = state_.ScheduleMigration(m);
    if (out.kind != Kind::kScheduled) return out.kind;
    m.status.phase = MigrationPhase::kScheduled;
    m.status.target_node = out.target;
    if (target) *target = out.target;
    state_.AssumeScheduled(m);
    if (!answer.ok()) {
      if (kube::WriteMayHaveLanded(answer)) {
        state_.KeepUncertainMigrationAssumption(m.metadata.Key(), "5");
      } else {
        state_.ForgetMigrationAssumption(m.metadata.Key());
      }
    }
    return out.kind;
  }

  int Scheduled() { return state_.PhaseCounts()[MigrationPhase::kScheduled]; }

  FakeClock clock_;
  ClusterState state_;
};

const Status kTimeout = DeadlineExceededError("the response was lost");
const Status k503 = UnavailableError("HTTP 503");
const Status kConflict409 = Status(StatusCode::kConflict, "409");

TEST_F(UncertainWritesTest, ATimedOutWriteKeepsItsSlot) {
  ASSERT_EQ(Schedule("a", OkStatus()), Kind::kScheduled);
  ASSERT_EQ(Schedule("b", kTimeout), Kind::kScheduled);
  EXPECT_EQ(Schedule("c", OkStatus()), Kind::kWait)
      << "b's write may have landed: a third migration would pass the cluster limit of 2";
  EXPECT_EQ(Scheduled(), 2);
}

TEST_F(UncertainWritesTest, A503KeepsItsSlot) {
  ASSERT_EQ(Schedule("a", OkStatus()), Kind::kScheduled);
  ASSERT_EQ(Schedule("b", k503), Kind::kScheduled);
  EXPECT_EQ(Schedule("c", OkStatus()), Kind::kWait);
  EXPECT_EQ(Scheduled(), 2);
}

TEST_F(UncertainWritesTest, ADefiniteRefusalFreesTheSlotAtOnce) {
  ASSERT_EQ(Schedule("a", OkStatus()), Kind::kScheduled);
  ASSERT_EQ(Schedule("b", kConflict409), Kind::kScheduled);
  EXPECT_EQ(Scheduled(), 1);
  EXPECT_EQ(Schedule("c", OkStatus()), Kind::kScheduled);
}

TEST_F(UncertainWritesTest, TheInformerConfirmsIt) {
  std::string target;
  ASSERT_EQ(Schedule("a", OkStatus()), Kind::kScheduled);
  ASSERT_EQ(Schedule("b", kTimeout, &target), Kind::kScheduled);
  api::VirtualMachineMigration echo = Created("b", "5");  // the version written against
  state_.UpsertMigration(echo);
  EXPECT_EQ(Schedule("c", OkStatus()), Kind::kWait) << "the same version decides nothing";
  echo = Admitted("b", "6");
  echo.status.phase = MigrationPhase::kScheduled;
  echo.status.target_node = target;
  state_.UpsertMigration(echo);  // it landed
  clock_.Advance(kUncertainWriteTtl + std::chrono::seconds(1));
  state_.ExpireUncertainAssumptions();
  EXPECT_EQ(Schedule("c", OkStatus()), Kind::kWait);
  EXPECT_EQ(Scheduled(), 2);
}

TEST_F(UncertainWritesTest, ANewerVersionWithoutTheDecisionRefutesIt) {
  ASSERT_EQ(Schedule("a", OkStatus()), Kind::kScheduled);
  ASSERT_EQ(Schedule("b", kTimeout), Kind::kScheduled);
  api::VirtualMachineMigration other = Created("b", "4");  // older: decides nothing
  state_.UpsertMigration(other);
  EXPECT_EQ(Schedule("c", OkStatus()), Kind::kWait);
  other = Created("b", "7");  // someone else's write (a label): ours did not land
  state_.UpsertMigration(other);
  EXPECT_EQ(Scheduled(), 1);
  EXPECT_EQ(Schedule("c", OkStatus()), Kind::kScheduled);
}

// The write timed out and did not land; its retry (the same decision again: same target)
// was written. The metadata echo of the retry, newer and without the Scheduled phase yet,
// refutes the first write only: the retry's assumption stays until its own echo.
TEST_F(UncertainWritesTest, RefutingTheFirstWriteKeepsTheRetrysEqualDecision) {
  std::string target;
  ASSERT_EQ(Schedule("a", OkStatus()), Kind::kScheduled);
  ASSERT_EQ(Schedule("b", kTimeout, &target), Kind::kScheduled);
  api::VirtualMachineMigration retry = Admitted("b", "5");
  retry.status.phase = MigrationPhase::kScheduled;
  retry.status.target_node = target;
  state_.AssumeScheduled(retry);               // written: metadata, then status
  state_.UpsertMigration(Admitted("b", "6"));  // the metadata write's echo
  EXPECT_EQ(Schedule("c", OkStatus()), Kind::kWait) << "the retry's slot was given away";
  EXPECT_EQ(Scheduled(), 2);
}

TEST_F(UncertainWritesTest, TheTtlFreesIt) {
  ASSERT_EQ(Schedule("a", OkStatus()), Kind::kScheduled);
  ASSERT_EQ(Schedule("b", kTimeout), Kind::kScheduled);
  clock_.Advance(kUncertainWriteTtl - std::chrono::seconds(1));
  state_.ExpireUncertainAssumptions();
  EXPECT_EQ(Schedule("c", OkStatus()), Kind::kWait);
  clock_.Advance(std::chrono::seconds(1));
  state_.ExpireUncertainAssumptions();
  EXPECT_EQ(Scheduled(), 1);
  EXPECT_EQ(Schedule("c", OkStatus()), Kind::kScheduled);
}

// Strict anti-affinity, one node left for the group: x's placement write timed out; y, placed
// meanwhile, must not get x's node. (Forgetting x's node on the timeout gave it to y.)
TEST_F(UncertainWritesTest, AStrictAntiAffinitySiblingNeverLandsOnTheUncertainNode) {
  api::ServerGroup g;
  g.metadata.name = "apart";
  g.metadata.namespace_ = "ns";
  g.spec.policy = api::ServerGroupPolicy::kAntiAffinity;
  state_.UpsertGroup(g);
  for (int i = 1; i <= 3; ++i) {
    const std::string n = std::to_string(i);
    state_.UpsertVm(Vm("s" + n, 1, "n" + n, "apart"));
  }
  state_.UpsertVm(Vm("x", 1, "", "apart", "10"));
  state_.UpsertVm(Vm("y", 1, "", "apart", "11"));
  const VmPlacement x = state_.PlaceVm("ns/x");
  ASSERT_TRUE(x.scheduled) << x.summary;
  ASSERT_EQ(x.node, "n0");
  state_.AssumeVmNode("ns/x", x.node);
  state_.KeepUncertainVmAssumption("ns/x", "10");  // its status write timed out
  state_.UpsertVm(Vm("x", 1, "", "apart", "10"));  // the same version again: no news
  EXPECT_FALSE(state_.PlaceVm("ns/y").scheduled)
      << "strict anti-affinity broken: y may join x, whose write may have landed, on n0";

  // A newer version of x without the node: the write did not land, n0 is free again.
  state_.UpsertVm(Vm("x", 1, "", "apart", "12"));
  const VmPlacement y = state_.PlaceVm("ns/y");
  EXPECT_TRUE(y.scheduled) << y.summary;
  EXPECT_EQ(y.node, "n0");
}

}  // namespace
}  // namespace ferry::op

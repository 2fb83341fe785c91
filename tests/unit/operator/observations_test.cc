// ADR 6 §4: heartbeats and phase ages judged by the operator's own monotonic clock. A
// handler is alive while the operator has seen its heartbeat value change within the
// timeout; the handler's lastHeartbeatTime is never compared with the operator's clock, so a
// node clock skewed by ±10 minutes changes nothing. After the process starts, and after a
// pause of its own, nothing is judged stale before it was watched for a whole timeout.
#include "cluster/observations.h"

#include <gtest/gtest.h>

#include "cluster/cluster_state.h"
#include "core/clock.h"

namespace ferry::op {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

api::Node ReadyNode(const std::string& name) {
  api::Node n;
  n.metadata.name = name;
  api::NodeCondition c;
  c.type = "Ready";
  c.status = api::ConditionStatus::kTrue;
  n.status.conditions.push_back(c);
  return n;
}

api::Hypervisor Hv(const std::string& name, api::WallTime heartbeat) {
  api::Hypervisor h;
  h.metadata.name = name;
  h.status.ready = true;
  h.status.last_heartbeat_time = heartbeat;
  h.status.allocatable.cpus = 8;
  h.status.allocatable.memory = *api::Quantity::Parse("16Gi");
  return h;
}

// One node whose handler renews every 10 s by its own clock, `skew` off the operator's.
class HeartbeatTest : public ::testing::Test {
 protected:
  HeartbeatTest() : state_(clock_, seconds(40), MigrationLimits{}) {
    state_.SetTickInterval(seconds(1));
    state_.UpsertNode(ReadyNode("n"));
  }
  // The handler writes a heartbeat now (its clock = ours + skew); the informer delivers it.
  void Renew(std::chrono::seconds skew) {
    state_.UpsertHypervisor(Hv("n", clock_.WallNow() + skew));
  }
  // `d` passes with the operator's tick running every second.
  void Run(std::chrono::seconds d, std::chrono::seconds renew_every = seconds(0),
           std::chrono::seconds skew = seconds(0)) {
    for (int i = 1; i <= d.count(); ++i) {
      clock_.Advance(seconds(1));
      if (renew_every.count() > 0 && i % renew_every.count() == 0) Renew(skew);
      state_.RefreshHeartbeats();
    }
  }

  FakeClock clock_;
  ClusterState state_;
};

// Was lost forever: 40 s behind, every heartbeat looked 40 s old against the operator's
// wall clock (timeout 40 s).
TEST_F(HeartbeatTest, ANodeClockBehindOrAheadChangesNothing) {
  for (std::chrono::seconds skew : {seconds(-41), seconds(-600), seconds(600), seconds(-3600)}) {
    SCOPED_TRACE(skew.count());
    Renew(skew);
    Run(seconds(120), seconds(10), skew);
    EXPECT_TRUE(state_.HandlerAlive("n")) << "renewing every 10 s";
    // It stops renewing: lost after the timeout of the operator's own watching, not earlier
    // (a clock ahead used to keep it alive 10 min longer), not later.
    Run(seconds(39));
    EXPECT_TRUE(state_.HandlerAlive("n"));
    Run(seconds(2));
    EXPECT_FALSE(state_.HandlerAlive("n"));
    Renew(skew);
    EXPECT_TRUE(state_.HandlerAlive("n")) << "a new value: seen alive at once";
  }
}

// After start nothing is stale before a whole timeout of observation: a heartbeat an hour old
// by the handler's clock (or ours) is first seen now.
TEST_F(HeartbeatTest, AfterStartNothingIsStaleBeforeAWholeTimeoutOfObservation) {
  Renew(-minutes(60));
  EXPECT_TRUE(state_.HandlerAlive("n"));
  Run(seconds(40));
  EXPECT_TRUE(state_.HandlerAlive("n"));
  Run(seconds(1));
  EXPECT_FALSE(state_.HandlerAlive("n")) << "41 s watched without a change";
  EXPECT_EQ(state_.HandlerSilence("n"), std::optional<std::chrono::nanoseconds>(seconds(41)));
}

// The incident: the operator was SIGSTOPped 40 s; on SIGCONT the heartbeat it last saw looked
// stale only because it had not watched meanwhile. A gap in its ticks longer than the period
// + 2 s restarts every observation.
TEST_F(HeartbeatTest, AfterAPauseOfTheProcessEveryObservationRestarts) {
  Renew(seconds(0));
  Run(seconds(30), seconds(10));
  clock_.Advance(seconds(45));  // stopped: no tick, no informer event
  EXPECT_TRUE(state_.RefreshHeartbeats().empty()) << "nothing judged lost after the pause";
  EXPECT_TRUE(state_.HandlerAlive("n"));
  Run(seconds(40));
  EXPECT_TRUE(state_.HandlerAlive("n"));
  Run(seconds(1));
  EXPECT_FALSE(state_.HandlerAlive("n")) << "silent for a whole timeout after the pause";
}

// Our own pause does not bring a lost handler back: only a new heartbeat value does.
TEST_F(HeartbeatTest, AHandlerLostBeforeThePauseStaysLost) {
  Renew(seconds(0));
  Run(seconds(50));
  ASSERT_FALSE(state_.HandlerAlive("n"));
  clock_.Advance(seconds(45));  // stopped
  EXPECT_TRUE(state_.RefreshHeartbeats().empty());
  EXPECT_FALSE(state_.HandlerAlive("n"));
  Renew(seconds(0));
  EXPECT_TRUE(state_.HandlerAlive("n"));
}

// A handler seen again through an informer event is reported by the next refresh, so the
// tick looks at its migrations again (a GuestLocationUnknown mark cleared at once; it waited
// for an unrelated event or a resync).
TEST_F(HeartbeatTest, AHandlerSeenAgainIsReportedByTheNextRefresh) {
  Renew(seconds(0));
  EXPECT_EQ(state_.RefreshHeartbeats(), std::vector<std::string>{"n"}) << "first seen";
  for (int i = 0; i < 41; ++i) {
    clock_.Advance(seconds(1));
    if (i < 40) {
      EXPECT_TRUE(state_.RefreshHeartbeats().empty()) << i;
    }
  }
  EXPECT_EQ(state_.RefreshHeartbeats(), std::vector<std::string>{"n"}) << "lost";
  clock_.Advance(seconds(1));
  Renew(seconds(0));  // the informer delivers a new heartbeat
  ASSERT_TRUE(state_.HandlerAlive("n"));
  EXPECT_EQ(state_.RefreshHeartbeats(), std::vector<std::string>{"n"}) << "back";
  EXPECT_TRUE(state_.RefreshHeartbeats().empty());
}

TEST_F(HeartbeatTest, TicksOnTimeAreNoPause) {
  Renew(seconds(0));
  Run(seconds(20));
  clock_.Advance(seconds(3));  // period 1 s + 2 s: still on time
  state_.RefreshHeartbeats();
  Run(seconds(17));
  EXPECT_TRUE(state_.HandlerAlive("n"));
  Run(seconds(1));
  EXPECT_FALSE(state_.HandlerAlive("n")) << "20 + 3 + 18 = 41 s silent";
}

// kubectl ferry reads a snapshot once: it has only the handler's time to go on.
TEST(HeartbeatJudgementTest, OneShotReadersJudgeByTheHandlersWallClock) {
  FakeClock clock;
  ClusterState state(clock, seconds(40), MigrationLimits{}, HeartbeatJudgement::kHandlerWallClock);
  state.UpsertNode(ReadyNode("old"));
  state.UpsertHypervisor(Hv("old", clock.WallNow() - minutes(2)));
  state.UpsertNode(ReadyNode("new"));
  state.UpsertHypervisor(Hv("new", clock.WallNow() - seconds(5)));
  EXPECT_FALSE(state.HandlerAlive("old"));
  EXPECT_TRUE(state.HandlerAlive("new"));
}

api::VirtualMachineMigration Vmm(const std::string& uid, api::MigrationPhase phase) {
  api::VirtualMachineMigration m;
  m.metadata.name = "mig";
  m.metadata.namespace_ = "ns";
  m.metadata.uid = uid;
  m.spec.vm_name = "vm";
  m.status.phase = phase;
  return m;
}

// Phase deadlines run from when the operator first observed the VMM (by uid) in the phase:
// a handler-written phaseTransitionTime 2 minutes behind does not count.
TEST(PhaseAgeTest, RunsFromTheOperatorsFirstObservationPerUidAndPhase) {
  FakeClock clock;
  ClusterState state(clock, seconds(40), MigrationLimits{});
  state.SetTickInterval(seconds(1));
  api::VirtualMachineMigration m = Vmm("u1", api::MigrationPhase::kTargetReady);
  m.status.phase_transition_time = clock.WallNow() - minutes(2);
  state.UpsertMigration(m);
  EXPECT_EQ(state.ObservedPhaseAge(m), std::chrono::nanoseconds(0));
  for (int i = 0; i < 30; ++i) {
    clock.Advance(seconds(1));
    state.RefreshHeartbeats();
  }
  EXPECT_EQ(state.ObservedPhaseAge(m), seconds(30));
  m.status.phase = api::MigrationPhase::kRunning;  // a new phase starts at 0
  state.UpsertMigration(m);
  EXPECT_EQ(state.ObservedPhaseAge(m), std::chrono::nanoseconds(0));
  clock.Advance(seconds(1));
  state.RefreshHeartbeats();
  api::VirtualMachineMigration again = Vmm("u2", api::MigrationPhase::kRunning);
  EXPECT_EQ(state.ObservedPhaseAge(again), std::chrono::nanoseconds(0))
      << "a VMM re-created under the name is another VMM";
  // A pause restarts it.
  state.UpsertMigration(m);
  clock.Advance(seconds(1));
  state.RefreshHeartbeats();
  EXPECT_EQ(state.ObservedPhaseAge(m), seconds(1));
  clock.Advance(minutes(10));
  EXPECT_EQ(state.ObservedPhaseAge(m), std::chrono::nanoseconds(0)) << "after a pause";
}

TEST(ObservationsTest, APauseIsAGapLongerThanTheThreshold) {
  FakeClock clock;
  Observations o(clock, seconds(3));
  o.SeeHeartbeat("n", api::WallTime{} + seconds(1));
  clock.Advance(seconds(3));
  EXPECT_FALSE(o.Tick());
  EXPECT_EQ(o.HeartbeatSilence("n"), std::optional<Clock::Duration>(seconds(3)));
  clock.Advance(seconds(3) + std::chrono::milliseconds(1));
  EXPECT_TRUE(o.Tick());
  EXPECT_EQ(o.pauses(), 1u);
  EXPECT_EQ(o.HeartbeatSilence("n"), std::optional<Clock::Duration>(Clock::Duration(0)));
  o.SeeHeartbeat("n", api::WallTime{} + seconds(1));  // the same value again: no change
  clock.Advance(seconds(2));
  EXPECT_EQ(o.HeartbeatSilence("n"), std::optional<Clock::Duration>(seconds(2)));
  EXPECT_EQ(o.HeartbeatSilence("other"), std::nullopt);
}

}  // namespace
}  // namespace ferry::op

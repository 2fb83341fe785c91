// The phase machine as a table: every phase the operator can observe × every event.
#include "migration/phase_machine.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "api/group.h"

namespace ferry::op::migration {
namespace {

using api::MigrationPhase;
using std::chrono::minutes;
using std::chrono::seconds;

const api::WallTime kNow = api::WallTime{} + std::chrono::hours(24 * 365 * 56);

class FakeWorld : public MigrationWorld {
 public:
  std::set<std::string> alive = {"src", "dst"};
  std::map<std::string, std::string> problems;
  std::string active_other;
  SchedulingOutcome outcome{SchedulingOutcome::Kind::kScheduled, "dst", std::nullopt, "dst chosen"};
  mutable int schedule_calls = 0;
  // How long the operator has observed the VMM in its phase (MigrationInput::phase_age).
  std::chrono::nanoseconds phase_age = seconds(1);
  // How long the operator has watched each handler's heartbeat not change.
  std::chrono::nanoseconds silence = minutes(1);

  bool HandlerAlive(const std::string& n) const override { return alive.count(n) > 0; }
  std::optional<api::WallTime> LastHeartbeat(const std::string&) const override {
    return kNow - minutes(1);
  }
  std::optional<std::chrono::nanoseconds> HandlerSilence(const std::string&) const override {
    return silence;
  }
  std::string TargetProblem(const std::string& n) const override {
    auto it = problems.find(n);
    return it == problems.end() ? "" : it->second;
  }
  std::string ActiveMigrationOf(const std::string&, const std::string&) const override {
    return active_other;
  }
  api::EffectiveMigrationOptions EffectiveOptions(const api::VirtualMachineMigration& vmm,
                                                  const api::VirtualMachine&) const override {
    api::EffectiveMigrationOptions o;
    o.target_node = vmm.spec.target_node;
    o.priority = vmm.spec.priority;
    o.offline = vmm.spec.offline;
    return o;
  }
  SchedulingOutcome Schedule(const api::VirtualMachineMigration&,
                             const api::VirtualMachine&) const override {
    ++schedule_calls;
    return outcome;
  }
};

api::VirtualMachine RunningVm() {
  api::VirtualMachine vm;
  vm.metadata.name = "web";
  vm.metadata.namespace_ = "ns";
  vm.spec.running = true;
  vm.status.phase = api::VmPhase::kRunning;
  vm.status.node_name = "src";
  return vm;
}

api::VirtualMachineMigration Vmm(MigrationPhase phase, seconds age = seconds(1)) {
  api::VirtualMachineMigration m;
  m.metadata.name = "mig";
  m.metadata.namespace_ = "ns";
  m.metadata.generation = 1;
  m.spec.vm_name = "web";
  m.status.phase = phase;
  m.status.phase_transition_time = kNow - age;
  if (phase != MigrationPhase::kUnset && phase != MigrationPhase::kPending) {
    m.metadata.finalizers = {api::kMigrationFinalizer};
    m.metadata.labels[api::kLabelVm] = "web";
    m.status.source_node = "src";
    m.status.observed_generation = 1;
  }
  if (phase >= MigrationPhase::kScheduled) m.status.target_node = "dst";
  return m;
}

Deadlines TestDeadlines() {
  Deadlines d;
  d.target_prepare = minutes(5);
  d.source_start = minutes(2);
  d.running_handler_lost = minutes(5);
  return d;
}

struct Case {
  std::string name;
  MigrationPhase phase;
  std::function<void(api::VirtualMachineMigration&, api::VirtualMachine*&, FakeWorld&)> event;
  MigrationPhase want_phase;
  std::string want_reason;  // "" = any
};

void NoEvent(api::VirtualMachineMigration&, api::VirtualMachine*&, FakeWorld&) {}
void Deleted(api::VirtualMachineMigration& m, api::VirtualMachine*&, FakeWorld&) {
  m.metadata.deletion_timestamp = kNow;
}
void VmGone(api::VirtualMachineMigration&, api::VirtualMachine*& vm, FakeWorld&) { vm = nullptr; }
void SourceLost(api::VirtualMachineMigration&, api::VirtualMachine*&, FakeWorld& w) {
  w.alive.erase("src");
}
void TargetLost(api::VirtualMachineMigration&, api::VirtualMachine*&, FakeWorld& w) {
  w.alive.erase("dst");
}
void TargetCordoned(api::VirtualMachineMigration&, api::VirtualMachine*&, FakeWorld& w) {
  w.problems["dst"] = "the node is cordoned";
}
void TargetNodeGone(api::VirtualMachineMigration&, api::VirtualMachine*&, FakeWorld& w) {
  w.problems["dst"] = "the Node object is gone";
  w.alive.erase("dst");
}

TEST(PhaseMachine, EveryPhaseTimesEveryEvent) {
  using P = MigrationPhase;
  const std::string any;
  // Observed in the phase for `s` by the operator's clock (the handler's stamp agrees).
  auto past = [](seconds s) {
    return [s](api::VirtualMachineMigration& m, api::VirtualMachine*&, FakeWorld& w) {
      m.status.phase_transition_time = kNow - s;
      w.phase_age = s;
    };
  };
  // The handler's clock is `s` behind: its phaseTransitionTime looks old, but the operator
  // has just observed the phase (ADR 6 §4: deadlines run from the operator's observation).
  auto stamped_behind = [](seconds s) {
    return [s](api::VirtualMachineMigration& m, api::VirtualMachine*&, FakeWorld& w) {
      m.status.phase_transition_time = kNow - s;
      w.phase_age = seconds(1);
    };
  };
  const std::vector<Case> cases = {
      // Admission.
      {"new: admitted and scheduled in one pass", P::kUnset, NoEvent, P::kScheduled, ""},
      {"new: deleted before admission: nothing holds it", P::kUnset, Deleted, P::kUnset, ""},
      {"new: VM gone", P::kUnset, VmGone, P::kFailed, kReasonVmNotFound},
      {"new: source lost is not checked before Scheduled", P::kUnset, SourceLost, P::kScheduled,
       ""},
      {"pending: VM gone", P::kPending, VmGone, P::kFailed, kReasonVmNotFound},
      {"pending: deleted", P::kPending, Deleted, P::kPending, ""},
      // Scheduling.
      {"scheduling: slot and target", P::kScheduling, NoEvent, P::kScheduled, ""},
      {"scheduling: deleted -> cancelled", P::kScheduling, Deleted, P::kCancelled, kReasonDeleted},
      {"scheduling: VM gone", P::kScheduling, VmGone, P::kFailed, kReasonVmNotFound},
      {"scheduling: a deadline does not apply", P::kScheduling, past(std::chrono::hours(2)),
       P::kScheduled, ""},
      // Scheduled and PreparingTarget: waiting for the target handler.
      {"scheduled: nothing happens", P::kScheduled, NoEvent, P::kScheduled, ""},
      {"scheduled: deadline", P::kScheduled, past(minutes(6)), P::kFailed,
       api::kReasonTargetNotReady},
      {"scheduled: handler clock 10 min behind, just observed", P::kScheduled,
       stamped_behind(minutes(10)), P::kScheduled, ""},
      {"scheduled: deleted -> cancelled", P::kScheduled, Deleted, P::kCancelled, kReasonDeleted},
      {"scheduled: VM gone", P::kScheduled, VmGone, P::kFailed, kReasonVmNotFound},
      {"scheduled: source handler lost", P::kScheduled, SourceLost, P::kFailed,
       api::kReasonHandlerLost},
      {"scheduled: target handler lost", P::kScheduled, TargetLost, P::kFailed,
       api::kReasonTargetNotReady},
      {"scheduled: target cordoned", P::kScheduled, TargetCordoned, P::kFailed,
       api::kReasonTargetNotReady},
      {"scheduled: target node gone", P::kScheduled, TargetNodeGone, P::kFailed,
       api::kReasonTargetNotReady},
      {"preparing: nothing happens", P::kPreparingTarget, NoEvent, P::kPreparingTarget, ""},
      {"preparing: deadline", P::kPreparingTarget, past(minutes(5)), P::kFailed,
       api::kReasonTargetNotReady},
      {"preparing: deleted -> cancelled", P::kPreparingTarget, Deleted, P::kCancelled,
       kReasonDeleted},
      {"preparing: VM gone", P::kPreparingTarget, VmGone, P::kFailed, kReasonVmNotFound},
      {"preparing: source lost", P::kPreparingTarget, SourceLost, P::kFailed,
       api::kReasonHandlerLost},
      {"preparing: target lost", P::kPreparingTarget, TargetLost, P::kFailed,
       api::kReasonTargetNotReady},
      {"preparing: target cordoned", P::kPreparingTarget, TargetCordoned, P::kFailed,
       api::kReasonTargetNotReady},
      // TargetReady: waiting for the source handler; deletion is the source handler's to cancel.
      {"target ready: nothing happens", P::kTargetReady, NoEvent, P::kTargetReady, ""},
      {"target ready: deadline", P::kTargetReady, past(minutes(3)), P::kFailed,
       api::kReasonTimeout},
      {"target ready: target clock 2 min behind, just observed", P::kTargetReady,
       stamped_behind(minutes(2)), P::kTargetReady, ""},
      {"preparing: target clock 10 min behind, just observed", P::kPreparingTarget,
       stamped_behind(minutes(10)), P::kPreparingTarget, ""},
      {"target ready: deleted: the source handler cancels", P::kTargetReady, Deleted,
       P::kTargetReady, ""},
      {"target ready: VM gone: the handlers' business", P::kTargetReady, VmGone, P::kTargetReady,
       ""},
      {"target ready: source lost", P::kTargetReady, SourceLost, P::kFailed,
       api::kReasonHandlerLost},
      {"target ready: target lost", P::kTargetReady, TargetLost, P::kFailed,
       api::kReasonHandlerLost},
      {"target ready: target cordoned: too late to matter", P::kTargetReady, TargetCordoned,
       P::kTargetReady, ""},
      // Running: only a source lost for the long timeout fails it.
      {"running: nothing happens", P::kRunning, NoEvent, P::kRunning, ""},
      {"running: a long phase is no deadline", P::kRunning, past(std::chrono::hours(3)),
       P::kRunning, ""},
      {"running: deleted: the source handler cancels", P::kRunning, Deleted, P::kRunning, ""},
      {"running: VM gone", P::kRunning, VmGone, P::kRunning, ""},
      {"running: source lost 1 min", P::kRunning, SourceLost, P::kRunning, ""},
      {"running: source lost 6 min: unknown, never failed", P::kRunning,
       [](api::VirtualMachineMigration&, api::VirtualMachine*&, FakeWorld& w) {
         w.alive.erase("src");
         w.silence = minutes(6);
       },
       P::kRunning, ""},
      {"running: target lost", P::kRunning, TargetLost, P::kRunning, ""},
      {"running: target cordoned", P::kRunning, TargetCordoned, P::kRunning, ""},
      // Terminal: nothing changes.
      {"succeeded: deleted", P::kSucceeded, Deleted, P::kSucceeded, ""},
      {"failed: source lost", P::kFailed, SourceLost, P::kFailed, ""},
      {"cancelled: VM gone", P::kCancelled, VmGone, P::kCancelled, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    api::VirtualMachineMigration vmm = Vmm(c.phase);
    api::VirtualMachine vm = RunningVm();
    api::VirtualMachine* vmp = &vm;
    FakeWorld world;
    c.event(vmm, vmp, world);
    const Deadlines dl = TestDeadlines();
    PhaseDecision d = DecidePhase({vmm, vmp, world, kNow, dl, world.phase_age});
    EXPECT_EQ(api::ToString(d.status.phase), api::ToString(c.want_phase));
    if (!c.want_reason.empty()) {
      EXPECT_EQ(d.status.reason, c.want_reason);
    }
    if (d.status.phase != c.phase) {
      EXPECT_EQ(d.status.phase_transition_time, kNow) << "a transition stamps phaseTransitionTime";
    }
    if (d.status.phase == P::kFailed && c.phase != P::kFailed) {
      ASSERT_FALSE(d.events.empty());
      EXPECT_TRUE(d.events.back().warning);
      EXPECT_EQ(d.status.completion_time, kNow);
    }
  }
}

TEST(PhaseMachine, AdmissionWritesFinalizerLabelsOptionsAndSchedules) {
  api::VirtualMachineMigration vmm = Vmm(MigrationPhase::kUnset);
  vmm.spec.target_node = "dst";
  vmm.spec.priority = 3;
  api::VirtualMachine vm = RunningVm();
  FakeWorld world;
  const Deadlines dl = TestDeadlines();
  PhaseDecision d = DecidePhase({vmm, &vm, world, kNow, dl});
  EXPECT_TRUE(d.add_finalizer);
  EXPECT_TRUE(d.admitted);
  EXPECT_TRUE(d.scheduled);
  EXPECT_EQ(d.labels.at(api::kLabelVm), "web");
  EXPECT_EQ(d.labels.at(api::kLabelSourceNode), "src");
  EXPECT_EQ(d.labels.at(api::kLabelTargetNode), "dst");
  EXPECT_EQ(d.status.source_node, "src");
  EXPECT_EQ(d.status.target_node, "dst");
  ASSERT_TRUE(d.status.effective_options);
  EXPECT_EQ(d.status.effective_options->target_node, "dst");
  EXPECT_EQ(d.status.effective_options->priority, 3);
  EXPECT_EQ(d.status.observed_generation, 1);
  ASSERT_TRUE(d.requeue_after);
  EXPECT_EQ(*d.requeue_after, dl.target_prepare);
  ASSERT_EQ(d.events.size(), 2u);
  EXPECT_EQ(d.events[0].reason, "Admitted");
  EXPECT_EQ(d.events[1].reason, "Scheduled");
}

TEST(PhaseMachine, VmNotRunningWaitsForLiveButNotForColdMigration) {
  api::VirtualMachine vm = RunningVm();
  vm.status.phase = api::VmPhase::kStopped;
  FakeWorld world;
  const Deadlines dl = TestDeadlines();
  api::VirtualMachineMigration live = Vmm(MigrationPhase::kUnset);
  PhaseDecision d = DecidePhase({live, &vm, world, kNow, dl});
  EXPECT_EQ(d.status.phase, MigrationPhase::kPending)
      << "waits: the cache may be behind, or the VM starts later";
  EXPECT_EQ(d.status.reason, kReasonVmNotRunning);
  EXPECT_FALSE(d.add_finalizer);
  api::VirtualMachineMigration cold = Vmm(MigrationPhase::kUnset);
  cold.spec.offline = true;
  d = DecidePhase({cold, &vm, world, kNow, dl});
  EXPECT_EQ(d.status.phase, MigrationPhase::kScheduled);
}

TEST(PhaseMachine, SecondMigrationOfAVmWaitsInPending) {
  api::VirtualMachineMigration vmm = Vmm(MigrationPhase::kUnset);
  api::VirtualMachine vm = RunningVm();
  FakeWorld world;
  world.active_other = "ns/first";
  const Deadlines dl = TestDeadlines();
  PhaseDecision d = DecidePhase({vmm, &vm, world, kNow, dl});
  EXPECT_EQ(d.status.phase, MigrationPhase::kPending);
  EXPECT_EQ(d.status.reason, kReasonActiveMigration);
  EXPECT_NE(d.status.message.find("ns/first"), std::string::npos);
  EXPECT_FALSE(d.add_finalizer);
  EXPECT_EQ(world.schedule_calls, 0);
}

TEST(PhaseMachine, SchedulingOutcomes) {
  const Deadlines dl = TestDeadlines();
  api::VirtualMachine vm = RunningVm();
  api::VirtualMachineMigration vmm = Vmm(MigrationPhase::kScheduling);
  FakeWorld world;
  world.outcome = {SchedulingOutcome::Kind::kWait, "", std::nullopt,
                   "cluster limit: 3 of 3 migrations active"};
  PhaseDecision d = DecidePhase({vmm, &vm, world, kNow, dl});
  EXPECT_EQ(d.status.phase, MigrationPhase::kScheduling);
  EXPECT_EQ(d.status.reason, kReasonWaitingForSlot);
  EXPECT_EQ(d.status.message, "cluster limit: 3 of 3 migrations active");
  EXPECT_FALSE(d.scheduled);

  api::PlacementExplanation e;
  e.summary = "no node fits";
  world.outcome = {SchedulingOutcome::Kind::kUnschedulable, "", e,
                   "no node fits vm ns/web: 2 memory"};
  d = DecidePhase({vmm, &vm, world, kNow, dl});
  EXPECT_EQ(d.status.phase, MigrationPhase::kScheduling);
  EXPECT_EQ(d.status.reason, kReasonUnschedulable);
  ASSERT_TRUE(d.status.placement);
  ASSERT_EQ(d.events.size(), 1u);
  // The same answer again is not a new Event.
  vmm.status = d.status;
  d = DecidePhase({vmm, &vm, world, kNow, dl});
  EXPECT_TRUE(d.events.empty());

  world.outcome = {SchedulingOutcome::Kind::kTargetRejected, "", e,
                   "requested node dst: anti-affinity: ..."};
  d = DecidePhase({vmm, &vm, world, kNow, dl});
  EXPECT_EQ(d.status.phase, MigrationPhase::kFailed);
  EXPECT_EQ(d.status.reason, kReasonTargetRejected);
  EXPECT_NE(d.status.message.find("anti-affinity"), std::string::npos);
}

TEST(PhaseMachine, AFirstRefusalGivesUpTheTurnOthersWaitedBehind) {
  using K = SchedulingOutcome::Kind;
  struct TurnCase {
    std::string name;
    std::string reason_before;
    K outcome;
    bool want;
  };
  const std::vector<TurnCase> cases = {
      {"waiting for a slot: keeps its place", kReasonWaitingForSlot, K::kWait, false},
      {"scheduled: took the slot it ranked for", kReasonWaitingForSlot, K::kScheduled, false},
      {"refused for the first time: ranks last now, the others look again", kReasonWaitingForSlot,
       K::kUnschedulable, true},
      {"refused again: already ranked last", kReasonUnschedulable, K::kUnschedulable, false},
      {"requested node refused: Failed frees its turn by its terminal phase", "",
       K::kTargetRejected, false},
  };
  for (const TurnCase& c : cases) {
    SCOPED_TRACE(c.name);
    api::VirtualMachine vm = RunningVm();
    api::VirtualMachineMigration vmm = Vmm(MigrationPhase::kScheduling);
    vmm.status.reason = c.reason_before;
    FakeWorld world;
    world.outcome = {c.outcome, c.outcome == K::kScheduled ? "dst" : "", std::nullopt, "why"};
    const PhaseDecision d = DecidePhase({vmm, &vm, world, kNow, TestDeadlines()});
    EXPECT_EQ(GivesUpTurn(vmm.status, d), c.want);
  }
}

// ADR 6 §3: a Running migration is never failed for a lost handler — the libvirt job goes on
// without it and may succeed, and a "Failed" guest that runs on the target invites a second
// start. After the timeout (by the operator's observation) the VMM is marked
// GuestLocationUnknown=True with a Warning Event and stays Running; the mark goes (False)
// when the handler is observed alive again. (Before: Failed HandlerLost.)
TEST(PhaseMachine, RunningSourceLostLongIsMarkedGuestLocationUnknownNeverFailed) {
  const Deadlines dl = TestDeadlines();
  api::VirtualMachine vm = RunningVm();
  FakeWorld world;
  world.alive.erase("src");
  api::VirtualMachineMigration vmm = Vmm(MigrationPhase::kRunning);

  world.silence = minutes(4);
  PhaseDecision d = DecidePhase({vmm, &vm, world, kNow, dl, seconds(1)});
  EXPECT_EQ(d.status.phase, MigrationPhase::kRunning);
  EXPECT_EQ(api::FindCondition(d.status.conditions, api::kConditionGuestLocationUnknown), nullptr);
  ASSERT_TRUE(d.requeue_after);
  EXPECT_EQ(*d.requeue_after, minutes(1)) << "the time left of the timeout";

  world.silence = minutes(6);
  d = DecidePhase({vmm, &vm, world, kNow, dl, seconds(1)});
  EXPECT_EQ(d.status.phase, MigrationPhase::kRunning) << d.status.reason;
  EXPECT_FALSE(d.status.completion_time);
  const api::Condition* c =
      api::FindCondition(d.status.conditions, api::kConditionGuestLocationUnknown);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, api::ConditionStatus::kTrue);
  EXPECT_EQ(c->reason, api::kReasonHandlerLost);
  EXPECT_NE(c->message.find("source node src"), std::string::npos) << c->message;
  EXPECT_NE(c->message.find("6m"), std::string::npos) << c->message;
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_TRUE(d.events[0].warning);
  EXPECT_EQ(d.events[0].reason, api::kConditionGuestLocationUnknown);

  // Marked: nothing more happens (no second Event), however long.
  vmm.status = d.status;
  world.silence = std::chrono::hours(5);
  d = DecidePhase({vmm, &vm, world, kNow, dl, std::chrono::hours(5)});
  EXPECT_EQ(d.status.phase, MigrationPhase::kRunning);
  EXPECT_TRUE(d.events.empty());
  EXPECT_EQ(api::Encode(d.status), api::Encode(vmm.status));

  // The handler is observed again: the mark goes False, the migration stays Running.
  world.alive.insert("src");
  d = DecidePhase({vmm, &vm, world, kNow, dl, std::chrono::hours(5)});
  EXPECT_EQ(d.status.phase, MigrationPhase::kRunning);
  c = api::FindCondition(d.status.conditions, api::kConditionGuestLocationUnknown);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, api::ConditionStatus::kFalse);
  EXPECT_EQ(c->reason, api::kReasonHandlerSeen);

  // Post-copy switched: marked all the same, never failed.
  api::VirtualMachineMigration post = Vmm(MigrationPhase::kRunning);
  post.status.progress.emplace();
  post.status.progress->post_copy_started_at = kNow - minutes(7);
  world.alive.erase("src");
  world.silence = minutes(6);
  d = DecidePhase({post, &vm, world, kNow, dl, seconds(1)});
  EXPECT_EQ(d.status.phase, MigrationPhase::kRunning);
  EXPECT_NE(api::FindCondition(d.status.conditions, api::kConditionGuestLocationUnknown), nullptr);
}

// The handler's own heartbeat time is never compared with the operator's clock: a source
// whose clock is 10 minutes behind (its lastHeartbeatTime looks 10 minutes old) but that the
// operator has watched for only a minute is not lost.
TEST(PhaseMachine, RunningJudgesTheSourceByObservationNotByItsClock) {
  const Deadlines dl = TestDeadlines();
  api::VirtualMachine vm = RunningVm();
  struct Behind : FakeWorld {
    std::optional<api::WallTime> LastHeartbeat(const std::string&) const override {
      return kNow - minutes(10);
    }
  } world;
  world.alive.erase("src");
  world.silence = minutes(1);
  api::VirtualMachineMigration vmm = Vmm(MigrationPhase::kRunning, seconds(900));
  PhaseDecision d = DecidePhase({vmm, &vm, world, kNow, dl, minutes(1)});
  EXPECT_EQ(d.status.phase, MigrationPhase::kRunning);
  EXPECT_EQ(api::FindCondition(d.status.conditions, api::kConditionGuestLocationUnknown), nullptr);
  ASSERT_TRUE(d.requeue_after);
  EXPECT_EQ(*d.requeue_after, minutes(4));
}

TEST(PhaseMachine, DeadlinesRequeueForTheTimeLeft) {
  const Deadlines dl = TestDeadlines();
  api::VirtualMachine vm = RunningVm();
  FakeWorld world;
  api::VirtualMachineMigration vmm = Vmm(MigrationPhase::kPreparingTarget, seconds(60));
  PhaseDecision d = DecidePhase({vmm, &vm, world, kNow, dl, seconds(60)});
  ASSERT_TRUE(d.requeue_after);
  EXPECT_EQ(*d.requeue_after, minutes(4));
  vmm = Vmm(MigrationPhase::kTargetReady, seconds(90));
  d = DecidePhase({vmm, &vm, world, kNow, dl, seconds(90)});
  ASSERT_TRUE(d.requeue_after);
  EXPECT_EQ(*d.requeue_after, seconds(30));
}

TEST(PhaseMachine, FinalizerLeavesOnlyAfterTheVmRecordedTheOutcome) {
  const Deadlines dl = TestDeadlines();
  FakeWorld world;
  for (MigrationPhase p :
       {MigrationPhase::kSucceeded, MigrationPhase::kFailed, MigrationPhase::kCancelled}) {
    SCOPED_TRACE(std::string(api::ToString(p)));
    api::VirtualMachineMigration vmm = Vmm(p);
    api::VirtualMachine vm = RunningVm();
    EXPECT_FALSE(DecidePhase({vmm, &vm, world, kNow, dl}).remove_finalizer);
    api::MigrationRecord r;
    r.migration_name = "mig";
    vm.status.migration_history.push_back(r);
    EXPECT_TRUE(DecidePhase({vmm, &vm, world, kNow, dl}).remove_finalizer);
    EXPECT_TRUE(DecidePhase({vmm, nullptr, world, kNow, dl}).remove_finalizer)
        << "VM gone: nothing to record";
  }
}

TEST(PhaseMachine, SpecEditAfterAdmissionIsReportedAndIgnored) {
  const Deadlines dl = TestDeadlines();
  api::VirtualMachine vm = RunningVm();
  FakeWorld world;
  api::VirtualMachineMigration vmm = Vmm(MigrationPhase::kScheduled);
  vmm.metadata.generation = 2;
  vmm.spec.target_node = "elsewhere";
  PhaseDecision d = DecidePhase({vmm, &vm, world, kNow, dl});
  EXPECT_EQ(d.status.phase, MigrationPhase::kScheduled);
  EXPECT_EQ(d.status.target_node, "dst");
  const api::Condition* c = api::FindCondition(d.status.conditions, kConditionSpecChangeIgnored);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, api::ConditionStatus::kTrue);
  EXPECT_EQ(d.status.observed_generation, 1);
}

}  // namespace
}  // namespace ferry::op::migration

// The phase machine's identity rules (docs/adr/0006 §1, §6, §8) as tables: a migration is
// about the VM it admitted (by uid), its outcome is recorded by its uid, a deleted
// half-admitted migration is cancelled, admission waits for the VM's last outcome.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "api/group.h"
#include "api/labels.h"
#include "migration/phase_machine.h"

namespace ferry::op::migration {
namespace {

using api::MigrationPhase;
using std::chrono::minutes;
using std::chrono::seconds;

const api::WallTime kNow = api::WallTime{} + std::chrono::hours(24 * 365 * 56);

class World : public MigrationWorld {
 public:
  std::string active_other;
  bool HandlerAlive(const std::string&) const override { return true; }
  std::optional<api::WallTime> LastHeartbeat(const std::string&) const override { return kNow; }
  std::optional<std::chrono::nanoseconds> HandlerSilence(const std::string&) const override {
    return std::nullopt;
  }
  std::string TargetProblem(const std::string&) const override { return ""; }
  std::string ActiveMigrationOf(const std::string&, const std::string&) const override {
    return active_other;
  }
  api::EffectiveMigrationOptions EffectiveOptions(const api::VirtualMachineMigration&,
                                                  const api::VirtualMachine&) const override {
    return {};
  }
  SchedulingOutcome Schedule(const api::VirtualMachineMigration&,
                             const api::VirtualMachine&) const override {
    return {SchedulingOutcome::Kind::kScheduled, "dst", std::nullopt, "dst chosen"};
  }
};

api::VirtualMachine Vm(const std::string& uid = "vm-1") {
  api::VirtualMachine vm;
  vm.metadata.name = "web";
  vm.metadata.namespace_ = "ns";
  vm.metadata.uid = uid;
  vm.metadata.creation_timestamp = kNow - minutes(60);
  vm.spec.running = true;
  vm.status.phase = api::VmPhase::kRunning;
  vm.status.node_name = "src";
  return vm;
}

// VMM "mig" (uid mig-1) of VM web, admitted for vm-1 unless unset/Pending.
api::VirtualMachineMigration Vmm(MigrationPhase phase) {
  api::VirtualMachineMigration m;
  m.metadata.name = "mig";
  m.metadata.namespace_ = "ns";
  m.metadata.uid = "mig-1";
  m.metadata.generation = 1;
  m.metadata.creation_timestamp = kNow - minutes(30);
  m.spec.vm_name = "web";
  m.status.phase = phase;
  m.status.phase_transition_time = kNow - seconds(1);
  if (phase != MigrationPhase::kUnset && phase != MigrationPhase::kPending) {
    m.metadata.finalizers = {api::kMigrationFinalizer};
    m.metadata.labels[api::kLabelVm] = "web";
    m.status.vm_uid = "vm-1";
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

PhaseDecision Decide(const api::VirtualMachineMigration& m, const api::VirtualMachine* vm,
                     const World& w = World()) {
  const Deadlines dl = TestDeadlines();
  return DecidePhase({m, vm, w, kNow, dl});
}

TEST(PhaseMachineIdentity, AdmissionRemembersTheVmUid) {
  const api::VirtualMachine vm = Vm("vm-7");
  const PhaseDecision d = Decide(Vmm(MigrationPhase::kUnset), &vm);
  ASSERT_TRUE(d.admitted);
  EXPECT_EQ(d.status.vm_uid, "vm-7");
}

// The VM was deleted and created again under the same name: not this migration's VM.
TEST(PhaseMachineIdentity, ARecreatedVmIsAnotherVm) {
  using P = MigrationPhase;
  const api::VirtualMachine recreated = Vm("vm-2");
  struct Case {
    P phase;
    P want;
  };
  for (const Case& c : std::vector<Case>{{P::kScheduling, P::kFailed},
                                         {P::kScheduled, P::kFailed},
                                         {P::kPreparingTarget, P::kFailed},
                                         {P::kTargetReady, P::kFailed},
                                         {P::kRunning, P::kRunning}}) {
    SCOPED_TRACE(std::string(api::ToString(c.phase)));
    const PhaseDecision d = Decide(Vmm(c.phase), &recreated);
    EXPECT_EQ(d.status.phase, c.want);
    if (c.want == P::kFailed) {
      EXPECT_EQ(d.status.reason, kReasonVmNotFound);
      EXPECT_NE(d.status.message.find("another VM"), std::string::npos) << d.status.message;
    }
    const api::VirtualMachine same = Vm("vm-1");
    EXPECT_NE(Decide(Vmm(c.phase), &same).status.phase, P::kFailed) << "the admitted VM";
  }
  // Its outcome is never recorded on the new VM: the finalizer goes without a record.
  for (P p : {P::kSucceeded, P::kFailed, P::kCancelled}) {
    SCOPED_TRACE(std::string(api::ToString(p)));
    EXPECT_TRUE(Decide(Vmm(p), &recreated).remove_finalizer);
    const api::VirtualMachine same = Vm("vm-1");
    EXPECT_FALSE(Decide(Vmm(p), &same).remove_finalizer) << "not recorded on its own VM yet";
  }
}

// A VMM name reused after deletion: the first one's record (same name, other uid) is not the
// second one's; the finalizer stays until the VM records the second by its uid.
TEST(PhaseMachineIdentity, OutcomeRecordedComparesUids) {
  api::VirtualMachine vm = Vm();
  api::MigrationRecord first;
  first.migration_name = "mig";
  first.migration_uid = "mig-0";
  vm.status.migration_history.push_back(first);
  const api::VirtualMachineMigration m = Vmm(MigrationPhase::kSucceeded);
  EXPECT_FALSE(Decide(m, &vm).remove_finalizer);
  api::MigrationRecord second = first;
  second.migration_uid = "mig-1";
  vm.status.migration_history.push_back(second);
  EXPECT_TRUE(Decide(m, &vm).remove_finalizer);

  api::VirtualMachine legacy = Vm();  // a record written before migrationUID existed
  api::MigrationRecord old;
  old.migration_name = "mig";
  legacy.status.migration_history.push_back(old);
  EXPECT_TRUE(Decide(m, &legacy).remove_finalizer);
}

// Half-admitted: the finalizer was written, the status not (a crash, a failed status write).
// Deleted so, it was never cancelled and blocked every later migration of its VM.
TEST(PhaseMachineIdentity, AHalfAdmittedVmmDeletedIsCancelled) {
  const api::VirtualMachine vm = Vm();
  for (MigrationPhase p : {MigrationPhase::kUnset, MigrationPhase::kPending}) {
    SCOPED_TRACE(std::string(api::ToString(p)));
    api::VirtualMachineMigration m = Vmm(p);
    m.metadata.finalizers = {api::kMigrationFinalizer};
    m.metadata.deletion_timestamp = kNow;
    PhaseDecision d = Decide(m, &vm);
    EXPECT_EQ(d.status.phase, MigrationPhase::kCancelled);
    EXPECT_EQ(d.status.reason, kReasonDeleted);
    EXPECT_FALSE(d.admitted);
    m.status = d.status;  // next pass: released once recorded (or the VM is gone)
    EXPECT_FALSE(Decide(m, &vm).remove_finalizer);
    EXPECT_TRUE(Decide(m, nullptr).remove_finalizer);

    api::VirtualMachineMigration never = Vmm(p);  // never admitted: nothing holds it
    never.metadata.deletion_timestamp = kNow;
    EXPECT_EQ(Decide(never, &vm).status.phase, p);
  }
}

// Back-to-back: the VM still names another migration as active (its outcome may not be on
// the VM yet): admission waits, whatever the ledger says.
TEST(PhaseMachineIdentity, AdmissionWaitsWhileTheVmNamesAnotherActiveMigration) {
  api::VirtualMachine vm = Vm();
  vm.status.active_migration = "first";
  PhaseDecision d = Decide(Vmm(MigrationPhase::kUnset), &vm);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.status.phase, MigrationPhase::kPending);
  EXPECT_EQ(d.status.reason, kReasonActiveMigration);
  EXPECT_NE(d.status.message.find("ns/first"), std::string::npos) << d.status.message;
  vm.status.active_migration = "mig";  // itself (a reconcile after its own admission)
  EXPECT_TRUE(Decide(Vmm(MigrationPhase::kUnset), &vm).admitted);
  vm.status.active_migration.clear();
  World busy;
  busy.active_other = "ns/first";  // the ledger: unfinished, or finished but not recorded
  EXPECT_EQ(Decide(Vmm(MigrationPhase::kUnset), &vm, busy).status.reason, kReasonActiveMigration);
}

// A VM being deleted: its waiting migrations end; finished ones are let go only once the VM
// (still there, being deleted) records them — the VM controller still does.
TEST(PhaseMachineIdentity, AVmBeingDeletedEndsItsMigrations) {
  api::VirtualMachine vm = Vm();
  vm.metadata.deletion_timestamp = kNow;
  EXPECT_EQ(Decide(Vmm(MigrationPhase::kScheduling), &vm).status.reason, kReasonVmNotFound);
  EXPECT_EQ(Decide(Vmm(MigrationPhase::kUnset), &vm).status.phase, MigrationPhase::kFailed);
  EXPECT_FALSE(Decide(Vmm(MigrationPhase::kSucceeded), &vm).remove_finalizer);
  api::MigrationRecord r;
  r.migration_name = "mig";
  r.migration_uid = "mig-1";
  vm.status.migration_history.push_back(r);
  EXPECT_TRUE(Decide(Vmm(MigrationPhase::kSucceeded), &vm).remove_finalizer);
}

// A VM name of 253 characters: the decision carries the full name; the controller writes it
// hashed with the annotation, and VmNameOf reads the full name back.
TEST(PhaseMachineIdentity, LongVmNamesRoundTrip) {
  const std::string name = std::string(120, 'v') + "." + std::string(132, 'w');
  api::VirtualMachine vm = Vm();
  vm.metadata.name = name;
  api::VirtualMachineMigration m = Vmm(MigrationPhase::kUnset);
  m.spec.vm_name = name;
  const PhaseDecision d = Decide(m, &vm);
  ASSERT_TRUE(d.admitted);
  EXPECT_EQ(d.labels.at(api::kLabelVm), name);
  m.metadata.finalizers = {api::kMigrationFinalizer};
  api::SetLongLabel(&m.metadata, api::kLabelVm, name);
  EXPECT_LE(m.metadata.labels.at(api::kLabelVm).size(), 63u);
  m.spec.vm_name = "edited-later";
  EXPECT_EQ(VmNameOf(m), name);
}

}  // namespace
}  // namespace ferry::op::migration

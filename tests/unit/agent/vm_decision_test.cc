// DecideVm: what the agent does for one VM and what it reports, from the VM, its domain on
// the node and its migrations (a table), plus ApplyVmStatus writing only changes.
#include "agent/vm_decision.h"

#include <gtest/gtest.h>

#include <functional>

#include "builders.h"

namespace ferry::agent {
namespace {

using api::VmPhase;
using domain::DomainReason;
using domain::DomainState;
using testing::DomainCondition;
using testing::DomainOf;
using testing::Vm;

struct Case {
  std::string name;
  std::function<void(api::VirtualMachine&, VmContext&)> setup;
  VmAction action;
  VmPhase phase;       // kUnset: nothing reported
  std::string reason;  // the Domain condition's reason ("" = not checked)
};

// Test names show the case, not its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

VmContext Ctx() {
  VmContext c;
  c.node = "node-a";
  c.spec_hash = std::string("h1");
  c.libvirt_version = "9.0.0";
  c.qemu_version = "10.0.2";
  return c;
}

void WithDomain(api::VirtualMachine& vm, VmContext& c, DomainState s, DomainReason r,
                const std::string& hash = "h1") {
  c.domain = DomainOf(vm, s, r, hash);
  vm.status.domain_uuid = vm.metadata.uid;
}

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"deleted: an active domain is destroyed first",
       [](auto& vm, auto& c) {
         vm.metadata.deletion_timestamp = api::WallTime{};
         WithDomain(vm, c, DomainState::kRunning, DomainReason::kBooted);
       },
       VmAction::kDestroy, VmPhase::kUnset, ""},
      {"deleted: a shut-off domain is undefined",
       [](auto& vm, auto& c) {
         vm.metadata.deletion_timestamp = api::WallTime{};
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kDestroyed);
       },
       VmAction::kUndefine, VmPhase::kUnset, ""},
      {"deleted: no domain left, the finalizer goes",
       [](auto& vm, auto&) { vm.metadata.deletion_timestamp = api::WallTime{}; },
       VmAction::kRemoveFinalizer, VmPhase::kUnset, ""},
      {"deleted while migrating out: destroyed all the same",
       [](auto& vm, auto& c) {
         vm.metadata.deletion_timestamp = api::WallTime{};
         c.migrating_out = true;
         WithDomain(vm, c, DomainState::kRunning, DomainReason::kBooted);
       },
       VmAction::kDestroy, VmPhase::kUnset, ""},
      {"deleted: a domain of another VM of that name is not touched",
       [](auto& vm, auto& c) {
         vm.metadata.deletion_timestamp = api::WallTime{};
         WithDomain(vm, c, DomainState::kRunning, DomainReason::kBooted);
         c.domain->mark->vm_uid = "someone-else";
       },
       VmAction::kRemoveFinalizer, VmPhase::kUnset, ""},
      {"the finalizer comes before the domain",
       [](auto& vm, auto&) { vm.metadata.finalizers.clear(); }, VmAction::kAddFinalizer,
       VmPhase::kUnset, ""},
      {"new VM: defined, Starting", [](auto&, auto&) {}, VmAction::kDefine, VmPhase::kStarting,
       "Defining"},
      {"new VM not running: defined, Stopped", [](auto& vm, auto&) { vm.spec.running = false; },
       VmAction::kDefine, VmPhase::kStopped, "Defining"},
      {"invalid spec: Failed, nothing defined",
       [](auto&, auto& c) { c.spec_hash = InvalidError("no boot source"); }, VmAction::kNone,
       VmPhase::kFailed, "InvalidSpec"},
      {"migrating out: phase Migrating, hands off",
       [](auto& vm, auto& c) {
         c.migrating_out = true;
         vm.status.phase = VmPhase::kRunning;
         WithDomain(vm, c, DomainState::kPaused, DomainReason::kMigration);
       },
       VmAction::kNone, VmPhase::kMigrating, "Migrating"},
      {"migrating out and the domain is gone: the migration's business",
       [](auto& vm, auto& c) {
         c.migrating_out = true;
         vm.status.domain_uuid = vm.metadata.uid;
         vm.status.phase = VmPhase::kMigrating;
       },
       VmAction::kNone, VmPhase::kUnset, ""},
      {"migrated away (Succeeded), label not flipped yet: nothing defined, nothing reported",
       [](auto& vm, auto& c) {
         c.migrated_away = true;
         vm.status.domain_uuid = vm.metadata.uid;
         vm.status.phase = VmPhase::kMigrating;
       },
       VmAction::kNone, VmPhase::kUnset, ""},
      {"no domain while the operator records an active migration: nothing",
       [](auto& vm, auto&) {
         vm.status.active_migration = "move-web";
         vm.status.domain_uuid = vm.metadata.uid;
       },
       VmAction::kNone, VmPhase::kUnset, ""},
      // ADR 6 §2, no second start: while the VM has an activeMigration or its last
      // migration's outcome is unknown (GuestLocationUnknown / SourcePaused), the guest may run
      // on the target: nothing is defined or started here. Before: defined / started.
      {"no domain, the spec changed, the last migration's outcome unknown: DomainMissing stays",
       [](auto& vm, auto& c) {
         vm.status.domain_uuid = vm.metadata.uid;
         vm.status.phase = VmPhase::kFailed;
         vm.status.conditions = {DomainCondition("DomainMissing", 1)};
         vm.metadata.generation = 2;
         c.outcome_unknown = true;
         c.migration = "move-web";
       },
       VmAction::kNone, VmPhase::kFailed, "DomainMissing"},
      {"no domain, a migration failed HandlerLost with its outcome unknown: never defined",
       [](auto& vm, auto& c) {
         vm.status.domain_uuid = vm.metadata.uid;
         vm.status.phase = VmPhase::kRunning;
         vm.status.conditions = {DomainCondition("Running", 1, true)};
         c.outcome_unknown = true;
       },
       VmAction::kNone, VmPhase::kFailed, "DomainMissing"},
      {"no domain, the spec changed, an activeMigration: not defined",
       [](auto& vm, auto&) {
         vm.status.active_migration = "move-web";
         vm.status.domain_uuid = vm.metadata.uid;
         vm.status.conditions = {DomainCondition("DomainMissing", 1)};
         vm.metadata.generation = 2;
       },
       VmAction::kNone, VmPhase::kUnset, ""},
      {"shut off while Starting, an activeMigration: not started",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kStarting;
         vm.status.active_migration = "move-web";
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kUnknown);
       },
       VmAction::kNone, VmPhase::kUnset, "WaitingForMigration"},
      {"shut off, running toggled, the last migration's outcome unknown: not started",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kStopped;
         vm.status.conditions = {DomainCondition("Stopped", 1)};
         vm.metadata.generation = 3;
         c.outcome_unknown = true;
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kMigrated);
       },
       VmAction::kNone, VmPhase::kUnset, "WaitingForMigration"},
      {"shut off with a changed spec, outcome unknown: not even redefined",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kStarting;
         c.outcome_unknown = true;
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kUnknown, "old-hash");
       },
       VmAction::kNone, VmPhase::kUnset, "WaitingForMigration"},
      {"a paused never-run offline arrival, outcome unknown: not restarted",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kMigrating;
         c.arrived_offline = true;
         c.outcome_unknown = true;
         WithDomain(vm, c, DomainState::kPaused, DomainReason::kMigration);
       },
       VmAction::kNone, VmPhase::kRunning, "Paused"},
      {"the domain vanished outside Ferry: Failed DomainMissing, never defined twice",
       [](auto& vm, auto&) {
         vm.status.domain_uuid = vm.metadata.uid;
         vm.status.phase = VmPhase::kRunning;
         vm.status.conditions = {DomainCondition("Running", 1, true)};
       },
       VmAction::kNone, VmPhase::kFailed, "DomainMissing"},
      {"the domain vanished, then the spec changed: defined again",
       [](auto& vm, auto&) {
         vm.status.domain_uuid = vm.metadata.uid;
         vm.status.phase = VmPhase::kFailed;
         vm.status.conditions = {DomainCondition("DomainMissing", 1)};
         vm.metadata.generation = 2;
       },
       VmAction::kDefine, VmPhase::kStarting, "Defining"},
      {"a domain of that name belongs to another VM: Failed DomainNameTaken",
       [](auto& vm, auto& c) {
         WithDomain(vm, c, DomainState::kRunning, DomainReason::kBooted);
         c.domain->mark->vm_uid = "old-uid";
       },
       VmAction::kNone, VmPhase::kFailed, "DomainNameTaken"},
      {"a foreign domain without Ferry's mark: Failed DomainNameTaken",
       [](auto& vm, auto& c) {
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kUnknown);
         c.domain->mark.reset();
       },
       VmAction::kNone, VmPhase::kFailed, "DomainNameTaken"},
      {"defined and shut off while Starting: started",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kStarting;
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kUnknown);
       },
       VmAction::kStart, VmPhase::kStarting, "Starting"},
      {"shut down from inside: Stopped ShutdownFromGuest, not restarted",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kRunning;
         vm.status.conditions = {DomainCondition("Running", 1, true)};
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kShutdown);
       },
       VmAction::kNone, VmPhase::kStopped, "ShutdownFromGuest"},
      {"crashed: Failed Crashed, not restarted",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kRunning;
         vm.status.conditions = {DomainCondition("Running", 1, true)};
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kCrashed);
       },
       VmAction::kNone, VmPhase::kFailed, "Crashed"},
      {"QEMU died: Failed",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kRunning;
         vm.status.conditions = {DomainCondition("Running", 1, true)};
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kFailed);
       },
       VmAction::kNone, VmPhase::kFailed, "Failed"},
      {"destroyed outside Ferry: Stopped Destroyed",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kRunning;
         vm.status.conditions = {DomainCondition("Running", 1, true)};
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kDestroyed);
       },
       VmAction::kNone, VmPhase::kStopped, "Destroyed"},
      {"stopped by itself, then the spec changed (running toggled): started",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kStopped;
         vm.status.conditions = {DomainCondition("ShutdownFromGuest", 1)};
         vm.metadata.generation = 3;
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kShutdown);
       },
       VmAction::kStart, VmPhase::kStarting, "Starting"},
      {"shut off with a changed spec: redefined before it starts",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kStarting;
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kUnknown, "old-hash");
       },
       VmAction::kDefine, VmPhase::kUnset, ""},
      {"running with a changed spec: left alone (applies at the next start)",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kRunning;
         WithDomain(vm, c, DomainState::kRunning, DomainReason::kBooted, "old-hash");
       },
       VmAction::kNone, VmPhase::kRunning, "Running"},
      {"running: false and shut off: Stopped",
       [](auto& vm, auto& c) {
         vm.spec.running = false;
         vm.status.phase = VmPhase::kRunning;
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kShutdown);
       },
       VmAction::kNone, VmPhase::kStopped, "Stopped"},
      {"running: Running",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kStarting;
         WithDomain(vm, c, DomainState::kRunning, DomainReason::kBooted);
       },
       VmAction::kNone, VmPhase::kRunning, "Running"},
      {"running: false: an ACPI shutdown first",
       [](auto& vm, auto& c) {
         vm.spec.running = false;
         vm.status.phase = VmPhase::kRunning;
         WithDomain(vm, c, DomainState::kRunning, DomainReason::kBooted);
       },
       VmAction::kShutdown, VmPhase::kRunning, "Stopping"},
      {"running: false, asked 10 s ago: wait",
       [](auto& vm, auto& c) {
         vm.spec.running = false;
         vm.status.phase = VmPhase::kRunning;
         c.shutdown_requested_for = std::chrono::seconds(10);
         WithDomain(vm, c, DomainState::kRunning, DomainReason::kBooted);
       },
       VmAction::kNone, VmPhase::kRunning, "Stopping"},
      {"running: false, the guest ignored the shutdown for the grace period: destroyed",
       [](auto& vm, auto& c) {
         vm.spec.running = false;
         vm.status.phase = VmPhase::kRunning;
         c.shutdown_requested_for = std::chrono::seconds(61);
         WithDomain(vm, c, DomainState::kRunning, DomainReason::kBooted);
       },
       VmAction::kDestroy, VmPhase::kRunning, "Stopping"},
      {"arrived by a cold migration, shut off: started (phase Migrating from the source)",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kMigrating;
         vm.status.conditions = {DomainCondition("Migrating", 1, true)};
         WithDomain(vm, c, DomainState::kShutOff, DomainReason::kMigrated);
       },
       VmAction::kStart, VmPhase::kStarting, "Starting"},
      {"arrived by a cold migration as a paused, never-run copy: destroyed to restart",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kMigrating;
         c.arrived_offline = true;
         WithDomain(vm, c, DomainState::kPaused, DomainReason::kMigration);
       },
       VmAction::kDestroy, VmPhase::kUnset, ""},
      {"paused by a person long after a cold arrival: left paused",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kRunning;
         c.arrived_offline = true;
         WithDomain(vm, c, DomainState::kPaused, DomainReason::kUser);
       },
       VmAction::kNone, VmPhase::kRunning, "Paused"},
      {"paused in post-copy on the new node: Running",
       [](auto& vm, auto& c) {
         vm.status.phase = VmPhase::kMigrating;
         WithDomain(vm, c, DomainState::kPaused, DomainReason::kPostCopyFailed);
       },
       VmAction::kNone, VmPhase::kRunning, "PostCopy"},
  };
  return cases;
}

class DecideVmTest : public ::testing::TestWithParam<Case> {};

TEST_P(DecideVmTest, ActionAndReport) {
  const Case& tc = GetParam();
  api::VirtualMachine vm = Vm();
  VmContext c = Ctx();
  tc.setup(vm, c);
  const VmDecision d = DecideVm(vm, c);
  EXPECT_EQ(VmActionName(d.action), std::string(VmActionName(tc.action))) << d.why;
  if (tc.phase == VmPhase::kUnset) {
    EXPECT_FALSE(d.report && d.phase != VmPhase::kUnset) << "reported " << api::ToString(d.phase);
  } else {
    EXPECT_TRUE(d.report);
    EXPECT_EQ(api::ToString(d.phase), api::ToString(tc.phase));
  }
  if (!tc.reason.empty()) {
    ASSERT_TRUE(d.condition.has_value());
    EXPECT_EQ(d.condition->reason, tc.reason) << d.condition->message;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, DecideVmTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           std::string n;
                           for (char ch : param.param.name)
                             n += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return n;
                         });

TEST(DecideVm, RunningRecordsFirstBootOnce) {
  api::VirtualMachine vm = Vm();
  VmContext c = Ctx();
  WithDomain(vm, c, DomainState::kRunning, DomainReason::kBooted);
  VmDecision d = DecideVm(vm, c);
  ASSERT_TRUE(d.first_boot.has_value());
  EXPECT_EQ(d.first_boot->node_name, "node-a");
  EXPECT_EQ(d.first_boot->libvirt_version, "9.0.0");
  EXPECT_EQ(d.first_boot->qemu_version, "10.0.2");
  EXPECT_EQ(d.domain_uuid, vm.metadata.uid);

  vm.status.first_boot = api::BootRecord{"node-b", "8.0.0", "7.2.0", {}};
  d = DecideVm(vm, c);
  EXPECT_FALSE(d.first_boot.has_value());  // where it first booted never changes
}

TEST(ApplyVmStatus, WritesOnlyChangesAndStampsTheGeneration) {
  api::VirtualMachine vm = Vm();
  vm.metadata.generation = 4;
  VmContext c = Ctx();
  WithDomain(vm, c, DomainState::kRunning, DomainReason::kBooted);
  const VmDecision d = DecideVm(vm, c);
  const api::WallTime t0{std::chrono::hours(1000)};
  EXPECT_TRUE(ApplyVmStatus(d, 4, t0, &vm.status));
  EXPECT_EQ(vm.status.phase, VmPhase::kRunning);
  const api::Condition* cond = api::FindCondition(vm.status.conditions, api::kConditionDomain);
  ASSERT_NE(cond, nullptr);
  EXPECT_EQ(cond->observed_generation, 4);
  EXPECT_EQ(cond->status, api::ConditionStatus::kTrue);
  // The same decision again changes nothing: no write, no resourceVersion churn.
  EXPECT_FALSE(ApplyVmStatus(d, 4, t0 + std::chrono::seconds(10), &vm.status));
  // A new generation is recorded even when nothing else changed.
  EXPECT_TRUE(ApplyVmStatus(d, 5, t0 + std::chrono::seconds(20), &vm.status));
}

}  // namespace
}  // namespace ferry::agent

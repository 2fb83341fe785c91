// The VM's migration bookkeeping by uid (docs/adr/0006 §1): a VMM name reused after deletion
// is recorded (and flips the node) although a record of that name exists; a migration of an
// earlier VM of the same name is never active on, recorded on, or flipping the new VM.
#include <gtest/gtest.h>

#include "api/group.h"
#include "vm/vm_status.h"

namespace ferry::op::vm {
namespace {

using api::MigrationPhase;
using std::chrono::seconds;

const api::WallTime kT0 = api::WallTime{} + std::chrono::hours(24 * 365 * 56);

api::VirtualMachine Vm(const std::string& uid = "vm-1") {
  api::VirtualMachine vm;
  vm.metadata.name = "web";
  vm.metadata.namespace_ = "ns";
  vm.metadata.uid = uid;
  vm.metadata.creation_timestamp = kT0 - seconds(600);
  vm.spec.running = true;
  vm.status.phase = api::VmPhase::kRunning;
  vm.status.node_name = "n1";
  return vm;
}

api::VirtualMachineMigration Vmm(const std::string& name, const std::string& uid,
                                 MigrationPhase phase, const std::string& vm_uid = "vm-1") {
  api::VirtualMachineMigration m;
  m.metadata.name = name;
  m.metadata.uid = uid;
  m.metadata.namespace_ = "ns";
  m.metadata.creation_timestamp = kT0 - seconds(60);
  m.metadata.finalizers = {api::kMigrationFinalizer};
  m.spec.vm_name = "web";
  m.status.vm_uid = vm_uid;
  m.status.phase = phase;
  m.status.source_node = "n1";
  m.status.target_node = "n2";
  if (api::IsTerminal(phase)) m.status.completion_time = kT0;
  return m;
}

TEST(VmMigrationStatusIdentity, TheRecordCarriesTheMigrationUid) {
  const api::MigrationRecord r = RecordOf(Vmm("m", "uid-m", MigrationPhase::kSucceeded));
  EXPECT_EQ(r.migration_name, "m");
  EXPECT_EQ(r.migration_uid, "uid-m");
}

// The defect: `m` succeeded, was recorded and deleted; a new `m` (same YAML) succeeded too but
// "already recorded" matched the old record by name: no flip, the guest ran unmanaged.
TEST(VmMigrationStatusIdentity, AReusedNameIsRecordedAndFlips) {
  api::VirtualMachine vm = Vm();
  api::MigrationRecord old;
  old.migration_name = "m";
  old.migration_uid = "uid-old";
  old.target_node = "n1";
  vm.status.migration_history.push_back(old);
  const VmMigrationDecision d =
      DecideMigrationStatus(vm, {Vmm("m", "uid-new", MigrationPhase::kSucceeded)});
  ASSERT_EQ(d.status.migration_history.size(), 2u);
  EXPECT_EQ(d.status.migration_history.back().migration_uid, "uid-new");
  EXPECT_EQ(d.flip_to, "n2");
  EXPECT_EQ(d.status.node_name, "n2");
  EXPECT_EQ(d.recorded, std::vector<std::string>{"m"});

  vm.status = d.status;  // recorded once, never twice
  const VmMigrationDecision again =
      DecideMigrationStatus(vm, {Vmm("m", "uid-new", MigrationPhase::kSucceeded)});
  EXPECT_EQ(again.status.migration_history.size(), 2u);
  EXPECT_FALSE(again.flip_to);
}

TEST(VmMigrationStatusIdentity, MigrationsOfAnEarlierVmOfTheNameAreNotThisVms) {
  const api::VirtualMachine vm = Vm("vm-2");
  for (MigrationPhase p : {MigrationPhase::kSucceeded, MigrationPhase::kFailed,
                           MigrationPhase::kRunning, MigrationPhase::kScheduled}) {
    SCOPED_TRACE(std::string(api::ToString(p)));
    const VmMigrationDecision d = DecideMigrationStatus(vm, {Vmm("evac", "u", p, "vm-1")});
    EXPECT_TRUE(d.status.migration_history.empty());
    EXPECT_EQ(d.status.active_migration, "");
    EXPECT_FALSE(d.flip_to);
    EXPECT_EQ(d.status.node_name, "n1");
  }
  // Admitted before vmUID existed: told apart by creation time.
  api::VirtualMachineMigration legacy = Vmm("evac", "u", MigrationPhase::kSucceeded, "");
  legacy.metadata.creation_timestamp = vm.metadata.creation_timestamp.value() - seconds(1);
  EXPECT_TRUE(DecideMigrationStatus(vm, {legacy}).status.migration_history.empty());
  legacy.metadata.creation_timestamp = vm.metadata.creation_timestamp.value() + seconds(1);
  EXPECT_EQ(DecideMigrationStatus(vm, {legacy}).status.migration_history.size(), 1u);
}

}  // namespace
}  // namespace ferry::op::vm

// Identity is the uid (docs/adr/0006 §1): which VM a migration is about, and whether a VM's
// history holds a migration's outcome, as tables.
#include "api/identity.h"

#include <gtest/gtest.h>

namespace ferry::api {
namespace {

const WallTime kT0 = WallTime{} + std::chrono::hours(24 * 365 * 56);

MigrationRecord Rec(const std::string& name, const std::string& uid) {
  MigrationRecord r;
  r.migration_name = name;
  r.migration_uid = uid;
  return r;
}

VirtualMachineMigration Vmm(const std::string& name, const std::string& uid) {
  VirtualMachineMigration m;
  m.metadata.name = name;
  m.metadata.uid = uid;
  return m;
}

TEST(Identity, HistoryHoldsByUid) {
  struct Case {
    std::string name;
    std::vector<MigrationRecord> history;
    VirtualMachineMigration vmm;
    bool want;
  };
  const std::vector<Case> cases = {
      {"empty history", {}, Vmm("m", "u1"), false},
      {"same uid", {Rec("m", "u1")}, Vmm("m", "u1"), true},
      {"same uid, renamed record is still it", {Rec("other", "u1")}, Vmm("m", "u1"), true},
      {"a reused name is another migration", {Rec("m", "u1")}, Vmm("m", "u2"), false},
      {"a record without uid matches by name", {Rec("m", "")}, Vmm("m", "u2"), true},
      {"...unless a record of that name carries a uid",
       {Rec("m", ""), Rec("m", "u1")},
       Vmm("m", "u2"),
       false},
      {"...and the uid one is still found", {Rec("m", ""), Rec("m", "u1")}, Vmm("m", "u1"), true},
      {"a record without uid of another name", {Rec("n", "")}, Vmm("m", "u1"), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(HistoryHolds(c.history, c.vmm), c.want);
  }
}

TEST(Identity, MigrationOfVmByVmUidThenByCreationTime) {
  VirtualMachine vm;
  vm.metadata.name = "web";
  vm.metadata.uid = "vm-2";
  vm.metadata.creation_timestamp = kT0;
  VirtualMachineMigration m = Vmm("m", "u1");
  m.status.vm_uid = "vm-2";
  EXPECT_TRUE(MigrationOfVm(m, vm));
  m.status.vm_uid = "vm-1";
  EXPECT_FALSE(MigrationOfVm(m, vm)) << "admitted for the VM deleted before this one";
  m.status.vm_uid.clear();  // admitted before vmUID existed, or never admitted
  m.metadata.creation_timestamp = kT0 - std::chrono::seconds(1);
  EXPECT_FALSE(MigrationOfVm(m, vm)) << "created before this VM existed";
  m.metadata.creation_timestamp = kT0;
  EXPECT_TRUE(MigrationOfVm(m, vm));
  m.metadata.creation_timestamp.reset();
  EXPECT_TRUE(MigrationOfVm(m, vm)) << "nothing tells them apart";
}

}  // namespace
}  // namespace ferry::api

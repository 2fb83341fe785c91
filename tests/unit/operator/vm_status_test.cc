// The VM's migration bookkeeping as tables: the active migration, the history (order, bound,
// no duplicates), the node flip after a success, and the history record of one VMM.
#include "vm/vm_status.h"

#include <gtest/gtest.h>

#include "api/group.h"

namespace ferry::op::vm {
namespace {

using api::MigrationPhase;
using std::chrono::seconds;

const api::WallTime kT0 = api::WallTime{} + std::chrono::hours(24 * 365 * 56);

api::VirtualMachine Vm(const std::string& node = "n1") {
  api::VirtualMachine vm;
  vm.metadata.name = "web";
  vm.metadata.namespace_ = "ns";
  vm.spec.running = true;
  vm.status.phase = api::VmPhase::kRunning;
  vm.status.node_name = node;
  return vm;
}

// A VMM of `web` from n1; admitted (finalizer) unless `admitted` is false; finished at
// kT0 + done_s when terminal.
api::VirtualMachineMigration Vmm(const std::string& name, MigrationPhase phase,
                                 const std::string& target = "n2", int done_s = 0,
                                 bool admitted = true) {
  api::VirtualMachineMigration m;
  m.metadata.name = name;
  m.metadata.namespace_ = "ns";
  m.metadata.creation_timestamp = kT0 - seconds(60);
  if (admitted) m.metadata.finalizers = {api::kMigrationFinalizer};
  m.spec.vm_name = "web";
  m.status.phase = phase;
  m.status.source_node = "n1";
  m.status.target_node = target;
  if (api::IsTerminal(phase)) m.status.completion_time = kT0 + seconds(done_s);
  return m;
}

std::vector<std::string> HistoryNames(const api::VirtualMachineStatus& st) {
  std::vector<std::string> out;
  for (const auto& r : st.migration_history) out.push_back(r.migration_name);
  return out;
}

struct Case {
  std::string name;
  std::vector<api::VirtualMachineMigration> vmms;
  std::vector<std::string> history_before;
  std::string want_active;
  std::vector<std::string> want_history;
  std::optional<std::string> want_flip;
  std::string want_node;
};

TEST(VmMigrationStatus, Table) {
  using P = MigrationPhase;
  const std::vector<Case> cases = {
      {"no migrations", {}, {}, "", {}, std::nullopt, "n1"},
      {"admitted and unfinished: active", {Vmm("m", P::kRunning)}, {}, "m", {}, std::nullopt, "n1"},
      {"Scheduling counts as active (it holds the VM)",
       {Vmm("m", P::kScheduling, "")},
       {},
       "m",
       {},
       std::nullopt,
       "n1"},
      {"not admitted yet: not active",
       {Vmm("m", P::kPending, "", 0, false)},
       {},
       "",
       {},
       std::nullopt,
       "n1"},
      {"admitted but waiting in Pending: not active",
       {Vmm("m", P::kPending, "")},
       {},
       "",
       {},
       std::nullopt,
       "n1"},
      {"two unfinished: the smallest name",
       {Vmm("zz", P::kRunning), Vmm("aa", P::kScheduled)},
       {},
       "aa",
       {},
       std::nullopt,
       "n1"},
      {"success recorded and the node flipped",
       {Vmm("m", P::kSucceeded, "n2", 5)},
       {},
       "",
       {"m"},
       "n2",
       "n2"},
      {"failure recorded, the node stays",
       {Vmm("m", P::kFailed, "n2", 5)},
       {},
       "",
       {"m"},
       std::nullopt,
       "n1"},
      {"cancelled recorded, the node stays",
       {Vmm("m", P::kCancelled, "", 5)},
       {},
       "",
       {"m"},
       std::nullopt,
       "n1"},
      {"already in the history: not again",
       {Vmm("m", P::kSucceeded, "n2", 5)},
       {"m"},
       "",
       {"m"},
       std::nullopt,
       "n1"},
      {"finished without the finalizer (already recorded and released): ignored",
       {Vmm("m", P::kSucceeded, "n2", 5, false)},
       {},
       "",
       {},
       std::nullopt,
       "n1"},
      {"several finished: oldest completion first, the newest success wins the node",
       {Vmm("b", P::kSucceeded, "n3", 9), Vmm("a", P::kSucceeded, "n2", 3),
        Vmm("c", P::kFailed, "n4", 6)},
       {},
       "",
       {"a", "c", "b"},
       "n3",
       "n3"},
      {"success to the node it is already on: no flip",
       {Vmm("m", P::kSucceeded, "n1", 5)},
       {},
       "",
       {"m"},
       std::nullopt,
       "n1"},
      {"active and finished at once",
       {Vmm("old", P::kFailed, "n2", 1), Vmm("new", P::kRunning)},
       {},
       "new",
       {"old"},
       std::nullopt,
       "n1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    api::VirtualMachine vm = Vm();
    for (const auto& h : c.history_before) {
      api::MigrationRecord r;
      r.migration_name = h;
      vm.status.migration_history.push_back(r);
    }
    const VmMigrationDecision d = DecideMigrationStatus(vm, c.vmms);
    EXPECT_EQ(d.status.active_migration, c.want_active);
    EXPECT_EQ(HistoryNames(d.status), c.want_history);
    EXPECT_EQ(d.flip_to, c.want_flip);
    EXPECT_EQ(d.status.node_name, c.want_node);
  }
}

TEST(VmMigrationStatus, HistoryKeepsTheLastTen) {
  api::VirtualMachine vm = Vm();
  for (int i = 0; i < 9; ++i) {
    api::MigrationRecord r;
    r.migration_name = "old-" + std::to_string(i);
    vm.status.migration_history.push_back(r);
  }
  std::vector<api::VirtualMachineMigration> vmms = {Vmm("x", MigrationPhase::kFailed, "n2", 1),
                                                    Vmm("y", MigrationPhase::kFailed, "n2", 2),
                                                    Vmm("z", MigrationPhase::kFailed, "n2", 3)};
  const VmMigrationDecision d = DecideMigrationStatus(vm, vmms);
  ASSERT_EQ(d.status.migration_history.size(), api::kMaxMigrationHistory);
  EXPECT_EQ(d.status.migration_history.front().migration_name, "old-2");
  EXPECT_EQ(d.status.migration_history.back().migration_name, "z");
  EXPECT_EQ(d.recorded, (std::vector<std::string>{"x", "y", "z"}));
}

TEST(VmMigrationRecord, FromAFinishedVmm) {
  api::VirtualMachineMigration m = Vmm("m", MigrationPhase::kSucceeded, "n2", 30);
  m.status.start_time = kT0;
  m.status.downtime = std::chrono::milliseconds(40);
  m.status.effective_mode = api::MigrationMode::kPostCopy;
  m.status.reason = "Succeeded";
  const api::MigrationRecord r = RecordOf(m);
  EXPECT_EQ(r.migration_name, "m");
  EXPECT_EQ(r.source_node, "n1");
  EXPECT_EQ(r.target_node, "n2");
  EXPECT_EQ(r.result, api::MigrationResult::kSucceeded);
  EXPECT_EQ(r.mode, api::MigrationMode::kPostCopy);
  EXPECT_EQ(r.duration, std::chrono::nanoseconds(seconds(30)));
  EXPECT_EQ(r.downtime, std::chrono::nanoseconds(std::chrono::milliseconds(40)));
  EXPECT_EQ(r.reason, "Succeeded");
}

TEST(VmMigrationRecord, Fallbacks) {
  struct RecordCase {
    std::string name;
    std::function<void(api::VirtualMachineMigration&)> edit;
    api::MigrationResult want_result;
    std::optional<std::chrono::nanoseconds> want_duration;
  };
  using R = api::MigrationResult;
  const std::vector<RecordCase> cases = {
      {"no start time: from creation", [](auto&) {}, R::kSucceeded, seconds(65)},
      {"no completion time: the phase transition",
       [](api::VirtualMachineMigration& m) {
         m.status.completion_time.reset();
         m.status.phase_transition_time = kT0 + seconds(10);
       },
       R::kSucceeded, seconds(70)},
      {"neither: no duration",
       [](api::VirtualMachineMigration& m) { m.status.completion_time.reset(); }, R::kSucceeded,
       std::nullopt},
      {"clock skew (completion before start): no duration",
       [](api::VirtualMachineMigration& m) { m.status.start_time = kT0 + seconds(100); },
       R::kSucceeded, std::nullopt},
      {"Failed", [](api::VirtualMachineMigration& m) { m.status.phase = MigrationPhase::kFailed; },
       R::kFailed, seconds(65)},
      {"Cancelled",
       [](api::VirtualMachineMigration& m) { m.status.phase = MigrationPhase::kCancelled; },
       R::kCancelled, seconds(65)},
  };
  for (const RecordCase& c : cases) {
    SCOPED_TRACE(c.name);
    api::VirtualMachineMigration m = Vmm("m", MigrationPhase::kSucceeded, "n2", 5);
    c.edit(m);
    const api::MigrationRecord r = RecordOf(m);
    EXPECT_EQ(r.result, c.want_result);
    EXPECT_EQ(r.duration, c.want_duration);
  }
}

}  // namespace
}  // namespace ferry::op::vm

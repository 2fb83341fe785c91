// Named scenarios of the simulation: each finding of issue 20 (docs/adr/0006), scripted on
// the simulated cluster with the real operator, with no random faults but the ones named.
// Every step still checks every invariant; a failure prints the run's trace.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ostream>

#include "api/group.h"
#include "log/log.h"
#include "world.h"

namespace ferry::sim {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

std::string Dump(const World& w) {
  std::string out = "\n";
  for (const auto& l : w.Trace()) out += "  " + l + "\n";
  if (w.violation()) out += "VIOLATION " + w.violation()->rule + ": " + w.violation()->message;
  return out;
}

class Scenario : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static std::ostream discard(nullptr);
    log::SetOutputForTesting(&discard);
  }
  static WorldOptions Quiet(uint64_t seed = 1) {
    WorldOptions o;
    o.seed = seed;
    o.chaos = false;
    o.max_skew = Clock::Duration::zero();
    o.full_trace = std::getenv("FERRY_SIM_FULL_TRACE") != nullptr;
    return o;
  }
  static bool Terminal(const std::string& p) {
    return p == "Succeeded" || p == "Failed" || p == "Cancelled";
  }
  // The VM runs on a node, as its status says.
  static bool Placed(const World& w, const std::string& vm) {
    auto o = w.Vm(vm);
    if (!o || !o->contains("status")) return false;
    const std::string node = (*o)["status"].value("nodeName", "");
    return (*o)["status"].value("phase", "") == "Running" && !node.empty() &&
           w.GuestNode(vm) == node;
  }
  static std::string NodeOf(const World& w, const std::string& vm) {
    auto o = w.Vm(vm);
    return o && o->contains("status") ? (*o)["status"].value("nodeName", "") : "";
  }
};

// "Every second migration of a VM fails": two VMMs of one VM created together. The second
// must wait for the first's outcome to be recorded and start from where the guest is then.
TEST_F(Scenario, BackToBackMigrationsBothSucceed) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    World w(Quiet(seed));
    w.CreateVm("vm-a");
    ASSERT_TRUE(w.RunUntil([&] { return Placed(w, "vm-a"); }, minutes(2))) << Dump(w);
    w.CreateVmm("move-1", "vm-a");
    w.CreateVmm("move-2", "vm-a");
    ASSERT_TRUE(w.RunUntil([&] { return Terminal(w.VmmPhase("move-1")) &&
                                        Terminal(w.VmmPhase("move-2")); },
                           minutes(10)))
        << Dump(w);
    EXPECT_EQ(w.VmmPhase("move-1"), "Succeeded") << "seed " << seed << Dump(w);
    EXPECT_EQ(w.VmmPhase("move-2"), "Succeeded") << "seed " << seed << Dump(w);
    ASSERT_TRUE(w.RunUntil([&] { return Placed(w, "vm-a"); }, minutes(2))) << Dump(w);
    EXPECT_TRUE(w.Settle(minutes(5))) << Dump(w);
  }
}

// "A reused VMM name leaves the VM stuck": a migration created again under a deleted one's
// name must move the VM and be recorded as a migration of its own.
TEST_F(Scenario, ReusedMigrationNameMovesTheVm) {
  World w(Quiet());
  w.CreateVm("vm-a");
  ASSERT_TRUE(w.RunUntil([&] { return Placed(w, "vm-a"); }, minutes(2))) << Dump(w);
  w.CreateVmm("move", "vm-a");
  ASSERT_TRUE(w.RunUntil([&] { return w.VmmPhase("move") == "Succeeded" && Placed(w, "vm-a"); },
                         minutes(5)))
      << Dump(w);
  const std::string second = NodeOf(w, "vm-a");
  w.DeleteVmm("move");
  ASSERT_TRUE(w.RunUntil([&] { return !w.Vmm("move"); }, minutes(2))) << Dump(w);
  w.CreateVmm("move", "vm-a");
  ASSERT_TRUE(w.RunUntil([&] { return w.VmmPhase("move") == "Succeeded"; }, minutes(5)))
      << Dump(w);
  ASSERT_TRUE(w.RunUntil([&] { return Placed(w, "vm-a") && NodeOf(w, "vm-a") != second; },
                         minutes(2)))
      << "the VM was not flipped to where its guest runs" << Dump(w);
  auto vm = w.Vm("vm-a");
  EXPECT_EQ((*vm)["status"].value("migrationHistory", kube::Json::array()).size(), 2u) << Dump(w);
  EXPECT_TRUE(w.Settle(minutes(5))) << Dump(w);
}

// "A re-created VM never boots" while a finished evacuation migration of the deleted one,
// owned by it and of the same name, still exists (no garbage collector has run).
TEST_F(Scenario, RecreatedVmBootsDespiteOldMigration) {
  World w(Quiet());
  w.CreateVm("vm-a");
  ASSERT_TRUE(w.RunUntil([&] { return Placed(w, "vm-a"); }, minutes(2))) << Dump(w);
  const std::string first = NodeOf(w, "vm-a");
  w.Cordon(first, true);  // the drain moves it with an evacuation migration
  ASSERT_TRUE(w.RunUntil([&] { return Placed(w, "vm-a") && NodeOf(w, "vm-a") != first; },
                         minutes(5)))
      << Dump(w);
  w.Cordon(first, false);
  w.DeleteVm("vm-a");
  ASSERT_TRUE(w.RunUntil([&] { return !w.Vm("vm-a"); }, minutes(2))) << Dump(w);
  w.CreateVm("vm-a");
  EXPECT_TRUE(w.RunUntil([&] { return Placed(w, "vm-a"); }, minutes(3))) << Dump(w);
  EXPECT_TRUE(w.Settle(minutes(5))) << Dump(w);
}

// "A deposed leader shut a guest down": the leading replica is paused for longer than its
// lease during a drain, the other takes over, and the old one is continued. No write of its
// may land after its lease ran out (the "lease" invariant, checked at every write), and no
// guest whose eviction strategy allows migration is stopped.
TEST_F(Scenario, DeposedLeaderWritesNothing) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    World w(Quiet(seed));
    for (const char* vm : {"vm-a", "vm-b", "vm-c"}) w.CreateVm(vm, true, "", "LiveMigrateIfPossible");
    ASSERT_TRUE(w.RunUntil([&] { return Placed(w, "vm-a") && Placed(w, "vm-b") &&
                                        Placed(w, "vm-c"); },
                           minutes(2)))
        << Dump(w);
    ASSERT_TRUE(w.RunUntil([&] { return w.LeadingOperator() >= 0; }, minutes(1))) << Dump(w);
    w.Cordon(NodeOf(w, "vm-a"), true);
    w.RunUntil([] { return false; }, seconds(1 + static_cast<int>(seed)));
    ASSERT_FALSE(w.violation()) << Dump(w);
    w.PauseOperator(w.LeadingOperator(), seconds(40));
    EXPECT_TRUE(w.Settle(minutes(10))) << "seed " << seed << Dump(w);
    for (const char* vm : {"vm-a", "vm-b", "vm-c"}) {
      auto o = w.Vm(vm);
      ASSERT_TRUE(o.has_value());
      EXPECT_TRUE((*o)["spec"].value("running", false)) << vm << " was stopped" << Dump(w);
    }
  }
}

// "A node 40 s behind is lost forever; a target 2 min behind fails TargetReady at once":
// handlers whose clocks are ten minutes off either way migrate like any other.
TEST_F(Scenario, SkewedHandlerClocksChangeNothing) {
  World w(Quiet());
  w.SetSkew("node-a", minutes(10));
  w.SetSkew("node-b", -minutes(10));
  w.SetSkew("node-c", seconds(-40));
  w.CreateVm("vm-a");
  ASSERT_TRUE(w.RunUntil([&] { return Placed(w, "vm-a"); }, minutes(2))) << Dump(w);
  for (const char* m : {"m-1", "m-2", "m-3"}) {
    w.CreateVmm(m, "vm-a");
    ASSERT_TRUE(w.RunUntil([&] { return Terminal(w.VmmPhase(m)); }, minutes(5))) << Dump(w);
    EXPECT_EQ(w.VmmPhase(m), "Succeeded") << Dump(w);
    ASSERT_TRUE(w.RunUntil([&] { return Placed(w, "vm-a"); }, minutes(2))) << Dump(w);
  }
  EXPECT_TRUE(w.Settle(minutes(5))) << Dump(w);
}

// "Every name the CRDs accept works": a VM name longer than a label value may be.
TEST_F(Scenario, LongVmNameMigrates) {
  World w(Quiet());
  const std::string name = "vm-" + std::string(100, 'x');
  w.CreateVm(name);
  ASSERT_TRUE(w.RunUntil([&] { return Placed(w, name); }, minutes(2))) << Dump(w);
  w.CreateVmm("move", name);
  EXPECT_TRUE(w.RunUntil([&] { return w.VmmPhase("move") == "Succeeded" && Placed(w, name); },
                         minutes(5)))
      << Dump(w);
  EXPECT_TRUE(w.Settle(minutes(5))) << Dump(w);
}

// A few chaos seeds (the test command's ferry_sim runs many more): faults and user actions
// drawn from the seed, every rule checked at every step and at rest.
TEST_F(Scenario, ChaosSeedsHoldTheRules) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    WorldOptions o;
    o.seed = seed;
    World w(o);
    bool ok = true;
    for (int i = 0; i < 1500 && ok; ++i) ok = w.Step();
    if (ok) ok = w.Settle();
    EXPECT_TRUE(ok) << "seed " << seed << Dump(w);
  }
}

}  // namespace
}  // namespace ferry::sim

// 409 storms: two writers of one object's status — the operator (activeMigration, history,
// node flip, its conditions) and a handler writing its own fields as fast as it can — while
// the VM migrates back and forth. Every write carries the resourceVersion read, so a 409
// means "read again and decide again": at the end neither writer's last update is lost.
#include <atomic>
#include <thread>

#include "operator_fixture.h"

namespace ferry::op::testing {
namespace {

TEST_F(OperatorIT, ConflictStormsBetweenTwoWritersLoseNoUpdate) {
  constexpr int kHops = 3;
  for (int i = 0; i < 2; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator();
  Create(kube::resources::kVirtualMachines, Vm(ns_, "web", 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"web"}));

  // The second writer: a handler reporting its own fields (domainUUID and the Domain
  // condition) in a tight read-modify-write loop, with the resourceVersion it read.
  std::atomic<int> written{0};
  std::atomic<int> conflicts{0};
  std::atomic<bool> stop{false};
  std::jthread storm([&] {
    auto api = kube::testing::ClientFromEnv();
    while (!stop) {
      auto vm = api->Get(kube::resources::kVirtualMachines, ns_, "web");
      if (!vm.ok()) continue;
      Json obj = *vm;
      const int n = written + 1;
      obj["status"]["domainUUID"] = "uuid-" + std::to_string(n);
      Json conds = obj["status"].value("conditions", Json::array());
      Json mine = {{"type", "Domain"},
                   {"status", "True"},
                   {"reason", "Running"},
                   {"message", "report " + std::to_string(n)},
                   {"lastTransitionTime", "2026-01-01T00:00:00Z"}};
      bool found = false;
      for (auto& c : conds) {
        if (c.value("type", "") == "Domain") c = mine, found = true;
      }
      if (!found) conds.push_back(mine);
      obj["status"]["conditions"] = conds;
      auto r = api->UpdateStatus(kube::resources::kVirtualMachines, obj);
      if (r.ok()) {
        written = n;
      } else if (r.status().code() == StatusCode::kConflict) {
        ++conflicts;
      }
      // 25 writes a second: far above a real handler (it writes on change), enough that the
      // operator's and the driver's writes keep meeting it.
      std::this_thread::sleep_for(std::chrono::milliseconds(40));
    }
  });

  struct StopStorm {
    std::atomic<bool>& stop;
    ~StopStorm() { stop = true; }
  } stop_storm{stop};  // also when an assertion returns early (the jthread joins after this)

  // Three migrations back and forth, one after the other: each makes the operator write the
  // VM's status several times (activeMigration, the record, the flip).
  std::vector<std::string> targets;
  for (int i = 0; i < kHops; ++i) {
    const std::string name = "hop-" + std::to_string(i);
    Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, name, "web"));
    ASSERT_TRUE(WaitPhase(name, "Succeeded"))
        << Get(kube::resources::kVirtualMachineMigrations, name).dump();
    targets.push_back(
        Get(kube::resources::kVirtualMachineMigrations, name)["status"]["targetNode"]);
    ASSERT_TRUE(Eventually([&] {
      const Json vm = GetVm("web");
      return vm["status"].value("migrationHistory", Json::array()).size() ==
                 static_cast<size_t>(i + 1) &&
             vm["status"].value("activeMigration", "") == "" && VmPhase("web") == "Running";
    })) << GetVm("web").dump();
  }
  stop = true;
  storm.join();

  const Json vm = GetVm("web");
  // The operator's updates: every record, in order, the node flipped to the last target, the
  // label with it, its conditions present.
  const Json h = vm["status"]["migrationHistory"];
  ASSERT_EQ(h.size(), static_cast<size_t>(kHops));
  for (int i = 0; i < kHops; ++i) {
    EXPECT_EQ(h[i]["migrationName"], "hop-" + std::to_string(i));
    EXPECT_EQ(h[i]["result"], "Succeeded");
  }
  EXPECT_EQ(VmNode("web"), targets.back());
  // The label is a write of its own (after the status that moves the VM, repaired whenever
  // it differs): it follows.
  EXPECT_TRUE(Eventually([&] {
    return GetVm("web")["metadata"]["labels"].value("ferry.dev/node", "") == targets.back();
  })) << GetVm("web")["metadata"].dump();
  EXPECT_EQ(ConditionOf(vm, "PlacementCompliant").value("status", ""), "True");
  EXPECT_EQ(ConditionOf(vm, "Migratable").value("status", ""), "True");
  // The handler's updates: its last successful write is what the object holds.
  ASSERT_GT(written.load(), 0);
  EXPECT_EQ(vm["status"].value("domainUUID", ""), "uuid-" + std::to_string(written.load()));
  EXPECT_EQ(ConditionOf(vm, "Domain").value("message", ""),
            "report " + std::to_string(written.load()));
  // And it was a storm: the handler's writes met the operator's (and the driver's) in 409s.
  EXPECT_GT(conflicts.load(), 0)
      << "storm: " << written.load() << " handler writes, operator vm reconcile errors "
      << op_->Metric("ferry_controller_reconcile_errors_total{controller=\"vm\"}");
}

}  // namespace
}  // namespace ferry::op::testing

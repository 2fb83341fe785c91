// ferry-operator as its own process against the real kube-apiserver; the node side is played
// by ClusterDriver (cluster_driver.h), which writes only what handlers may write. Placement,
// one migration from start to end, refusal, limits, cancel, a lost handler.
#include <algorithm>
#include <set>
#include <thread>

#include "operator_fixture.h"

namespace ferry::op::testing {
namespace {

TEST_F(OperatorIT, PlacesRespectingStrictAntiAffinityAndCapacity) {
  for (int i = 0; i < 3; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator();
  Create(kube::resources::kServerGroups, Group(ns_, "spread", "AntiAffinity"));
  for (int i = 0; i < 3; ++i)
    Create(kube::resources::kVirtualMachines,
           Vm(ns_, "db-" + std::to_string(i), 2, "2Gi", "spread"));
  ASSERT_TRUE(Eventually([&] {
    return !VmNode("db-0").empty() && !VmNode("db-1").empty() && !VmNode("db-2").empty();
  }));
  std::set<std::string> used = {VmNode("db-0"), VmNode("db-1"), VmNode("db-2")};
  EXPECT_EQ(used.size(), 3u) << "strict anti-affinity: one member per node";
  // The label follows status.nodeName (written after it).
  EXPECT_TRUE(Eventually([&] {
    return Get(kube::resources::kVirtualMachines, "db-0")["metadata"]["labels"].value(
               "ferry.dev/node", "") == VmNode("db-0");
  })) << Get(kube::resources::kVirtualMachines, "db-0")["metadata"].dump();

  // A fourth member has no node left; the reasons per node are in the condition.
  Create(kube::resources::kVirtualMachines, Vm(ns_, "db-3", 1, "1Gi", "spread"));
  // Capacity: each node has 6Gi left; four 5Gi VMs, one per node fits, the fourth does not.
  const std::vector<std::string> big = {"big-1", "big-2", "big-3", "big-4"};
  for (const auto& b : big) Create(kube::resources::kVirtualMachines, Vm(ns_, b, 1, "5Gi"));
  auto condition = [&](const std::string& vm) {
    Json st = Get(kube::resources::kVirtualMachines, vm).value("status", Json::object());
    for (const auto& c : st.value("conditions", Json::array())) {
      if (c.value("type", "") == "Scheduled") return c;
    }
    return Json::object();
  };
  ASSERT_TRUE(Eventually([&] { return condition("db-3").value("status", "") == "False"; }));
  EXPECT_EQ(condition("db-3")["reason"], "AntiAffinity");
  EXPECT_NE(condition("db-3")["message"].get<std::string>().find(Node(0)), std::string::npos);
  EXPECT_EQ(Get(kube::resources::kVirtualMachines, "db-3")["status"]["phase"], "Pending");
  std::string unplaced;
  ASSERT_TRUE(Eventually([&] {
    int placed = 0;
    for (const auto& b : big) {
      if (!VmNode(b).empty()) {
        ++placed;
      } else if (condition(b).value("status", "") == "False") {
        unplaced = b;
      }
    }
    return placed == 3 && !unplaced.empty();
  })) << "three nodes with 6Gi free each hold three 5Gi VMs, not four";
  std::set<std::string> big_nodes;
  for (const auto& b : big) big_nodes.insert(VmNode(b));
  EXPECT_EQ(big_nodes.size(), 4u) << "three distinct nodes plus the empty one";
  EXPECT_EQ(condition(unplaced)["reason"], "Memory");
}

TEST_F(OperatorIT, MigratableFollowsTheOtherHostsCpuModels) {
  driver_->AddNode({Node(0), 4, "8Gi", "Icelake-Server"});
  driver_->Start();
  StartOperator();
  Json pt = Vm(ns_, "pt", 1, "1Gi");
  pt["spec"]["cpuModel"] = "host-passthrough";
  Create(kube::resources::kVirtualMachines, pt);
  Create(kube::resources::kVirtualMachines, Vm(ns_, "plain", 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"pt", "plain"}));
  auto migratable = [&](const std::string& vm) { return ConditionOf(GetVm(vm), "Migratable"); };
  ASSERT_TRUE(Eventually([&] { return migratable("plain").value("reason", "") == "NoOtherHost"; }))
      << GetVm("plain").dump();
  driver_->AddNode({Node(1), 4, "8Gi", "Skylake-Server"});
  ASSERT_TRUE(Eventually([&] { return migratable("plain").value("status", "") == "True"; }))
      << GetVm("plain").dump();
  ASSERT_TRUE(Eventually([&] {
    return migratable("pt").value("reason", "") == "CpuModelUnavailable";
  })) << GetVm("pt").dump();
  EXPECT_EQ(migratable("pt")["status"], "False");
  EXPECT_NE(migratable("pt")["message"].get<std::string>().find("Icelake-Server"),
            std::string::npos);
  // A host with the identical model joins: host-passthrough can move there.
  driver_->AddNode({Node(2), 4, "8Gi", "Icelake-Server"});
  ASSERT_TRUE(Eventually([&] { return migratable("pt").value("status", "") == "True"; }))
      << GetVm("pt").dump();
}

TEST_F(OperatorIT, MigrationWithoutTargetIsPlacedAndDrivenToSucceededWithTheVmFlipped) {
  for (int i = 0; i < 2; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator();
  Create(kube::resources::kVirtualMachines, Vm(ns_, "web", 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"web"}));
  const std::string from = VmNode("web");
  Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "move-web", "web"));
  ASSERT_TRUE(WaitPhase("move-web", "Succeeded"));
  ASSERT_TRUE(Eventually([&] { return VmNode("web") != from; }));
  // The label follows status.nodeName (a write of its own, after the status).
  EXPECT_TRUE(Eventually([&] {
    return Get(kube::resources::kVirtualMachines, "web")["metadata"]["labels"].value(
               "ferry.dev/node", "") == VmNode("web");
  })) << Get(kube::resources::kVirtualMachines, "web")["metadata"].dump();
  ASSERT_TRUE(Eventually([&] {
    Json v = Get(kube::resources::kVirtualMachines, "web");
    return v["status"].value("migrationHistory", Json::array()).size() == 1 &&
           v["status"].value("activeMigration", "") == "";
  }));
  const Json m = Get(kube::resources::kVirtualMachineMigrations, "move-web");
  EXPECT_EQ(m["status"]["sourceNode"], from);
  EXPECT_EQ(m["metadata"]["labels"]["ferry.dev/target-node"], m["status"]["targetNode"]);
  EXPECT_FALSE(m["status"]["placement"]["candidates"].empty());
  ASSERT_TRUE(Eventually([&] {
    return !Get(kube::resources::kVirtualMachineMigrations, "move-web")["metadata"].contains(
        "finalizers");
  })) << "finalizer removed once the VM recorded the outcome";
}

TEST_F(OperatorIT, MigrationToANonCompliantTargetIsRefusedWithTheReason) {
  for (int i = 0; i < 2; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator();
  Create(kube::resources::kServerGroups, Group(ns_, "spread", "AntiAffinity"));
  Create(kube::resources::kVirtualMachines, Vm(ns_, "a", 1, "1Gi", "spread"));
  Create(kube::resources::kVirtualMachines, Vm(ns_, "b", 1, "1Gi", "spread"));
  ASSERT_TRUE(WaitRunning({"a", "b"}));
  Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "squeeze", "a", VmNode("b")));
  ASSERT_TRUE(WaitPhase("squeeze", "Failed"));
  const Json st = Get(kube::resources::kVirtualMachineMigrations, "squeeze")["status"];
  EXPECT_EQ(st["reason"], "TargetRejected");
  EXPECT_NE(st["message"].get<std::string>().find("anti-affinity"), std::string::npos)
      << st["message"];
}

TEST_F(OperatorIT, ClusterLimitThreeNeverMoreThanThreeActive) {
  for (int i = 0; i < 4; ++i) driver_->AddNode({Node(i), 16, "32Gi"});
  driver_->Start();
  StartOperator({"--max-migrations", "3", "--max-outbound-migrations-per-node", "10",
                 "--max-inbound-migrations-per-node", "10"});
  std::vector<std::string> vms;
  for (int i = 0; i < 10; ++i) {
    vms.push_back("vm-" + std::to_string(i));
    Create(kube::resources::kVirtualMachines, Vm(ns_, vms.back(), 1, "512Mi"));
  }
  ASSERT_TRUE(WaitRunning(vms));
  for (int i = 0; i < 10; ++i)
    Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "m-" + std::to_string(i), vms[i]));
  int max_active = 0;
  bool waiting_said_why = false;
  ASSERT_TRUE(Eventually(
      [&] {
        auto list = api_->List(kube::resources::kVirtualMachineMigrations, ns_, {});
        if (!list.ok()) return false;
        int active = 0, done = 0;
        for (const auto& m : list->items) {
          const std::string p = m.value("status", Json::object()).value("phase", "");
          if (p == "Scheduled" || p == "PreparingTarget" || p == "TargetReady" || p == "Running")
            ++active;
          if (p == "Succeeded") ++done;
          if (p == "Scheduling" && m["status"].value("reason", "") == "WaitingForSlot" &&
              m["status"].value("message", "").find("cluster limit") != std::string::npos) {
            waiting_said_why = true;
          }
        }
        max_active = std::max(max_active, active);
        return done == 10;
      },
      90s));
  EXPECT_LE(max_active, 3);
  EXPECT_GE(max_active, 1);
  EXPECT_TRUE(waiting_said_why);
}

TEST_F(OperatorIT, DeletingAScheduledMigrationCancelsIt) {
  for (int i = 0; i < 2; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator();
  Create(kube::resources::kVirtualMachines, Vm(ns_, "web", 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"web"}));
  const std::string from = VmNode("web");
  driver_->Hold(true);  // the target handler does not answer
  Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "doomed", "web"));
  ASSERT_TRUE(WaitPhase("doomed", "Scheduled"));
  ASSERT_TRUE(api_->Delete(kube::resources::kVirtualMachineMigrations, ns_, "doomed").ok());
  ASSERT_TRUE(WaitPhase("doomed", "Cancelled"))
      << Get(kube::resources::kVirtualMachineMigrations, "doomed").dump();
  ASSERT_TRUE(Eventually([&] {
    return !api_->Get(kube::resources::kVirtualMachineMigrations, ns_, "doomed").ok();
  })) << "the finalizer is removed once the cancel is recorded";
  ASSERT_TRUE(Eventually([&] {
    Json h = Get(kube::resources::kVirtualMachines, "web")["status"].value("migrationHistory",
                                                                           Json::array());
    return h.size() == 1 && h[0].value("result", "") == "Cancelled";
  }));
  EXPECT_EQ(VmNode("web"), from);
}

TEST_F(OperatorIT, HandlerWhoseHeartbeatStopsFailsHandlerLost) {
  for (int i = 0; i < 2; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator();
  Create(kube::resources::kVirtualMachines, Vm(ns_, "web", 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"web"}));
  driver_->Hold(true);
  Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "orphaned", "web"));
  ASSERT_TRUE(WaitPhase("orphaned", "Scheduled"));
  driver_->SetHandlerAlive(VmNode("web"), false);  // the source handler dies
  ASSERT_TRUE(WaitPhase("orphaned", "Failed", 20s));
  EXPECT_EQ(Get(kube::resources::kVirtualMachineMigrations, "orphaned")["status"]["reason"],
            "HandlerLost");
}

// ADR 6 §3: a Running migration whose source handler is lost is never failed — its libvirt
// job may go on and succeed. After --running-handler-lost-timeout of observed silence the VMM
// is marked GuestLocationUnknown=True (a Warning Event, the gauge), stays Running, and the
// mark goes False when the handler is seen again. (Before: Failed HandlerLost.)
TEST_F(OperatorIT, RunningMigrationWhoseSourceHandlerIsLostIsMarkedNotFailed) {
  for (int i = 0; i < 2; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator({"--running-handler-lost-timeout", "3s"});
  Create(kube::resources::kVirtualMachines, Vm(ns_, "web", 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"web"}));
  const std::string source = VmNode("web");
  driver_->Hold(true);
  Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "lost", "web"));
  ASSERT_TRUE(WaitPhase("lost", "Scheduled"));
  // The source handler starts the job (what it writes), then dies.
  Json m = Get(kube::resources::kVirtualMachineMigrations, "lost");
  m["status"]["phase"] = "Running";
  ASSERT_TRUE(api_->UpdateStatus(kube::resources::kVirtualMachineMigrations, m).ok());
  driver_->SetHandlerAlive(source, false);
  auto unknown = [&](const std::string& status) {
    return ConditionOf(Get(kube::resources::kVirtualMachineMigrations, "lost"),
                       "GuestLocationUnknown")
               .value("status", "") == status;
  };
  ASSERT_TRUE(Eventually([&] { return unknown("True"); }, 30s));
  const Json c =
      ConditionOf(Get(kube::resources::kVirtualMachineMigrations, "lost"), "GuestLocationUnknown");
  EXPECT_EQ(c.value("reason", ""), "HandlerLost");
  EXPECT_NE(c.value("message", "").find(source), std::string::npos) << c.dump();
  EXPECT_EQ(Phase("lost"), "Running");
  EXPECT_TRUE(Eventually([&] { return Has(EventReasons(ns_, "lost"), "GuestLocationUnknown"); }));
  EXPECT_TRUE(
      Eventually([&] { return op_->Metric("ferry_migration_guest_location_unknown") == 1; }));
  std::this_thread::sleep_for(3s);  // well past the old HandlerLost deadline
  EXPECT_EQ(Phase("lost"), "Running");

  driver_->SetHandlerAlive(source, true);
  ASSERT_TRUE(Eventually([&] { return unknown("False"); }, 30s));
  EXPECT_EQ(
      ConditionOf(Get(kube::resources::kVirtualMachineMigrations, "lost"), "GuestLocationUnknown")
          .value("reason", ""),
      "HandlerSeen");
  EXPECT_EQ(Phase("lost"), "Running");
  EXPECT_TRUE(
      Eventually([&] { return op_->Metric("ferry_migration_guest_location_unknown") == 0; }));
}

}  // namespace
}  // namespace ferry::op::testing

// Evacuation end to end: a cordoned node with six VMs (a strict-affinity pair, a Shutdown VM,
// three to migrate) is drained; the pair blocks it until its group may move as a unit; the
// operator killed with SIGKILL mid-drain and restarted creates nothing twice.
#include <algorithm>
#include <map>
#include <set>

#include "operator_fixture.h"

namespace ferry::op::testing {
namespace {

Json Annotation(const Json& node) {
  const Json a = node["metadata"].value("annotations", Json::object());
  if (!a.contains("ferry.dev/evacuation")) return Json::object();
  return Json::parse(a["ferry.dev/evacuation"].get<std::string>(), nullptr, false);
}

std::set<std::string> BlockedVms(const Json& annotation) {
  std::set<std::string> out;
  for (const auto& b : annotation.value("blocked", Json::array())) out.insert(b.value("vm", ""));
  return out;
}

TEST_F(OperatorIT, DrainMovesWhatMayMoveStopsShutdownVmsAndReportsTheStrictPair) {
  driver_->AddNode({Node(0), 16, "32Gi"});
  driver_->Start();
  StartOperator();
  // Six VMs, all on the only node: a strict-affinity pair, a Shutdown VM, three to migrate.
  Create(kube::resources::kServerGroups, Group(ns_, "pair", "Affinity"));
  const std::vector<std::string> movers = {"m1", "m2", "m3"};
  for (const auto& v : {"pair-a", "pair-b"})
    Create(kube::resources::kVirtualMachines, Vm(ns_, v, 1, "1Gi", "pair"));
  Create(kube::resources::kVirtualMachines, Vm(ns_, "shut", 1, "1Gi", "", "Shutdown"));
  for (const auto& v : movers) Create(kube::resources::kVirtualMachines, Vm(ns_, v, 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"pair-a", "pair-b", "shut", "m1", "m2", "m3"}));
  for (int i = 1; i <= 2; ++i) driver_->AddNode({Node(i), 16, "32Gi"});
  const std::string drained = Node(0);
  driver_->Cordon(drained, true);

  // The three move (two at a time: the outbound limit), the Shutdown VM stops and keeps its
  // node, the pair stays and is reported.
  ASSERT_TRUE(Eventually(
      [&] {
        for (const auto& v : movers) {
          if (VmNode(v) == drained || VmNode(v).empty() || VmPhase(v) != "Running") return false;
        }
        return VmPhase("shut") == "Stopped";
      },
      40s));
  EXPECT_EQ(VmNode("shut"), drained) << "a stopped VM keeps its node";
  EXPECT_FALSE(GetVm("shut")["spec"]["running"].get<bool>());
  EXPECT_EQ(VmNode("pair-a"), drained);
  EXPECT_EQ(VmNode("pair-b"), drained);
  for (const auto& v : movers) {
    const Json h = GetVm(v)["status"].value("migrationHistory", Json::array());
    ASSERT_EQ(h.size(), 1u) << v;
    EXPECT_EQ(h[0]["result"], "Succeeded");
    EXPECT_EQ(h[0]["sourceNode"], drained);
    const std::string vmm_name = h[0]["migrationName"];
    EXPECT_EQ(vmm_name.rfind("evac-" + v + "-", 0), 0u) << vmm_name;
  }
  for (const auto& m : List(kube::resources::kVirtualMachineMigrations)) {
    EXPECT_EQ(m["spec"].value("trigger", ""), "Evacuation");
    EXPECT_EQ(m["metadata"]["labels"].value("ferry.dev/evacuation-node", ""), drained);
    const Json owner = m["metadata"]["ownerReferences"][0];
    EXPECT_EQ(owner["kind"], "VirtualMachine");
    EXPECT_EQ(owner["name"], m["spec"]["vmName"]);
    EXPECT_TRUE(owner.value("controller", false));
  }
  ASSERT_TRUE(Eventually([&] {
    const Json a = Annotation(Get(kube::resources::kNodes, drained));
    return a.value("remaining", -1) == 2 &&
           BlockedVms(a) == std::set<std::string>{ns_ + "/pair-a", ns_ + "/pair-b"};
  })) << Get(kube::resources::kNodes, drained)["metadata"].dump();
  ASSERT_TRUE(Eventually([&] {
    const Json c = ConditionOf(Get(kube::resources::kServerGroups, "pair"), "NodeLockBlocked");
    return c.value("status", "") == "True" && c.value("reason", "") == "StrictAffinity";
  })) << Get(kube::resources::kServerGroups, "pair").dump();
  ASSERT_TRUE(Eventually([&] {
    const auto reasons = EventReasons("default", drained);
    return Has(reasons, "EvacuationStarted") && Has(reasons, "Evacuating") &&
           Has(reasons, "EvacuationShutdown") && Has(reasons, "EvacuationBlocked");
  }));
  EXPECT_TRUE(Eventually([&] { return Has(EventReasons(ns_, "pair"), "NodeLockBlocked"); }));
  EXPECT_TRUE(Eventually([&] {
    return op_->Metric("ferry_evacuation_remaining_vms{node=\"" + drained + "\"}") == 2;
  }));

  // The group may move as a unit: both members go to one node, the drain completes.
  ASSERT_TRUE(
      api_->Patch(kube::resources::kServerGroups, ns_, "pair",
                  {{"metadata", {{"annotations", {{"ferry.dev/allow-group-move", "true"}}}}}})
          .ok());
  ASSERT_TRUE(Eventually(
      [&] {
        return VmNode("pair-a") != drained && VmNode("pair-a") == VmNode("pair-b") &&
               VmPhase("pair-a") == "Running" && VmPhase("pair-b") == "Running";
      },
      30s));
  ASSERT_TRUE(Eventually([&] {
    const Json a = Annotation(Get(kube::resources::kNodes, drained));
    return a.value("remaining", -1) == 0 && BlockedVms(a).empty();
  }));
  EXPECT_TRUE(
      Eventually([&] { return Has(EventReasons("default", drained), "EvacuationCompleted"); }));
  EXPECT_TRUE(Eventually([&] {
    return ConditionOf(Get(kube::resources::kServerGroups, "pair"), "NodeLockBlocked")
               .value("status", "") == "False";
  }));
  EXPECT_EQ(Get(kube::resources::kServerGroups, "pair")["status"].value("compliant", false), true);

  // Uncordon: the annotation goes, the drain says it stopped.
  driver_->Cordon(drained, false);
  ASSERT_TRUE(
      Eventually([&] { return Annotation(Get(kube::resources::kNodes, drained)).empty(); }));
  EXPECT_TRUE(
      Eventually([&] { return Has(EventReasons("default", drained), "EvacuationStopped"); }));
}

TEST_F(OperatorIT, OperatorKilledMidDrainRestartsWithoutDuplicateMigrations) {
  driver_->AddNode({Node(0), 16, "32Gi"});
  driver_->Start();
  StartOperator();
  std::vector<std::string> vms;
  for (int i = 0; i < 6; ++i) {
    vms.push_back("vm-" + std::to_string(i));
    Create(kube::resources::kVirtualMachines, Vm(ns_, vms.back(), 1, "1Gi"));
  }
  ASSERT_TRUE(WaitRunning(vms));
  for (int i = 1; i <= 3; ++i) driver_->AddNode({Node(i), 16, "32Gi"});
  const std::string drained = Node(0);
  // The handlers hold the first migrations in Scheduled: the drain is mid-way when the
  // operator dies (two VMMs created, four VMs waiting for a slot).
  driver_->Hold(true);
  driver_->Cordon(drained, true);
  ASSERT_TRUE(Eventually([&] {
    int scheduled = 0;
    for (const auto& m : List(kube::resources::kVirtualMachineMigrations)) {
      scheduled += m.value("status", Json::object()).value("phase", "") == "Scheduled" ? 1 : 0;
    }
    return scheduled == 2;
  }));
  op_->Kill(SIGKILL);
  {
    // Two, both Scheduled: the node's outbound limit held while the operator ran.
    const auto l = List(kube::resources::kVirtualMachineMigrations);
    std::string seen;
    for (const auto& m : l) {
      seen += "\n  " + m["metadata"].value("name", "") + " " +
              m["metadata"].value("creationTimestamp", "") + " " +
              m.value("status", Json::object()).dump().substr(0, 300);
    }
    EXPECT_EQ(l.size(), 2u) << "at the kill:" << seen;
  }
  driver_->Hold(false);  // the two run to Succeeded while no operator runs
  ASSERT_TRUE(Eventually([&] {
    int done = 0;
    for (const auto& m : List(kube::resources::kVirtualMachineMigrations)) {
      done += m.value("status", Json::object()).value("phase", "") == "Succeeded" ? 1 : 0;
    }
    return done == 2;
  }));
  StartOperator();
  ASSERT_TRUE(Eventually(
      [&] {
        for (const auto& v : vms) {
          if (VmNode(v) == drained || VmPhase(v) != "Running") return false;
        }
        return true;
      },
      60s));
  // Exactly one evacuation VMM per VM, all Succeeded, each recorded once.
  std::map<std::string, int> per_vm;
  for (const auto& m : List(kube::resources::kVirtualMachineMigrations)) {
    ++per_vm[m["spec"]["vmName"].get<std::string>()];
    EXPECT_EQ(m["status"]["phase"], "Succeeded") << m["metadata"]["name"];
  }
  EXPECT_EQ(per_vm.size(), vms.size());
  for (const auto& [vm, n] : per_vm) EXPECT_EQ(n, 1) << vm;
  for (const auto& v : vms) {
    EXPECT_EQ(GetVm(v)["status"].value("migrationHistory", Json::array()).size(), 1u) << v;
  }
  ASSERT_TRUE(Eventually([&] {
    return Annotation(Get(kube::resources::kNodes, drained)).value("remaining", -1) == 0;
  }));
}

}  // namespace
}  // namespace ferry::op::testing

// Identity is the uid (docs/adr/0006 §1, §8), end to end: a second migration queued behind a
// first starts where the first ended; a migration name reused after deletion moves the VM
// again; a VM deleted and re-created inherits nothing from its predecessor's migrations; names
// longer than a label value (a 253-character VM, a 253-character ServerGroup) migrate.
#include <set>

#include "api/time.h"
#include "operator_fixture.h"

namespace ferry::op::testing {
namespace {

class IdentityIT : public OperatorIT {
 protected:
  Json GetVmm(const std::string& name) {
    return Get(kube::resources::kVirtualMachineMigrations, name);
  }
  // Writes `phase` as a handler would (the driver held), retrying on 409.
  void SetPhase(const std::string& vmm, const std::string& phase) {
    ASSERT_TRUE(Eventually([&] {
      Json m = GetVmm(vmm);
      if (m.empty()) return false;
      m["status"]["phase"] = phase;
      m["status"]["phaseTransitionTime"] = api::FormatTime(std::chrono::system_clock::now());
      if (phase == "Running") m["status"]["startTime"] = m["status"]["phaseTransitionTime"];
      if (phase == "Succeeded") m["status"]["completionTime"] = m["status"]["phaseTransitionTime"];
      return api_->UpdateStatus(kube::resources::kVirtualMachineMigrations, m).ok();
    }));
  }
  bool HasFinalizer(const std::string& vmm) {
    return GetVmm(vmm)["metadata"].contains("finalizers");
  }
  Json History(const std::string& vm) {
    return GetVm(vm).value("status", Json::object()).value("migrationHistory", Json::array());
  }
};

// The defect: the second VMM was admitted the moment the first was Succeeded, before the
// operator flipped the VM's node: it ran node-a -> node-a ("Domain not found" on libvirt).
TEST_F(IdentityIT, BackToBackMigrationsEachStartWhereTheLastEnded) {
  for (int i = 0; i < 3; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator();
  Create(kube::resources::kVirtualMachines, Vm(ns_, "web", 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"web"}));
  Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "first", "web"));
  Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "second", "web"));
  ASSERT_TRUE(WaitPhase("first", "Succeeded", 60s));
  ASSERT_TRUE(WaitPhase("second", "Succeeded", 60s));
  const Json a = GetVmm("first")["status"];
  const Json b = GetVmm("second")["status"];
  EXPECT_NE(a["sourceNode"], a["targetNode"]);
  EXPECT_NE(b["sourceNode"], b["targetNode"]);
  // One ran after the other: it left from the node the other brought the VM to.
  const bool first_then_second = b["sourceNode"] == a["targetNode"];
  const bool second_then_first = a["sourceNode"] == b["targetNode"];
  EXPECT_TRUE(first_then_second || second_then_first) << a.dump() << "\n" << b.dump();
  ASSERT_TRUE(Eventually([&] { return History("web").size() == 2; }));
  const Json h = History("web");
  EXPECT_EQ(h[0]["targetNode"], h[1]["sourceNode"]);
  EXPECT_EQ(VmNode("web"), h[1]["targetNode"].get<std::string>());
}

// The defect: a VMM created again under a deleted one's name ended Succeeded, but "already
// recorded" matched the old record by name: no node flip, the guest ran unmanaged.
TEST_F(IdentityIT, AReusedMigrationNameMovesTheVmAgain) {
  for (int i = 0; i < 2; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator();
  Create(kube::resources::kVirtualMachines, Vm(ns_, "web", 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"web"}));
  const std::string a = VmNode("web");
  Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "move", "web"));
  ASSERT_TRUE(WaitPhase("move", "Succeeded"));
  ASSERT_TRUE(Eventually([&] { return !HasFinalizer("move"); }));
  const std::string b = VmNode("web");
  ASSERT_NE(a, b);
  ASSERT_TRUE(api_->Delete(kube::resources::kVirtualMachineMigrations, ns_, "move").ok());
  ASSERT_TRUE(Eventually([&] { return GetVmm("move").empty(); }));

  Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "move", "web"));
  ASSERT_TRUE(WaitPhase("move", "Succeeded"));
  ASSERT_TRUE(Eventually([&] { return VmNode("web") == a; }))
      << "the VM stays on " << VmNode("web") << "; history " << History("web").dump();
  ASSERT_TRUE(Eventually([&] { return !HasFinalizer("move"); }));
  const Json h = History("web");
  ASSERT_EQ(h.size(), 2u) << h.dump();
  EXPECT_EQ(h[0]["migrationName"], "move");
  EXPECT_EQ(h[1]["migrationName"], "move");
  EXPECT_NE(h[0]["migrationUID"], h[1]["migrationUID"]);
  EXPECT_EQ(h[1]["migrationUID"], GetVmm("move")["metadata"]["uid"]);
  EXPECT_TRUE(Eventually([&] { return VmPhase("web") == "Running"; }));
}

// The VM is deleted while a migration of it runs and created again under the same name: the
// new VM is placed and boots, a migration of it is not held behind the old one, and the old
// one's outcome (here Succeeded, as its handler reports) is never recorded on the new VM nor
// flips it; the old one's finalizer goes.
TEST_F(IdentityIT, ARecreatedVmInheritsNothingFromItsPredecessorsMigrations) {
  for (int i = 0; i < 2; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator();
  Create(kube::resources::kVirtualMachines, Vm(ns_, "web", 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"web"}));
  const std::string old_uid = GetVm("web")["metadata"]["uid"];
  driver_->Hold(true);
  Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "old", "web"));
  ASSERT_TRUE(WaitPhase("old", "Scheduled"));
  EXPECT_EQ(GetVmm("old")["status"].value("vmUID", ""), old_uid);
  SetPhase("old", "Running");
  ASSERT_TRUE(api_->Delete(kube::resources::kVirtualMachines, ns_, "web").ok());
  ASSERT_TRUE(Eventually([&] { return GetVm("web").empty(); }));

  Create(kube::resources::kVirtualMachines, Vm(ns_, "web", 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"web"})) << GetVm("web").dump();
  ASSERT_NE(GetVm("web")["metadata"]["uid"], old_uid);
  const std::string node = VmNode("web");
  Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "new", "web"));
  ASSERT_TRUE(WaitPhase("new", "Scheduled")) << GetVmm("new")["status"].dump();

  SetPhase("old", "Succeeded");  // its handler finished it after all
  ASSERT_TRUE(Eventually([&] { return !HasFinalizer("old"); }))
      << "released without a record: the VM of that name is another VM";
  EXPECT_TRUE(History("web").empty()) << History("web").dump();
  EXPECT_EQ(VmNode("web"), node);
  EXPECT_EQ(GetVm("web")["status"].value("activeMigration", ""), "new");

  driver_->Hold(false);
  ASSERT_TRUE(WaitPhase("new", "Succeeded"));
  ASSERT_TRUE(Eventually([&] { return History("web").size() == 1; }));
  EXPECT_EQ(History("web")[0]["migrationName"], "new");
}

// A 253-character VM name does not fit a label (63): the VMM stayed "" forever on 422s.
TEST_F(IdentityIT, AVmWithA253CharacterNameMigrates) {
  for (int i = 0; i < 2; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator();
  const std::string name = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                           std::string(63, 'c') + "." + std::string(61, 'd');
  ASSERT_EQ(name.size(), 253u);
  Create(kube::resources::kVirtualMachines, Vm(ns_, name, 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({name}));
  const std::string from = VmNode(name);
  Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "move", name));
  ASSERT_TRUE(WaitPhase("move", "Succeeded")) << GetVmm("move")["status"].dump();
  ASSERT_TRUE(Eventually([&] { return VmNode(name) != from; }));
  ASSERT_TRUE(Eventually([&] { return !HasFinalizer("move"); }));
  const Json md = GetVmm("move")["metadata"];
  const std::string label = md["labels"]["ferry.dev/vm"];
  EXPECT_EQ(label.size(), 42u);
  EXPECT_EQ(label.rfind("h-", 0), 0u) << label;
  EXPECT_EQ(md["annotations"]["ferry.dev/vm"], name);
  EXPECT_EQ(History(name).size(), 1u);
}

// A drain moves a strict-affinity group whose name (253 characters) does not fit the
// ferry.dev/group-move label: the evacuation VMMs were refused (422) and nothing moved.
TEST_F(IdentityIT, AGroupWithA253CharacterNameMovesAsAUnit) {
  driver_->AddNode({Node(0), 16, "32Gi"});
  driver_->Start();
  StartOperator();
  const std::string group = std::string(126, 'g') + "." + std::string(126, 'h');
  ASSERT_EQ(group.size(), 253u);
  Json g = Group(ns_, group, "Affinity");
  g["metadata"]["annotations"] = {{"ferry.dev/allow-group-move", "true"}};
  Create(kube::resources::kServerGroups, g);
  for (const auto& v : {"pair-a", "pair-b"})
    Create(kube::resources::kVirtualMachines, Vm(ns_, v, 1, "1Gi", group));
  ASSERT_TRUE(WaitRunning({"pair-a", "pair-b"}));
  for (int i = 1; i <= 2; ++i) driver_->AddNode({Node(i), 16, "32Gi"});
  driver_->Cordon(Node(0), true);
  ASSERT_TRUE(Eventually(
      [&] {
        return VmNode("pair-a") != Node(0) && VmNode("pair-a") == VmNode("pair-b") &&
               VmPhase("pair-a") == "Running" && VmPhase("pair-b") == "Running";
      },
      40s));
  std::set<std::string> labels;
  for (const auto& m : List(kube::resources::kVirtualMachineMigrations)) {
    labels.insert(m["metadata"]["labels"].value("ferry.dev/group-move", ""));
    EXPECT_EQ(m["metadata"]["annotations"].value("ferry.dev/group-move", ""), group);
  }
  ASSERT_EQ(labels.size(), 1u);
  EXPECT_EQ(labels.begin()->rfind("h-", 0), 0u);
}

}  // namespace
}  // namespace ferry::op::testing

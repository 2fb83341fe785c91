// Deletion always completes (docs/adr/0006 §6), end to end: a half-admitted migration
// (finalizer written, status not) deleted is cancelled and lets the next one go; a VM deleted
// in the foreground (ownerReferences + propagationPolicy Foreground, as Argo CD prunes) still
// has its migrations' outcomes recorded — a success still flips its node — so their
// finalizers go and the deletion finishes. The cluster has no garbage collector: the test
// plays its part (deleting the dependents, then the owner's foregroundDeletion finalizer).
#include "api/time.h"
#include "operator_fixture.h"

namespace ferry::op::testing {
namespace {

class DeletionIT : public OperatorIT {
 protected:
  Json GetVmm(const std::string& name) {
    return Get(kube::resources::kVirtualMachineMigrations, name);
  }
  void SetPhase(const std::string& vmm, const std::string& phase) {
    ASSERT_TRUE(Eventually([&] {
      Json m = GetVmm(vmm);
      if (m.empty()) return false;
      m["status"]["phase"] = phase;
      m["status"]["phaseTransitionTime"] = api::FormatTime(std::chrono::system_clock::now());
      if (phase == "Succeeded") m["status"]["completionTime"] = m["status"]["phaseTransitionTime"];
      return api_->UpdateStatus(kube::resources::kVirtualMachineMigrations, m).ok();
    }));
  }
  // A VMM owned by VM `vm` (as the evacuation controller makes them).
  Json Owned(const std::string& name, const std::string& vm) {
    Json m = Vmm(ns_, name, vm);
    m["metadata"]["ownerReferences"] = {{{"apiVersion", "ferry.dev/v1alpha1"},
                                         {"kind", "VirtualMachine"},
                                         {"name", vm},
                                         {"uid", GetVm(vm)["metadata"]["uid"]},
                                         {"controller", true},
                                         {"blockOwnerDeletion", true}}};
    return m;
  }
  bool Gone(const kube::ResourceType& rt, const std::string& name) {
    auto r = api_->Get(rt, ns_, name);
    return !r.ok() && r.status().code() == StatusCode::kNotFound;
  }
};

// The defect: deleted before its status was written, it was never cancelled (admission
// ignored deleted VMMs) and, holding its finalizer, blocked every later migration of the VM.
TEST_F(DeletionIT, AHalfAdmittedMigrationDeletedIsCancelledAndTheNextOneRuns) {
  for (int i = 0; i < 2; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator();
  Create(kube::resources::kVirtualMachines, Vm(ns_, "web", 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"web"}));
  op_.reset();  // the operator stops between its finalizer write and its status write
  Json half = Vmm(ns_, "half", "web");
  half["metadata"]["finalizers"] = {"ferry.dev/migration"};
  half["metadata"]["labels"] = {{"ferry.dev/vm", "web"}};
  Create(kube::resources::kVirtualMachineMigrations, half);
  ASSERT_TRUE(api_->Delete(kube::resources::kVirtualMachineMigrations, ns_, "half").ok());
  Create(kube::resources::kVirtualMachineMigrations, Vmm(ns_, "next", "web"));

  StartOperator();
  ASSERT_TRUE(Eventually([&] { return Gone(kube::resources::kVirtualMachineMigrations, "half"); }))
      << GetVmm("half").dump();
  ASSERT_TRUE(WaitPhase("next", "Succeeded")) << GetVmm("next")["status"].dump();
  ASSERT_TRUE(Eventually(
      [&] { return GetVm("web")["status"].value("migrationHistory", Json::array()).size() == 2; }));
  const Json h = GetVm("web")["status"]["migrationHistory"];
  EXPECT_EQ(h[0]["migrationName"], "half");
  EXPECT_EQ(h[0]["result"], "Cancelled");
  EXPECT_EQ(h[1]["migrationName"], "next");
}

// The defect: the VM controller ignored VMs being deleted. A foreground deletion waits for the
// VM's migrations to go, their finalizers waited for the VM to record them: a deadlock; and a
// migration that succeeded after the deletion began never flipped the node, so the target's
// handler never took the guest it ran (nor removed it).
TEST_F(DeletionIT, ForegroundDeletionOfAVmWithMigrationsCompletes) {
  for (int i = 0; i < 2; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator();
  Create(kube::resources::kVirtualMachines, Vm(ns_, "moved", 1, "1Gi"));
  Create(kube::resources::kVirtualMachines, Vm(ns_, "waiting", 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"moved", "waiting"}));
  driver_->Hold(true);
  Create(kube::resources::kVirtualMachineMigrations, Owned("m", "moved"));
  Create(kube::resources::kVirtualMachineMigrations, Owned("w", "waiting"));
  ASSERT_TRUE(WaitPhase("m", "Scheduled"));
  ASSERT_TRUE(WaitPhase("w", "Scheduled"));
  const std::string target = GetVmm("m")["status"]["targetNode"];
  SetPhase("m", "Running");

  kube::DeleteOptions fg;
  fg.propagation_policy = "Foreground";
  for (const char* vm : {"moved", "waiting"})
    ASSERT_TRUE(api_->Delete(kube::resources::kVirtualMachines, ns_, vm, fg).ok());
  ASSERT_TRUE(GetVm("moved")["metadata"].contains("deletionTimestamp"));

  // "moved": its migration ends after the deletion began; the VM records it and flips.
  SetPhase("m", "Succeeded");
  ASSERT_TRUE(Eventually([&] { return !GetVmm("m")["metadata"].contains("finalizers"); }))
      << GetVm("moved").dump();
  const Json moved = GetVm("moved");
  EXPECT_EQ(moved["status"]["nodeName"], target);
  EXPECT_EQ(moved["metadata"]["labels"]["ferry.dev/node"], target)
      << "the target's handler selects the VM by this label to remove the guest";
  ASSERT_EQ(moved["status"]["migrationHistory"].size(), 1u);
  EXPECT_EQ(moved["status"]["migrationHistory"][0]["result"], "Succeeded");

  // "waiting": its migration had not started: it ends (VMNotFound), is recorded, let go.
  ASSERT_TRUE(WaitPhase("w", "Failed"));
  EXPECT_EQ(GetVmm("w")["status"]["reason"], "VMNotFound");
  ASSERT_TRUE(Eventually([&] { return !GetVmm("w")["metadata"].contains("finalizers"); }))
      << GetVm("waiting").dump();
  const Json waiting = GetVm("waiting");
  ASSERT_EQ(waiting["status"]["migrationHistory"].size(), 1u) << waiting.dump();
  EXPECT_EQ(waiting["status"]["migrationHistory"][0]["result"], "Failed");

  // The garbage collector's part: delete the dependents, wait for them, release the owners.
  for (const char* m : {"m", "w"}) {
    ASSERT_TRUE(api_->Delete(kube::resources::kVirtualMachineMigrations, ns_, m).ok());
    ASSERT_TRUE(Eventually([&] { return Gone(kube::resources::kVirtualMachineMigrations, m); }));
  }
  for (const char* vm : {"moved", "waiting"}) {
    ASSERT_TRUE(api_->Patch(kube::resources::kVirtualMachines, ns_, vm,
                            {{"metadata", {{"finalizers", nullptr}}}})
                    .ok());
    EXPECT_TRUE(Eventually([&] { return Gone(kube::resources::kVirtualMachines, vm); }));
  }
}

// A drain leaves a VM being deleted to its handler: no evacuation VMM for it (each one only
// failed VMNotFound, and with outcomes of deleting VMs recorded, a new name was tried after
// each). A finalizer of the test's keeps the VM in Terminating as a handler's would.
TEST_F(DeletionIT, ADrainDoesNotMigrateAVmBeingDeleted) {
  for (int i = 0; i < 2; ++i) driver_->AddNode({Node(i), 4, "8Gi"});
  driver_->Start();
  StartOperator();
  Json vm = Vm(ns_, "doomed", 1, "1Gi");
  vm["metadata"]["finalizers"] = {"ferry.dev/test-hold"};
  Create(kube::resources::kVirtualMachines, vm);
  Create(kube::resources::kVirtualMachines, Vm(ns_, "other", 1, "1Gi"));
  ASSERT_TRUE(WaitRunning({"doomed", "other"}));
  ASSERT_TRUE(api_->Delete(kube::resources::kVirtualMachines, ns_, "doomed").ok());
  const std::string node = VmNode("doomed");
  std::this_thread::sleep_for(1s);  // the operator's cache sees the deletion first
  driver_->Cordon(node, true);
  ASSERT_TRUE(Eventually([&] {
    const Json n = Get(kube::resources::kNodes, node);
    const Json a = n["metadata"].value("annotations", Json::object());
    return a.contains("ferry.dev/evacuation") &&
           Json::parse(a["ferry.dev/evacuation"].get<std::string>()).value("remaining", -1) == 0;
  })) << Get(kube::resources::kNodes, node)["metadata"].dump();
  // None — at most one from a cache that had not seen the deletion yet, which ends at once.
  int doomed = 0;
  for (const auto& m : List(kube::resources::kVirtualMachineMigrations)) {
    if (m["spec"].value("vmName", "") != "doomed") continue;
    ++doomed;
    EXPECT_EQ(m["status"].value("reason", ""), "VMNotFound") << m.dump();
  }
  EXPECT_LE(doomed, 1);
  driver_->Cordon(node, false);
  ASSERT_TRUE(api_->Patch(kube::resources::kVirtualMachines, ns_, "doomed",
                          {{"metadata", {{"finalizers", nullptr}}}})
                  .ok());
}

}  // namespace
}  // namespace ferry::op::testing

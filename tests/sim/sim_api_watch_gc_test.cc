// SimApiServer's watches (the watch cache's transitions for label-selected watches, 410 after
// compaction) and its garbage collector (background, foreground, orphan; identity by uid).
#include <vector>

#include "sim_api_test_util.h"

namespace ferry::sim::testing {
namespace {

using kube::DeleteOptions;
using Type = kube::WatchEvent::Type;

std::vector<Type> Types(const std::vector<kube::WatchEvent>& evs) {
  std::vector<Type> out;
  for (const auto& e : evs) out.push_back(e.type);
  return out;
}

TEST_F(SimApiTest, WatchEventsSinceReplaysTheLogForOneResourceAndNamespace) {
  Json a = MustCreate(res::kVirtualMachines, Vm("a"));   // rv 1
  MustCreate(res::kVirtualMachineMigrations, Vmm("m"));  // rv 2
  Json other = Vm("o");
  other["metadata"]["namespace"] = "other";
  MustCreate(res::kVirtualMachines, other);  // rv 3
  a["spec"]["cpus"] = 2;
  ASSERT_TRUE(server_.Update(res::kVirtualMachines, a).ok());                   // rv 4
  ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", "a", {}).ok());  // rv 5

  auto all = server_.WatchEventsSince(res::kVirtualMachines, "", "", 0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Types(*all),
            (std::vector<Type>{Type::kAdded, Type::kAdded, Type::kModified, Type::kDeleted}));
  auto def = server_.WatchEventsSince(res::kVirtualMachines, "default", "", 1);
  ASSERT_TRUE(def.ok());
  ASSERT_EQ(Types(*def), (std::vector<Type>{Type::kModified, Type::kDeleted}));
  EXPECT_EQ((*def)[0].object["spec"]["cpus"], 2);
  EXPECT_EQ(Rv((*def)[1].object), "5");  // the deletion's resourceVersion
  auto first = server_.WatchEventsSince(res::kVirtualMachines, "", "", 0, 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->size(), 1u);
  EXPECT_TRUE(server_.WatchEventsSince(res::kVirtualMachines, "", "", 5)->empty());
  EXPECT_EQ(server_.WatchEventsSince(res::kVirtualMachines, "", "a in (", 0).status().code(),
            StatusCode::kInvalid);
}

TEST_F(SimApiTest, SelectedWatchesSeeObjectsEnterAndLeaveTheSelection) {
  struct Case {
    const char* what;
    const char* before;        // label value before ("" = no label)
    const char* after;         // after the update; nullptr = the object is deleted
    std::vector<Type> events;  // what a watch of node=a sees for the second change
  };
  const std::vector<Case> cases = {
      {"stays selected", "a", "a", {Type::kModified}},
      {"enters", "b", "a", {Type::kAdded}},
      {"leaves", "a", "b", {Type::kDeleted}},
      {"never selected", "b", "c", {}},
      {"deleted while selected", "a", nullptr, {Type::kDeleted}},
      {"deleted while not selected", "b", nullptr, {}},
      {"label removed", "a", "", {Type::kDeleted}},
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string name = "w" + std::to_string(n++);
    Json labels = Json::object();
    if (*c.before) labels["node"] = c.before;
    Json vm = MustCreate(res::kVirtualMachines, Vm(name, labels));
    const int64_t from = server_.current_rv();
    if (c.after) {
      vm["metadata"]["labels"] = Json::object();
      if (*c.after) vm["metadata"]["labels"]["node"] = c.after;
      vm["spec"]["cpus"] = n;
      ASSERT_TRUE(server_.Update(res::kVirtualMachines, vm).ok()) << c.what;
    } else {
      ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", name, {}).ok()) << c.what;
    }
    auto evs = server_.WatchEventsSince(res::kVirtualMachines, "default", "node=a", from);
    ASSERT_TRUE(evs.ok()) << c.what;
    EXPECT_EQ(Types(*evs), c.events) << c.what;
    if (!evs->empty() && evs->front().type == Type::kDeleted) {
      // The real server sends the previous content with the event's resourceVersion.
      EXPECT_EQ(evs->front().object["metadata"]["labels"]["node"], "a") << c.what;
      EXPECT_FALSE(evs->front().object["spec"].contains("cpus")) << c.what;
      EXPECT_EQ(Rv(evs->front().object), std::to_string(server_.current_rv())) << c.what;
    }
  }
}

TEST_F(SimApiTest, WatchFromBeforeTheLastCompactionIsGone) {
  MustCreate(res::kVirtualMachines, Vm("a"));
  MustCreate(res::kVirtualMachines, Vm("b"));
  MustCreate(res::kVirtualMachines, Vm("c"));
  server_.Compact(2);
  EXPECT_EQ(server_.compacted_rv(), 2);
  ASSERT_EQ(server_.log().size(), 1u);
  EXPECT_EQ(server_.log()[0].rv, 3);
  auto gone = server_.WatchEventsSince(res::kVirtualMachines, "", "", 1);
  EXPECT_EQ(gone.status().code(), StatusCode::kGone);
  EXPECT_EQ(gone.status().http_status(), 410);
  auto ok = server_.WatchEventsSince(res::kVirtualMachines, "", "", 2);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 1u);
  server_.Compact(1);  // never backwards
  EXPECT_EQ(server_.compacted_rv(), 2);
  server_.Compact(100);  // never past the present
  EXPECT_EQ(server_.compacted_rv(), 3);
  EXPECT_TRUE(server_.log().empty());
}

TEST_F(SimApiTest, GarbageCollectorDeletesDependentsOfGoneOwners) {
  Json vm = MustCreate(res::kVirtualMachines, Vm("vm"));
  Json plain = Vmm("plain");
  plain["metadata"]["ownerReferences"] = {RefTo(vm)};
  MustCreate(res::kVirtualMachineMigrations, plain);
  Json held = Vmm("held");
  held["metadata"]["ownerReferences"] = {RefTo(vm)};
  held["metadata"]["finalizers"] = {"ferry.dev/migration"};
  MustCreate(res::kVirtualMachineMigrations, held);
  Json two = Vmm("two-owners");
  Json node = MustCreate(res::kNodes, {{"metadata", {{"name", "n"}}}});
  two["metadata"]["ownerReferences"] = {
      RefTo(vm, false),
      {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "n"}, {"uid", node["metadata"]["uid"]}}};
  MustCreate(res::kVirtualMachineMigrations, two);
  EXPECT_FALSE(server_.CollectGarbage());  // every owner is there

  ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", "vm", {}).ok());
  EXPECT_TRUE(server_.CollectGarbage());
  EXPECT_FALSE(Exists(res::kVirtualMachineMigrations, "plain"));
  // Its own finalizer holds a dependent: deleting, not gone.
  Json h = MustGet(res::kVirtualMachineMigrations, "held");
  EXPECT_TRUE(h["metadata"].contains("deletionTimestamp"));
  // A dependent with another owner only loses the reference to the gone one.
  Json t = MustGet(res::kVirtualMachineMigrations, "two-owners");
  ASSERT_EQ(t["metadata"]["ownerReferences"].size(), 1u);
  EXPECT_EQ(t["metadata"]["ownerReferences"][0]["kind"], "Node");
  EXPECT_FALSE(server_.CollectGarbage());
}

TEST_F(SimApiTest, GarbageCollectorComparesOwnersByUid) {
  Json old_vm = MustCreate(res::kVirtualMachines, Vm("vm"));
  Json vmm = Vmm("evac");
  vmm["metadata"]["ownerReferences"] = {RefTo(old_vm)};
  MustCreate(res::kVirtualMachineMigrations, vmm);
  ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", "vm", {}).ok());
  MustCreate(res::kVirtualMachines, Vm("vm"));  // same name, new uid
  EXPECT_TRUE(server_.CollectGarbage());
  EXPECT_FALSE(Exists(res::kVirtualMachineMigrations, "evac"));
  // An owner of a kind the server does not serve: the collector cannot judge it.
  Json odd = Vmm("odd");
  odd["metadata"]["ownerReferences"] = {
      {{"apiVersion", "x.io/v1"}, {"kind", "Thing"}, {"name", "t"}, {"uid", "u"}}};
  MustCreate(res::kVirtualMachineMigrations, odd);
  EXPECT_FALSE(server_.CollectGarbage());
  EXPECT_TRUE(Exists(res::kVirtualMachineMigrations, "odd"));
}

TEST_F(SimApiTest, ForegroundDeletionWaitsForBlockingDependents) {
  Json vm = Vm("vm");
  vm["metadata"]["finalizers"] = {"ferry.dev/vm"};
  vm = MustCreate(res::kVirtualMachines, vm);
  Json blocking = Vmm("blocking");
  blocking["metadata"]["ownerReferences"] = {RefTo(vm, true)};
  blocking["metadata"]["finalizers"] = {"ferry.dev/migration"};
  MustCreate(res::kVirtualMachineMigrations, blocking);
  Json loose = Vmm("loose");
  loose["metadata"]["ownerReferences"] = {RefTo(vm, false)};
  MustCreate(res::kVirtualMachineMigrations, loose);

  DeleteOptions fg;
  fg.propagation_policy = "Foreground";
  ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", "vm", fg).ok());
  EXPECT_EQ(MustGet(res::kVirtualMachines, "vm")["metadata"]["finalizers"],
            Json({"ferry.dev/vm", "foregroundDeletion"}));
  EXPECT_TRUE(server_.CollectGarbage());
  EXPECT_FALSE(Exists(res::kVirtualMachineMigrations, "loose"));
  EXPECT_TRUE(MustGet(res::kVirtualMachineMigrations, "blocking")["metadata"].contains(
      "deletionTimestamp"));
  EXPECT_TRUE(HasFinalizerNamed(MustGet(res::kVirtualMachines, "vm"), "foregroundDeletion"));
  EXPECT_FALSE(server_.CollectGarbage());  // blocked until the dependent's finalizer goes

  ASSERT_TRUE(server_
                  .Patch(res::kVirtualMachineMigrations, "default", "blocking",
                         {{"metadata", {{"finalizers", nullptr}}}})
                  .ok());
  EXPECT_FALSE(Exists(res::kVirtualMachineMigrations, "blocking"));
  EXPECT_TRUE(server_.CollectGarbage());
  // Its own finalizer still holds the owner; the collector's is gone.
  Json owner = MustGet(res::kVirtualMachines, "vm");
  EXPECT_EQ(owner["metadata"]["finalizers"], Json({"ferry.dev/vm"}));
  ASSERT_TRUE(
      server_
          .Patch(res::kVirtualMachines, "default", "vm", {{"metadata", {{"finalizers", nullptr}}}})
          .ok());
  EXPECT_FALSE(Exists(res::kVirtualMachines, "vm"));
}

TEST_F(SimApiTest, ForegroundOwnerWithoutOtherFinalizersDisappears) {
  Json vm = MustCreate(res::kVirtualMachines, Vm("vm"));
  Json dep = Vmm("dep");
  dep["metadata"]["ownerReferences"] = {RefTo(vm, true)};
  MustCreate(res::kVirtualMachineMigrations, dep);
  DeleteOptions fg;
  fg.propagation_policy = "Foreground";
  ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", "vm", fg).ok());
  EXPECT_TRUE(Exists(res::kVirtualMachines, "vm"));
  EXPECT_TRUE(server_.CollectGarbage());
  EXPECT_FALSE(Exists(res::kVirtualMachineMigrations, "dep"));
  EXPECT_FALSE(Exists(res::kVirtualMachines, "vm"));
}

TEST_F(SimApiTest, ForegroundDeletionCascadesThroughDependentsThatOwnOthers) {
  Json vm = MustCreate(res::kVirtualMachines, Vm("vm"));
  Json vmm = Vmm("vmm");
  vmm["metadata"]["ownerReferences"] = {RefTo(vm, true)};
  vmm = MustCreate(res::kVirtualMachineMigrations, vmm);
  Json w = {{"apiVersion", "example.com/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", "w"}, {"namespace", "default"}}}};
  w["metadata"]["ownerReferences"] = {RefTo(vmm, true)};
  MustCreate(kWidgets, w);
  DeleteOptions fg;
  fg.propagation_policy = "Foreground";
  ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", "vm", fg).ok());
  EXPECT_TRUE(server_.CollectGarbage());
  // The dependent that owns others is deleted in the foreground too.
  EXPECT_TRUE(
      HasFinalizerNamed(MustGet(res::kVirtualMachineMigrations, "vmm"), "foregroundDeletion"));
  int steps = 1;
  while (server_.CollectGarbage()) ASSERT_LT(++steps, 10);
  EXPECT_FALSE(Exists(kWidgets, "w"));
  EXPECT_FALSE(Exists(res::kVirtualMachineMigrations, "vmm"));
  EXPECT_FALSE(Exists(res::kVirtualMachines, "vm"));
}

TEST_F(SimApiTest, OrphanDeletionKeepsDependentsWithoutTheReference) {
  Json vm = MustCreate(res::kVirtualMachines, Vm("vm"));
  Json dep = Vmm("dep");
  dep["metadata"]["ownerReferences"] = {RefTo(vm)};
  MustCreate(res::kVirtualMachineMigrations, dep);
  DeleteOptions orphan;
  orphan.propagation_policy = "Orphan";
  ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", "vm", orphan).ok());
  EXPECT_TRUE(server_.CollectGarbage());
  EXPECT_FALSE(Exists(res::kVirtualMachines, "vm"));
  Json kept = MustGet(res::kVirtualMachineMigrations, "dep");
  EXPECT_FALSE(kept["metadata"].contains("ownerReferences"));
  EXPECT_FALSE(server_.CollectGarbage());
}

TEST_F(SimApiTest, SameCallsGiveTheSameLog) {
  auto run = [](SimApiServer& s) {
    s.Register(res::kVirtualMachines, true);
    for (const char* n : {"c", "a", "b"}) (void)s.Create(res::kVirtualMachines, "default", Vm(n));
    (void)s.Patch(res::kVirtualMachines, "default", "a", {{"spec", {{"cpus", 1}}}});
    (void)s.Delete(res::kVirtualMachines, "default", "b", {});
    return s.log();
  };
  FakeClock c1, c2;
  SimApiServer s1(c1), s2(c2);
  const auto l1 = run(s1), l2 = run(s2);
  ASSERT_EQ(l1.size(), l2.size());
  for (size_t i = 0; i < l1.size(); ++i) {
    EXPECT_EQ(l1[i].rv, l2[i].rv);
    EXPECT_EQ(l1[i].object, l2[i].object);
    EXPECT_EQ(l1[i].previous, l2[i].previous);
  }
}

}  // namespace
}  // namespace ferry::sim::testing

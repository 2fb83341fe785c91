// SimApiServer's patches (merge, JSON with a resourceVersion precondition, strategic merge),
// lists (selectors, pages over a snapshot, 410 after compaction) and SimClient's faults.
#include <vector>

#include "sim_api_test_util.h"

namespace ferry::sim::testing {
namespace {

using kube::PatchType;

TEST_F(SimApiTest, MergePatchChangesSpecAndBumpsGeneration) {
  MustCreate(res::kVirtualMachines, Vm("a"));
  auto r = server_.Patch(res::kVirtualMachines, "default", "a",
                         {{"spec", {{"cpus", 2}}}, {"status", {{"phase", "Running"}}}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["spec"]["cpus"], 2);
  EXPECT_EQ((*r)["spec"]["running"], true);
  EXPECT_FALSE(r->contains("status"));  // the main resource ignores status
  EXPECT_EQ((*r)["metadata"]["generation"], 2);
  // RFC 7386: null removes.
  auto removed =
      server_.Patch(res::kVirtualMachines, "default", "a", {{"spec", {{"cpus", nullptr}}}});
  ASSERT_TRUE(removed.ok());
  EXPECT_FALSE((*removed)["spec"].contains("cpus"));
}

TEST_F(SimApiTest, PatchOfTheStatusSubresourceChangesOnlyStatus) {
  MustCreate(res::kVirtualMachines, Vm("a"));
  auto r = server_.Patch(res::kVirtualMachines, "default", "a",
                         {{"spec", {{"running", false}}},
                          {"metadata", {{"labels", {{"x", "y"}}}}},
                          {"status", {{"phase", "Running"}}}},
                         PatchType::kMerge, true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["status"]["phase"], "Running");
  EXPECT_EQ((*r)["spec"]["running"], true);
  EXPECT_FALSE((*r)["metadata"]["labels"].contains("x"));
  EXPECT_EQ((*r)["metadata"]["generation"], 1);
  EXPECT_EQ(server_.Patch(kWidgets, "default", "w", {{"status", {}}}, PatchType::kMerge, true)
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_F(SimApiTest, MergePatchWithAStaleResourceVersionIs409) {
  Json vm = MustCreate(res::kVirtualMachines, Vm("a"));
  Json fresh = {{"metadata", {{"resourceVersion", Rv(vm)}}}, {"spec", {{"cpus", 1}}}};
  ASSERT_TRUE(server_.Patch(res::kVirtualMachines, "default", "a", fresh).ok());
  auto stale = server_.Patch(res::kVirtualMachines, "default", "a", fresh);
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  EXPECT_EQ(stale.status().http_status(), 409);
}

TEST_F(SimApiTest, JsonPatchWithAResourceVersionPreconditionIs409WhenStale) {
  // lib/kube/writes.cc's JsonPatch::Against: "replace" of /metadata/resourceVersion.
  Json vm = MustCreate(res::kVirtualMachines, Vm("a"));
  Json ops =
      Json::array({{{"op", "replace"}, {"path", "/metadata/resourceVersion"}, {"value", Rv(vm)}},
                   {{"op", "add"}, {"path", "/spec/cpus"}, {"value", 2}}});
  auto ok = server_.Patch(res::kVirtualMachines, "default", "a", ops, PatchType::kJson);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)["spec"]["cpus"], 2);
  auto stale = server_.Patch(res::kVirtualMachines, "default", "a", ops, PatchType::kJson);
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  EXPECT_EQ(MustGet(res::kVirtualMachines, "a")["metadata"]["generation"], 2);
}

TEST_F(SimApiTest, JsonPatchThatCannotApplyIs422) {
  MustCreate(res::kVirtualMachines, Vm("a"));
  const std::vector<Json> bad = {
      Json::array({{{"op", "test"}, {"path", "/spec/running"}, {"value", false}}}),
      Json::array({{{"op", "remove"}, {"path", "/spec/missing"}}}),
      Json::array({{{"op", "replace"}, {"path", "/status/phase"}, {"value", "x"}}}),
      Json::array({{{"op", "jump"}, {"path", "/spec"}}}),
  };
  for (const auto& ops : bad) {
    auto r = server_.Patch(res::kVirtualMachines, "default", "a", ops, PatchType::kJson);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalid) << ops.dump();
  }
  auto test_ok = server_.Patch(
      res::kVirtualMachines, "default", "a",
      Json::array({{{"op", "test"}, {"path", "/spec/running"}, {"value", true}},
                   {{"op", "add"}, {"path", "/metadata/finalizers"}, {"value", {"ferry.dev/x"}}}}),
      PatchType::kJson);
  ASSERT_TRUE(test_ok.ok()) << test_ok.status();
  EXPECT_EQ((*test_ok)["metadata"]["finalizers"][0], "ferry.dev/x");
  EXPECT_EQ(server_.Patch(res::kVirtualMachines, "default", "gone", Json::array(), PatchType::kJson)
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_F(SimApiTest, StrategicMergeIsRefusedForCustomResourcesAndAMergeForBuiltIns) {
  MustCreate(res::kVirtualMachines, Vm("a"));
  auto cr = server_.Patch(res::kVirtualMachines, "default", "a", {{"spec", {{"cpus", 1}}}},
                          PatchType::kStrategicMerge);
  EXPECT_FALSE(cr.ok());
  EXPECT_EQ(cr.status().http_status(), 415);
  MustCreate(res::kNodes, {{"metadata", {{"name", "n"}, {"labels", {{"a", "1"}}}}}});
  auto node = server_.Patch(res::kNodes, "", "n", {{"metadata", {{"labels", {{"b", "2"}}}}}},
                            PatchType::kStrategicMerge);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ((*node)["metadata"]["labels"], Json({{"a", "1"}, {"b", "2"}}));
}

TEST_F(SimApiTest, PatchRemovingTheLastFinalizerOfADeletingObjectRemovesIt) {
  Json vm = Vm("a");
  vm["metadata"]["finalizers"] = {"ferry.dev/x"};
  MustCreate(res::kVirtualMachines, vm);
  ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", "a", {}).ok());
  auto r = server_.Patch(res::kVirtualMachines, "default", "a",
                         {{"metadata", {{"finalizers", nullptr}}}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(Exists(res::kVirtualMachines, "a"));
}

TEST_F(SimApiTest, ListFiltersByNamespaceLabelsAndFields) {
  MustCreate(res::kVirtualMachines, Vm("a", {{"ferry.dev/node", "n1"}}));
  MustCreate(res::kVirtualMachines, Vm("b", {{"ferry.dev/node", "n2"}}));
  Json other = Vm("a", {{"ferry.dev/node", "n1"}});
  other["metadata"]["namespace"] = "other";
  MustCreate(res::kVirtualMachines, other);
  auto names = [&](const std::string& ns, const std::string& labels, const std::string& fields) {
    kube::ListOptions o;
    o.label_selector = labels;
    o.field_selector = fields;
    auto r = server_.List(res::kVirtualMachines, ns, o);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::string> out;
    if (r.ok()) {
      EXPECT_EQ(r->resource_version, std::to_string(server_.current_rv()));
      for (const auto& i : r->items) {
        out.push_back(i["metadata"]["namespace"].get<std::string>() + "/" +
                      i["metadata"]["name"].get<std::string>());
      }
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names("", "", ""), (V{"default/a", "default/b", "other/a"}));
  EXPECT_EQ(names("default", "", ""), (V{"default/a", "default/b"}));
  EXPECT_EQ(names("", "ferry.dev/node=n1", ""), (V{"default/a", "other/a"}));
  EXPECT_EQ(names("", "ferry.dev/node!=n1", ""), (V{"default/b"}));
  EXPECT_EQ(names("", "", "metadata.name=a"), (V{"default/a", "other/a"}));
  EXPECT_EQ(names("", "", "metadata.name=a,metadata.namespace!=default"), (V{"other/a"}));
  kube::ListOptions bad;
  bad.field_selector = "spec.running=true";
  EXPECT_EQ(server_.List(res::kVirtualMachines, "", bad).status().code(), StatusCode::kInvalid);
  bad = {};
  bad.label_selector = "a in (b";
  EXPECT_EQ(server_.List(res::kVirtualMachines, "", bad).status().code(), StatusCode::kInvalid);
}

TEST_F(SimApiTest, ListOrdersAsEtcdKeys) {
  // "/registry/.../a-b/x" sorts before "/registry/.../a/x": '-' < '/'.
  for (const char* ns : {"a", "a-b"}) {
    Json vm = Vm("x");
    vm["metadata"]["namespace"] = ns;
    MustCreate(res::kVirtualMachines, vm);
  }
  auto all = server_.All(res::kVirtualMachines);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["metadata"]["namespace"], "a-b");
  auto list = server_.List(res::kVirtualMachines, "", {});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->items[0]["metadata"]["namespace"], "a-b");
}

TEST_F(SimApiTest, ListPagesServeOneSnapshotUntilCompacted) {
  for (const char* n : {"a", "b", "c", "d", "e"}) MustCreate(res::kVirtualMachines, Vm(n));
  kube::ListOptions o;
  o.limit = 2;
  auto p1 = server_.List(res::kVirtualMachines, "default", o);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->items.size(), 2u);
  ASSERT_FALSE(p1->continue_token.empty());
  EXPECT_EQ(p1->resource_version, "5");
  // Changes after the first page do not show in the next ones.
  ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", "c", {}).ok());
  MustCreate(res::kVirtualMachines, Vm("bb"));
  Json d = MustGet(res::kVirtualMachines, "d");
  d["spec"]["cpus"] = 9;
  ASSERT_TRUE(server_.Update(res::kVirtualMachines, d).ok());
  o.continue_token = p1->continue_token;
  auto p2 = server_.List(res::kVirtualMachines, "default", o);
  ASSERT_TRUE(p2.ok()) << p2.status();
  ASSERT_EQ(p2->items.size(), 2u);
  EXPECT_EQ(p2->items[0]["metadata"]["name"], "c");
  EXPECT_EQ(p2->items[1]["metadata"]["name"], "d");
  EXPECT_FALSE(p2->items[1]["spec"].contains("cpus"));
  EXPECT_EQ(p2->resource_version, "5");
  o.continue_token = p2->continue_token;
  auto p3 = server_.List(res::kVirtualMachines, "default", o);
  ASSERT_TRUE(p3.ok());
  ASSERT_EQ(p3->items.size(), 1u);
  EXPECT_EQ(p3->items[0]["metadata"]["name"], "e");
  EXPECT_TRUE(p3->continue_token.empty());
  // Once the snapshot is compacted away, the token is 410.
  server_.Compact(server_.current_rv());
  o.continue_token = p1->continue_token;
  EXPECT_EQ(server_.List(res::kVirtualMachines, "default", o).status().code(), StatusCode::kGone);
}

TEST_F(SimApiTest, ClientPartitionCommitsNothing) {
  std::vector<CallInfo> seen;
  SimClient c(server_, "handler/node-a", [&](const CallInfo& i) {
    seen.push_back(i);
    return Fault::kUnavailable;
  });
  auto r = c.Create(res::kVirtualMachines, "default", Vm("a"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(Exists(res::kVirtualMachines, "a"));
  EXPECT_EQ(c.Get(res::kVirtualMachines, "default", "a").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(c.calls(), 2u);
  EXPECT_EQ(c.lost_responses(), 0u);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].client, "handler/node-a");
  EXPECT_EQ(seen[0].verb, "create");
  EXPECT_EQ(seen[0].resource, "virtualmachines");
  EXPECT_TRUE(seen[0].write);
  EXPECT_FALSE(seen[1].write);
}

TEST_F(SimApiTest, ClientLostResponseCommitsTheWrite) {
  SimClient c(server_, "operator-0", [](const CallInfo&) { return Fault::kLoseResponse; });
  auto r = c.Create(res::kVirtualMachines, "default", Vm("a"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Exists(res::kVirtualMachines, "a"));
  EXPECT_EQ(c.lost_responses(), 1u);
  // A write the server refused is not counted as committed.
  EXPECT_EQ(c.Create(res::kVirtualMachines, "default", Vm("a")).status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(c.lost_responses(), 1u);
  EXPECT_EQ(c.Delete(res::kVirtualMachines, "default", "a").code(), StatusCode::kUnavailable);
  EXPECT_FALSE(Exists(res::kVirtualMachines, "a"));
  EXPECT_EQ(c.lost_responses(), 2u);
  EXPECT_EQ(c.calls(), 3u);
}

TEST_F(SimApiTest, ClientWithoutFaultsForwardsAndDoesNotServeWatches) {
  SimClient c(server_, "operator-0");
  auto r = c.Create(res::kVirtualMachines, "default", Vm("a"));
  ASSERT_TRUE(r.ok());
  auto p = c.Patch(res::kVirtualMachines, "default", "a", {{"spec", {{"cpus", 1}}}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(MustGet(res::kVirtualMachines, "a"), *p);
  Status w = c.Watch(
      res::kVirtualMachines, "default", {}, [](const kube::WatchEvent&) { return true; },
      std::stop_token());
  EXPECT_FALSE(w.ok());
  // Faults can change between calls.
  c.set_faults([](const CallInfo& i) { return i.write ? Fault::kUnavailable : Fault::kNone; });
  EXPECT_TRUE(c.Get(res::kVirtualMachines, "default", "a").ok());
  EXPECT_FALSE(c.Delete(res::kVirtualMachines, "default", "a").ok());
  EXPECT_TRUE(Exists(res::kVirtualMachines, "a"));
}

}  // namespace
}  // namespace ferry::sim::testing

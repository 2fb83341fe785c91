// SimApiServer's verbs against the real kube-apiserver's semantics: system fields, 409 on a
// stale resourceVersion, the status subresource, generation, validation (422), patches,
// finalizers and deletionTimestamp, lists with selectors and pages; and SimClient's faults.
#include <functional>
#include <vector>

#include "api/time.h"
#include "sim_api_test_util.h"

namespace ferry::sim::testing {
namespace {

using kube::DeleteOptions;
using kube::PatchType;

TEST_F(SimApiTest, CreateSetsSystemFieldsFromCountersAndTheClock) {
  Json in = Vm("a");
  in["metadata"]["uid"] = "mine";
  in["metadata"]["generation"] = 7;
  Json a = MustCreate(res::kVirtualMachines, in);
  Json b = MustCreate(res::kVirtualMachines, Vm("b"));
  EXPECT_EQ(a["metadata"]["uid"], "uid-1");
  EXPECT_EQ(b["metadata"]["uid"], "uid-2");
  EXPECT_EQ(Rv(a), "1");
  EXPECT_EQ(Rv(b), "2");
  EXPECT_EQ(a["metadata"]["generation"], 1);
  EXPECT_EQ(a["metadata"]["creationTimestamp"], api::FormatTime(clock_.WallNow()));
  EXPECT_EQ(MustGet(res::kVirtualMachines, "a"), a);
  EXPECT_EQ(server_.current_rv(), 2);
  ASSERT_EQ(server_.log().size(), 2u);
  EXPECT_EQ(server_.log()[0].type, kube::WatchEvent::Type::kAdded);
  EXPECT_EQ(server_.log()[0].object, a);
}

TEST_F(SimApiTest, CreateTakesTheNamespaceFromTheArgumentOrTheObject) {
  Json in = Vm("a");
  in["metadata"].erase("namespace");
  EXPECT_EQ(MustCreate(res::kVirtualMachines, in, "ns1")["metadata"]["namespace"], "ns1");
  EXPECT_EQ(MustCreate(res::kVirtualMachines, Vm("b"))["metadata"]["namespace"], "default");
  auto mismatch = server_.Create(res::kVirtualMachines, "other", Vm("c"));
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalid);
  EXPECT_EQ(mismatch.status().http_status(), 400);
  // Cluster-scoped: a namespace in the object is dropped.
  Json node = {{"metadata", {{"name", "node-a"}, {"namespace", "x"}}}};
  EXPECT_FALSE(MustCreate(res::kNodes, node)["metadata"].contains("namespace"));
}

TEST_F(SimApiTest, CreateOfAnExistingNameIsAlreadyExists) {
  MustCreate(res::kVirtualMachines, Vm("a"));
  auto again = server_.Create(res::kVirtualMachines, "", Vm("a"));
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().http_status(), 409);
  EXPECT_EQ(again.status().reason(), "AlreadyExists");
  EXPECT_EQ(server_.current_rv(), 1);
}

TEST_F(SimApiTest, CreateWithGenerateNameAppendsAFiveCharacterSuffix) {
  Json in = Vmm("");
  in["metadata"].erase("name");
  in["metadata"]["generateName"] = "evac-";
  const std::string a = MustCreate(res::kVirtualMachineMigrations, in)["metadata"]["name"];
  const std::string b = MustCreate(res::kVirtualMachineMigrations, in)["metadata"]["name"];
  EXPECT_EQ(a.rfind("evac-", 0), 0u);
  EXPECT_EQ(a.size(), 10u);
  EXPECT_NE(a, b);
}

TEST_F(SimApiTest, CreateDropsStatusOnlyWhereStatusIsASubresourceAndNotForNodes) {
  Json vm = Vm("a");
  vm["status"] = {{"phase", "Running"}};
  EXPECT_FALSE(MustCreate(res::kVirtualMachines, vm).contains("status"));
  Json w = {{"apiVersion", "example.com/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", "w"}, {"namespace", "default"}}},
            {"status", {{"x", 1}}}};
  EXPECT_EQ(MustCreate(kWidgets, w)["status"]["x"], 1);
  Json node = {{"metadata", {{"name", "node-a"}}}, {"status", {{"phase", "Ready"}}}};
  EXPECT_EQ(MustCreate(res::kNodes, node)["status"]["phase"], "Ready");
}

TEST_F(SimApiTest, CreateRefusesAResourceVersionAndACustomResourceWithoutKind) {
  Json vm = Vm("a");
  vm["metadata"]["resourceVersion"] = "5";
  auto r = server_.Create(res::kVirtualMachines, "", vm);
  EXPECT_EQ(r.status().http_status(), 500);  // etcd3's "should not be set on objects to be created"
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  Json no_kind = Vm("b");
  no_kind.erase("kind");
  EXPECT_EQ(server_.Create(res::kVirtualMachines, "", no_kind).status().code(),
            StatusCode::kInvalid);
  // Built-in types take apiVersion and kind from the URL.
  EXPECT_EQ(MustCreate(res::kNodes, {{"metadata", {{"name", "n"}}}})["kind"], "Node");
  EXPECT_EQ(server_.current_rv(), 1);
}

struct ValidationCase {
  const char* what;
  std::function<void(Json&)> edit;
  bool valid;
};

TEST_F(SimApiTest, MetadataIsValidatedAsTheApiServerDoes) {
  const std::string s63(63, 'a'), s64(64, 'a');
  const std::vector<ValidationCase> cases = {
      {"plain", [](Json&) {}, true},
      {"label value of 63 characters", [&](Json& o) { o["metadata"]["labels"]["k"] = s63; }, true},
      {"label value of 64 characters", [&](Json& o) { o["metadata"]["labels"]["k"] = s64; }, false},
      {"empty label value", [](Json& o) { o["metadata"]["labels"]["k"] = ""; }, true},
      {"label value with dots and underscores",
       [](Json& o) { o["metadata"]["labels"]["k"] = "A.b_c-9"; }, true},
      {"label value starting with '-'", [](Json& o) { o["metadata"]["labels"]["k"] = "-a"; },
       false},
      {"label value with '/'", [](Json& o) { o["metadata"]["labels"]["k"] = "a/b"; }, false},
      {"label value that is a number", [](Json& o) { o["metadata"]["labels"]["k"] = 5; }, false},
      {"prefixed label key", [](Json& o) { o["metadata"]["labels"]["ferry.dev/vm"] = "x"; }, true},
      {"label key name of 64", [&](Json& o) { o["metadata"]["labels"][s64] = "x"; }, false},
      {"label key with an upper-case prefix",
       [](Json& o) { o["metadata"]["labels"]["Ferry.dev/vm"] = "x"; }, false},
      {"label key with two slashes", [](Json& o) { o["metadata"]["labels"]["a/b/c"] = "x"; },
       false},
      {"annotation with a long value",
       [](Json& o) { o["metadata"]["annotations"]["ferry.dev/full-name"] = std::string(300, 'x'); },
       true},
      {"annotation key with a space", [](Json& o) { o["metadata"]["annotations"]["a b"] = "x"; },
       false},
      {"name with upper case", [](Json& o) { o["metadata"]["name"] = "Vm"; }, false},
      {"name of 253", [](Json& o) { o["metadata"]["name"] = std::string(253, 'a'); }, true},
      {"name of 254", [](Json& o) { o["metadata"]["name"] = std::string(254, 'a'); }, false},
      {"name with a dot", [](Json& o) { o["metadata"]["name"] = "a.b"; }, true},
      {"no name", [](Json& o) { o["metadata"].erase("name"); }, false},
      {"qualified finalizer", [](Json& o) { o["metadata"]["finalizers"] = {"ferry.dev/x"}; }, true},
      {"orphan and foregroundDeletion",
       [](Json& o) {
         o["metadata"]["finalizers"] = {"orphan", "foregroundDeletion"};
       },
       false},
      {"owner reference without uid",
       [](Json& o) {
         o["metadata"]["ownerReferences"] = {
             {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "n"}}};
       },
       false},
      {"two controllers",
       [](Json& o) {
         Json ref = {{"apiVersion", "v1"},
                     {"kind", "Node"},
                     {"name", "n"},
                     {"uid", "u"},
                     {"controller", true}};
         o["metadata"]["ownerReferences"] = {ref, ref};
       },
       false},
  };
  for (const auto& c : cases) {
    Json vm = Vm("vm");
    c.edit(vm);
    auto r = server_.Create(res::kVirtualMachines, "", vm);
    EXPECT_EQ(r.ok(), c.valid) << c.what << ": " << r.status();
    if (!c.valid) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalid) << c.what;
      EXPECT_EQ(r.status().http_status(), 422) << c.what;
      EXPECT_FALSE(r.status().causes().empty()) << c.what;
    }
    if (r.ok()) {
      ASSERT_TRUE(server_
                      .Delete(res::kVirtualMachines, "default",
                              (*r)["metadata"]["name"].get<std::string>(), {})
                      .ok());
    }
  }
  // A namespace's name is a DNS label: no dots.
  EXPECT_FALSE(server_.Create(res::kNamespaces, "", {{"metadata", {{"name", "a.b"}}}}).ok());
}

TEST_F(SimApiTest, LabelValueOf64CharactersIsRejectedOnUpdateAndPatchToo) {
  Json vm = MustCreate(res::kVirtualMachines, Vm("a"));
  vm["metadata"]["labels"]["ferry.dev/vm"] = std::string(64, 'v');
  auto u = server_.Update(res::kVirtualMachines, vm);
  EXPECT_EQ(u.status().code(), StatusCode::kInvalid);
  ASSERT_FALSE(u.status().causes().empty());
  EXPECT_EQ(u.status().causes()[0].field, "metadata.labels");
  Json patch = {{"metadata", {{"labels", {{"ferry.dev/vm", std::string(64, 'v')}}}}}};
  EXPECT_EQ(server_.Patch(res::kVirtualMachines, "default", "a", patch).status().code(),
            StatusCode::kInvalid);
  EXPECT_EQ(server_.current_rv(), 1);
}

TEST_F(SimApiTest, UpdateWithAStaleResourceVersionIs409) {
  Json v1 = MustCreate(res::kVirtualMachines, Vm("a"));
  Json v2 = v1;
  v2["spec"]["running"] = false;
  ASSERT_TRUE(server_.Update(res::kVirtualMachines, v2).ok());
  v1["spec"]["cpus"] = 4;
  auto stale = server_.Update(res::kVirtualMachines, v1);
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  EXPECT_EQ(stale.status().http_status(), 409);
  EXPECT_NE(stale.status().message().find("the object has been modified; please apply your "
                                          "changes to the latest version and try again"),
            std::string::npos);
  EXPECT_FALSE(MustGet(res::kVirtualMachines, "a")["spec"].contains("cpus"));
}

TEST_F(SimApiTest, UpdateWithoutResourceVersionIsInvalidExceptForCoreTypes) {
  Json vm = MustCreate(res::kVirtualMachines, Vm("a"));
  vm["metadata"].erase("resourceVersion");
  EXPECT_EQ(server_.Update(res::kVirtualMachines, vm).status().code(), StatusCode::kInvalid);
  Json lease =
      MustCreate(res::kLeases, {{"metadata", {{"name", "l"}}}, {"spec", {{"holderIdentity", "a"}}}},
                 "default");
  lease["metadata"].erase("resourceVersion");
  lease["spec"]["holderIdentity"] = "b";
  EXPECT_EQ(server_.Update(res::kLeases, lease).status().code(), StatusCode::kInvalid);
  Json node = MustCreate(res::kNodes, {{"metadata", {{"name", "n"}}}});
  node["metadata"].erase("resourceVersion");
  node["metadata"]["labels"] = {{"a", "b"}};
  auto u = server_.Update(res::kNodes, node);  // built-ins allow an unconditional update
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ((*u)["metadata"]["labels"]["a"], "b");
}

TEST_F(SimApiTest, UpdateOfAMissingObjectIsNotFound) {
  Json vm = Vm("a");
  vm["metadata"]["resourceVersion"] = "1";
  auto r = server_.Update(res::kVirtualMachines, vm);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(server_.Get(res::kVirtualMachines, "default", "a").status().code(),
            StatusCode::kNotFound);
  kube::ResourceType unknown{"x.io", "v1", "things", "Thing", true};
  EXPECT_EQ(server_.Get(unknown, "default", "a").status().code(), StatusCode::kNotFound);
}

TEST_F(SimApiTest, StatusSubresourceSeparatesSpecFromStatus) {
  Json vm = MustCreate(res::kVirtualMachines, Vm("a"));
  // A PUT of the object keeps the stored status.
  Json put = vm;
  put["spec"]["running"] = false;
  put["status"] = {{"phase", "Running"}};
  Json after_put = *server_.Update(res::kVirtualMachines, put);
  EXPECT_FALSE(after_put.contains("status"));
  EXPECT_EQ(after_put["spec"]["running"], false);
  // A PUT of status takes only status.
  Json st = after_put;
  st["status"] = {{"phase", "Running"}};
  st["spec"]["running"] = true;
  st["metadata"]["labels"] = {{"x", "y"}};
  auto after_status = server_.UpdateStatus(res::kVirtualMachines, st);
  ASSERT_TRUE(after_status.ok()) << after_status.status();
  EXPECT_EQ((*after_status)["status"]["phase"], "Running");
  EXPECT_EQ((*after_status)["spec"]["running"], false);
  EXPECT_FALSE((*after_status)["metadata"]["labels"].contains("x"));
  // UpdateStatus checks the resourceVersion too.
  EXPECT_EQ(server_.UpdateStatus(res::kVirtualMachines, st).status().code(), StatusCode::kConflict);
  // A resource without the subresource has no /status.
  Json w = MustCreate(kWidgets, {{"apiVersion", "example.com/v1"},
                                 {"kind", "Widget"},
                                 {"metadata", {{"name", "w"}, {"namespace", "default"}}}});
  EXPECT_EQ(server_.UpdateStatus(kWidgets, w).status().code(), StatusCode::kNotFound);
}

TEST_F(SimApiTest, NodeStatusUpdateKeepsSpecButTakesMetadata) {
  // nodeStatusStrategy resets only spec (checked against kube-apiserver 1.20.2).
  Json node = MustCreate(res::kNodes, {{"metadata", {{"name", "n"}}}, {"spec", {}}});
  node["metadata"]["labels"] = {{"z", "new"}};
  node["spec"]["unschedulable"] = true;
  node["status"] = {{"phase", "Running"}};
  auto r = server_.UpdateStatus(res::kNodes, node);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["metadata"]["labels"]["z"], "new");
  EXPECT_EQ((*r)["status"]["phase"], "Running");
  EXPECT_FALSE((*r)["spec"].contains("unschedulable"));
}

TEST_F(SimApiTest, GenerationCountsSpecChangesOnly) {
  struct Case {
    const char* what;
    const kube::ResourceType* rt;
    bool status;  // UpdateStatus rather than Update
    std::function<void(Json&)> edit;
    int64_t generation;
  };
  const std::vector<Case> cases = {
      {"spec", &res::kVirtualMachines, false, [](Json& o) { o["spec"]["cpus"] = 2; }, 2},
      {"labels", &res::kVirtualMachines, false, [](Json& o) { o["metadata"]["labels"]["a"] = "b"; },
       1},
      {"status", &res::kVirtualMachines, true, [](Json& o) { o["status"]["phase"] = "x"; }, 1},
      {"new top-level field", &res::kVirtualMachines, false, [](Json& o) { o["extra"] = 1; }, 2},
      {"status without subresource", &kWidgets, false, [](Json& o) { o["status"]["x"] = 1; }, 2},
  };
  int n = 0;
  for (const auto& c : cases) {
    Json o = Vm("g" + std::to_string(n++));
    o["apiVersion"] = c.rt->ApiVersion();
    o["kind"] = c.rt->kind;
    Json created = MustCreate(*c.rt, o);
    c.edit(created);
    auto r = c.status ? server_.UpdateStatus(*c.rt, created) : server_.Update(*c.rt, created);
    ASSERT_TRUE(r.ok()) << c.what << ": " << r.status();
    EXPECT_EQ((*r)["metadata"]["generation"], c.generation) << c.what;
  }
  // Built-in types without generation stay without.
  Json node = MustCreate(res::kNodes, {{"metadata", {{"name", "n"}}}, {"spec", {}}});
  node["spec"]["unschedulable"] = true;
  EXPECT_FALSE((*server_.Update(res::kNodes, node))["metadata"].contains("generation"));
}

TEST_F(SimApiTest, AnUnchangedUpdateWritesNothing) {
  Json vm = MustCreate(res::kVirtualMachines, Vm("a"));
  auto same = server_.Update(res::kVirtualMachines, vm);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(Rv(*same), Rv(vm));
  EXPECT_EQ(server_.log().size(), 1u);
  auto patched =
      server_.Patch(res::kVirtualMachines, "default", "a", {{"spec", {{"running", true}}}});
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ(server_.current_rv(), 1);
}

TEST_F(SimApiTest, SystemFieldsCannotBeChangedByAnUpdate) {
  Json vm = MustCreate(res::kVirtualMachines, Vm("a"));
  Json ts = vm;
  ts["metadata"]["creationTimestamp"] = "2000-01-01T00:00:00Z";
  ts["metadata"]["generation"] = 40;
  ts["metadata"]["deletionTimestamp"] = "2000-01-01T00:00:00Z";
  ts["spec"]["cpus"] = 1;
  Json after = *server_.Update(res::kVirtualMachines, ts);
  EXPECT_EQ(after["metadata"]["creationTimestamp"], vm["metadata"]["creationTimestamp"]);
  EXPECT_EQ(after["metadata"]["generation"], 2);
  EXPECT_FALSE(after["metadata"].contains("deletionTimestamp"));
  Json uid = after;
  uid["metadata"]["uid"] = "other";
  EXPECT_EQ(server_.Update(res::kVirtualMachines, uid).status().code(), StatusCode::kInvalid);
}

TEST_F(SimApiTest, FinalizersHoldADeletedObjectUntilTheyAreRemoved) {
  Json vm = Vm("a");
  vm["metadata"]["finalizers"] = {"ferry.dev/protect"};
  MustCreate(res::kVirtualMachines, vm);
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", "a", {}).ok());
  Json deleting = MustGet(res::kVirtualMachines, "a");
  EXPECT_EQ(deleting["metadata"]["deletionTimestamp"], api::FormatTime(clock_.WallNow()));
  EXPECT_EQ(deleting["metadata"]["deletionGracePeriodSeconds"], 0);
  EXPECT_EQ(deleting["metadata"]["generation"], 2);  // markAsDeleting bumps it once
  EXPECT_EQ(server_.log().back().type, kube::WatchEvent::Type::kModified);

  // A second delete changes nothing.
  const int64_t rv = server_.current_rv();
  clock_.Advance(std::chrono::seconds(30));
  EXPECT_TRUE(server_.Delete(res::kVirtualMachines, "default", "a", {}).ok());
  EXPECT_EQ(server_.current_rv(), rv);

  // No new finalizer on an object being deleted; spec may still change.
  Json more = deleting;
  more["metadata"]["finalizers"].push_back("ferry.dev/another");
  auto refused = server_.Update(res::kVirtualMachines, more);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalid);
  ASSERT_FALSE(refused.status().causes().empty());
  EXPECT_EQ(refused.status().causes()[0].reason, "FieldValueForbidden");
  auto add_by_patch =
      server_.Patch(res::kVirtualMachines, "default", "a",
                    {{"metadata", {{"finalizers", {"ferry.dev/protect", "ferry.dev/another"}}}}});
  EXPECT_EQ(add_by_patch.status().code(), StatusCode::kInvalid);

  // Removing the last finalizer removes the object: a kDeleted change with its last state.
  Json release = deleting;
  release["metadata"].erase("finalizers");
  auto released = server_.Update(res::kVirtualMachines, release);
  ASSERT_TRUE(released.ok()) << released.status();
  // The answer is the object as sent, at the version it was based on (as the real server's).
  EXPECT_FALSE((*released)["metadata"].contains("finalizers"));
  EXPECT_EQ(Rv(*released), Rv(deleting));
  EXPECT_FALSE(Exists(res::kVirtualMachines, "a"));
  const Change& last = server_.log().back();
  EXPECT_EQ(last.type, kube::WatchEvent::Type::kDeleted);
  EXPECT_EQ(Rv(last.object), std::to_string(last.rv));
  EXPECT_EQ(last.object["metadata"]["finalizers"][0], "ferry.dev/protect");
}

TEST_F(SimApiTest, DeleteWithoutFinalizersRemovesAtOnce) {
  MustCreate(res::kVirtualMachines, Vm("a"));
  ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", "a", {}).ok());
  EXPECT_FALSE(Exists(res::kVirtualMachines, "a"));
  EXPECT_EQ(server_.log().back().type, kube::WatchEvent::Type::kDeleted);
  EXPECT_EQ(Rv(server_.log().back().object), "2");
  EXPECT_EQ(Rv(server_.log().back().previous), "1");
  EXPECT_EQ(server_.Delete(res::kVirtualMachines, "default", "a", {}).code(),
            StatusCode::kNotFound);
}

TEST_F(SimApiTest, DeletePreconditionsAre409OnMismatch) {
  Json vm = MustCreate(res::kVirtualMachines, Vm("a"));
  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "uid-999";
  EXPECT_EQ(server_.Delete(res::kVirtualMachines, "default", "a", wrong_uid).code(),
            StatusCode::kConflict);
  DeleteOptions wrong_rv;
  wrong_rv.precondition_resource_version = "999";
  EXPECT_EQ(server_.Delete(res::kVirtualMachines, "default", "a", wrong_rv).code(),
            StatusCode::kConflict);
  EXPECT_TRUE(Exists(res::kVirtualMachines, "a"));
  DeleteOptions right;
  right.precondition_uid = vm["metadata"]["uid"];
  right.precondition_resource_version = Rv(vm);
  EXPECT_TRUE(server_.Delete(res::kVirtualMachines, "default", "a", right).ok());
  EXPECT_FALSE(Exists(res::kVirtualMachines, "a"));
}

TEST_F(SimApiTest, PropagationPolicyAddsOrRemovesTheGarbageCollectorsFinalizers) {
  struct Case {
    const char* first;
    const char* second;                   // a second delete's policy, "" = none
    std::vector<std::string> finalizers;  // after both; empty = removed
  };
  const std::vector<Case> cases = {
      {"Foreground", "", {"foregroundDeletion"}},
      {"Orphan", "", {"orphan"}},
      {"Background", "", {}},
      {"Foreground", "Orphan", {"orphan"}},
      {"Foreground", "Background", {}},  // an explicit policy replaces the finalizer
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string name = "p" + std::to_string(n++);
    MustCreate(res::kVirtualMachines, Vm(name));
    DeleteOptions o;
    o.propagation_policy = c.first;
    ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", name, o).ok());
    if (*c.second) {
      o.propagation_policy = c.second;
      ASSERT_TRUE(server_.Delete(res::kVirtualMachines, "default", name, o).ok());
    }
    auto got = server_.Get(res::kVirtualMachines, "default", name);
    if (c.finalizers.empty()) {
      EXPECT_FALSE(got.ok()) << c.first << "," << c.second;
      continue;
    }
    ASSERT_TRUE(got.ok()) << c.first << "," << c.second;
    EXPECT_EQ((*got)["metadata"]["finalizers"], Json(c.finalizers)) << c.first << "," << c.second;
    EXPECT_TRUE((*got)["metadata"].contains("deletionTimestamp"));
  }
  MustCreate(res::kVirtualMachines, Vm("bad"));
  DeleteOptions bad;
  bad.propagation_policy = "Sideways";
  EXPECT_EQ(server_.Delete(res::kVirtualMachines, "default", "bad", bad).code(),
            StatusCode::kInvalid);
}

}  // namespace
}  // namespace ferry::sim::testing

// RestApiClient against a real kube-apiserver (v1.20.2, and v1.31 when available) + etcd with
// Ferry's CRDs installed.
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "kube_env.h"

namespace ferry::kube {
namespace {

using testing::ClientFromEnv;
using testing::ConfigMap;
using testing::CreateTestNamespace;
using testing::VirtualMachine;

class RestClientIT : public ::testing::Test {
 protected:
  void SetUp() override {
    api_ = ClientFromEnv();
    ASSERT_NE(api_, nullptr);
    ns_ = CreateTestNamespace(*api_, "it-rest");
  }
  std::unique_ptr<RestApiClient> api_;
  std::string ns_;
};

TEST_F(RestClientIT, CrudOnVirtualMachines) {
  const auto& rt = resources::kVirtualMachines;
  auto created = api_->Create(rt, ns_, VirtualMachine(ns_, "vm-a"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE((*created)["metadata"]["uid"].get<std::string>().empty());
  EXPECT_EQ((*created)["spec"]["memory"], "2Gi");

  auto dup = api_->Create(rt, ns_, VirtualMachine(ns_, "vm-a"));
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists) << dup.status();

  auto got = api_->Get(rt, ns_, "vm-a");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)["metadata"]["uid"], (*created)["metadata"]["uid"]);

  Json changed = *got;
  changed["spec"]["cpus"] = 4;
  auto updated = api_->Update(rt, changed);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ((*updated)["spec"]["cpus"], 4);
  EXPECT_NE((*updated)["metadata"]["resourceVersion"], (*got)["metadata"]["resourceVersion"]);

  auto patched = api_->Patch(rt, ns_, "vm-a", Json{{"metadata", {{"labels", {{"tier", "db"}}}}}}, PatchType::kMerge,
                             false);
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ((*patched)["metadata"]["labels"]["tier"], "db");
  EXPECT_EQ((*patched)["spec"]["cpus"], 4);  // a merge patch leaves the rest alone

  ASSERT_TRUE(api_->Delete(rt, ns_, "vm-a").ok());
  EXPECT_EQ(api_->Get(rt, ns_, "vm-a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(api_->Delete(rt, ns_, "vm-a").code(), StatusCode::kNotFound);
}

TEST_F(RestClientIT, StaleWriteIsConflictAndRetrySucceeds) {
  const auto& rt = resources::kVirtualMachines;
  ASSERT_TRUE(api_->Create(rt, ns_, VirtualMachine(ns_, "vm-c")).ok());
  auto a = api_->Get(rt, ns_, "vm-c");
  auto b = api_->Get(rt, ns_, "vm-c");
  ASSERT_TRUE(a.ok() && b.ok());
  (*a)["spec"]["cpus"] = 3;
  ASSERT_TRUE(api_->Update(rt, *a).ok());
  (*b)["spec"]["cpus"] = 5;
  auto stale = api_->Update(rt, *b);
  ASSERT_EQ(stale.status().code(), StatusCode::kConflict) << stale.status();
  EXPECT_EQ(stale.status().http_status(), 409);
  // The retry: re-read, re-apply the change, write again.
  auto fresh = api_->Get(rt, ns_, "vm-c");
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)["spec"]["cpus"], 3);
  (*fresh)["spec"]["cpus"] = 5;
  auto retried = api_->Update(rt, *fresh);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ((*retried)["spec"]["cpus"], 5);
}

TEST_F(RestClientIT, StatusSubresourceIsSeparateFromSpec) {
  const auto& rt = resources::kVirtualMachines;
  auto vm = api_->Create(rt, ns_, VirtualMachine(ns_, "vm-s"));
  ASSERT_TRUE(vm.ok()) << vm.status();
  // A status write through the main resource is ignored.
  Json with_status = *vm;
  with_status["status"] = {{"phase", "Running"}, {"nodeName", "node-a"}};
  auto main_write = api_->Update(rt, with_status);
  ASSERT_TRUE(main_write.ok()) << main_write.status();
  EXPECT_FALSE(main_write->contains("status") && (*main_write)["status"].contains("phase"));
  // Through /status it lands, and a spec change sent along is ignored.
  Json st = *main_write;
  st["status"] = {{"phase", "Running"}, {"nodeName", "node-a"}};
  st["spec"]["cpus"] = 8;
  auto status_write = api_->UpdateStatus(rt, st);
  ASSERT_TRUE(status_write.ok()) << status_write.status();
  EXPECT_EQ((*status_write)["status"]["phase"], "Running");
  EXPECT_EQ((*status_write)["spec"]["cpus"], 2);
  // Merge patch of the status subresource.
  auto patched = api_->Patch(rt, ns_, "vm-s", Json{{"status", {{"phase", "Migrating"}}}}, PatchType::kMerge, true);
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ((*patched)["status"]["phase"], "Migrating");
  EXPECT_EQ((*patched)["status"]["nodeName"], "node-a");
}

TEST_F(RestClientIT, PagingReturnsEveryItemOnce) {
  const auto& rt = resources::kConfigMaps;
  constexpr int kCount = 23;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(api_->Create(rt, ns_, ConfigMap(ns_, "cm-" + std::to_string(i))).ok());
  }
  std::set<std::string> names;
  int pages = 0;
  ListOptions lo;
  lo.limit = 10;
  do {
    auto page = api_->List(rt, ns_, lo);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    EXPECT_LE(page->items.size(), 10u);
    for (const auto& item : page->items) {
      EXPECT_EQ(item["kind"], "ConfigMap");
      EXPECT_TRUE(names.insert(item["metadata"]["name"]).second) << "duplicate " << item["metadata"]["name"];
    }
    lo.continue_token = page->continue_token;
  } while (!lo.continue_token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names.size(), static_cast<size_t>(kCount));
}

TEST_F(RestClientIT, LabelAndFieldSelectors) {
  const auto& rt = resources::kConfigMaps;
  for (const auto& [name, tier] : {std::pair{"web-1", "web"}, {"web-2", "web"}, {"db-1", "db"}}) {
    Json cm = ConfigMap(ns_, name);
    cm["metadata"]["labels"] = {{"tier", tier}};
    ASSERT_TRUE(api_->Create(rt, ns_, cm).ok());
  }
  ListOptions by_label;
  by_label.label_selector = "tier=web";
  auto web = api_->List(rt, ns_, by_label);
  ASSERT_TRUE(web.ok()) << web.status();
  EXPECT_EQ(web->items.size(), 2u);
  by_label.label_selector = "tier!=web,tier";
  auto not_web = api_->List(rt, ns_, by_label);
  ASSERT_TRUE(not_web.ok()) << not_web.status();
  ASSERT_EQ(not_web->items.size(), 1u);
  EXPECT_EQ(not_web->items[0]["metadata"]["name"], "db-1");
  ListOptions by_field;
  by_field.field_selector = "metadata.name=web-2";
  auto one = api_->List(rt, ns_, by_field);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_EQ(one->items.size(), 1u);
  EXPECT_EQ(one->items[0]["metadata"]["name"], "web-2");
  by_field.field_selector = "spec.nope=1";
  EXPECT_EQ(api_->List(rt, ns_, by_field).status().code(), StatusCode::kInvalid);
}

TEST_F(RestClientIT, DeletePreconditionsAndFinalizers) {
  const auto& rt = resources::kVirtualMachines;
  Json vm = VirtualMachine(ns_, "vm-f");
  vm["metadata"]["finalizers"] = {"ferry.dev/test"};
  auto created = api_->Create(rt, ns_, vm);
  ASSERT_TRUE(created.ok()) << created.status();

  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  EXPECT_EQ(api_->Delete(rt, ns_, "vm-f", wrong_uid).code(), StatusCode::kConflict);

  DeleteOptions right;
  right.precondition_uid = (*created)["metadata"]["uid"].get<std::string>();
  right.propagation_policy = "Foreground";
  ASSERT_TRUE(api_->Delete(rt, ns_, "vm-f", right).ok());
  // The finalizer holds the object: deletionTimestamp set, object still readable.
  auto held = api_->Get(rt, ns_, "vm-f");
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_TRUE((*held)["metadata"].contains("deletionTimestamp"));
  // Removing our finalizer (merge patch replaces the list) lets it go.
  auto released = api_->Patch(rt, ns_, "vm-f",
                              Json{{"metadata", {{"finalizers", Json::array()}}}}, PatchType::kMerge, false);
  ASSERT_TRUE(released.ok() || released.status().code() == StatusCode::kNotFound) << released.status();
  EXPECT_TRUE(testing::Eventually([&] { return api_->Get(rt, ns_, "vm-f").status().code() == StatusCode::kNotFound; }));
}

TEST_F(RestClientIT, UnknownCollectionIsNotFoundAndBadTokenIsUnauthenticated) {
  ResourceType bogus{"ferry.dev", "v1alpha1", "nonexistents", "Nonexistent", true};
  EXPECT_EQ(api_->List(bogus, ns_, {}).status().code(), StatusCode::kNotFound);

  auto cfg = LoadKubeconfig(testing::Env("KUBECONFIG"));
  ASSERT_TRUE(cfg.ok());
  cfg->tls.client_cert_pem.clear();
  cfg->tls.client_key_pem.clear();
  cfg->token = TokenSource::Static("not-a-valid-token");
  auto anon = RestApiClient::FromConfig(*cfg);
  EXPECT_EQ(anon->List(resources::kNamespaces, "", {}).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(RestClientIT, TransportErrorIsUnavailable) {
  ClusterConfig cfg;
  cfg.server = "https://127.0.0.1:1";  // nothing listens on port 1
  auto dead = RestApiClient::FromConfig(cfg);
  auto r = dead->Get(resources::kNamespaces, "", "default");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status();
}

// "spec.disks[0].type" -> "spec.disks.type".
std::string WithoutIndices(const std::string& field) {
  std::string out;
  bool in_index = false;
  for (char ch : field) {
    if (ch == '[') in_index = true;
    if (!in_index) out.push_back(ch);
    if (ch == ']') in_index = false;
  }
  return out;
}

// Cause reasons by kind: a value of the wrong type is FieldValueInvalid up to 1.2x and
// FieldValueTypeInvalid on newer servers; both are "Invalid" here.
std::string CauseKind(const std::string& reason) {
  if (reason == "FieldValueRequired") return "Required";
  if (reason == "FieldValueNotSupported") return "NotSupported";
  if (reason == "FieldValueInvalid" || reason == "FieldValueTypeInvalid") return "Invalid";
  return reason;
}

TEST(CrdValidationIT, EveryInvalidObjectIsRejectedWithItsReason) {
  auto api = ClientFromEnv();
  ASSERT_NE(api, nullptr);
  const std::string ns = CreateTestNamespace(*api, "it-crd");
  std::ifstream in(testing::Env("FERRY_TESTDATA") + "/invalid_objects.json");
  ASSERT_TRUE(in) << "FERRY_TESTDATA not set or invalid_objects.json missing";
  Json table = Json::parse(in);
  ASSERT_GE(table.size(), 12u);
  for (const auto& c : table) {
    const std::string resource = c["resource"];
    const ResourceType* rt = nullptr;
    for (const auto* cand : {&resources::kVirtualMachines, &resources::kVirtualMachineMigrations,
                             &resources::kServerGroups, &resources::kMigrationPolicies}) {
      if (cand->resource == resource) rt = cand;
    }
    ASSERT_NE(rt, nullptr) << resource;
    auto r = api->Create(*rt, rt->namespaced ? ns : "", c["object"]);
    ASSERT_FALSE(r.ok()) << c["name"] << " was accepted";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalid) << c["name"] << ": " << r.status();
    EXPECT_EQ(r.status().reason(), "Invalid") << c["name"];
    // The reason, not one version's wording: a cause of the expected kind on the expected
    // field (list indices, which newer servers add, removed).
    const std::string want_reason = c["reason"], want_field = c["field"];
    bool found = false;
    for (const auto& cause : r.status().causes()) {
      found = found || (CauseKind(cause.reason) == want_reason && WithoutIndices(cause.field) == want_field);
    }
    EXPECT_TRUE(found) << c["name"] << ": no " << want_reason << " cause on " << want_field << " in " << r.status();
  }
}

TEST(CrdValidationIT, SamplesAreAccepted) {
  auto api = ClientFromEnv();
  ASSERT_NE(api, nullptr);
  const std::string ns = CreateTestNamespace(*api, "it-valid");
  // A minimal object of each namespaced kind and the cluster-scoped policy.
  Json vmm = {{"apiVersion", "ferry.dev/v1alpha1"}, {"kind", "VirtualMachineMigration"},
              {"metadata", {{"name", "move-a"}}}, {"spec", {{"vmName", "vm-a"}, {"mode", "Auto"}}}};
  Json sg = {{"apiVersion", "ferry.dev/v1alpha1"}, {"kind", "ServerGroup"},
             {"metadata", {{"name", "db"}}}, {"spec", {{"policy", "AntiAffinity"}, {"bestEffort", false}, {"maxPerNode", 1}}}};
  EXPECT_TRUE(api->Create(resources::kVirtualMachines, ns, testing::VirtualMachine(ns, "vm-a")).ok());
  auto r1 = api->Create(resources::kVirtualMachineMigrations, ns, vmm);
  EXPECT_TRUE(r1.ok()) << r1.status();
  auto r2 = api->Create(resources::kServerGroups, ns, sg);
  EXPECT_TRUE(r2.ok()) << r2.status();
}

}  // namespace
}  // namespace ferry::kube

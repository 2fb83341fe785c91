// Safe writes (kube/writes.h, kube/owner.h) and label-selected informers against a real
// kube-apiserver: concurrent writers never erase each other's finalizers or conditions, and
// stale writes are conflicts.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "api/time.h"
#include "kube/informer.h"
#include "kube/owner.h"
#include "kube/writes.h"
#include "kube_env.h"

namespace ferry::kube {
namespace {

using testing::ClientFromEnv;
using testing::ConfigMap;
using testing::CreateTestNamespace;
using testing::Eventually;
using testing::VirtualMachine;

class WritesIT : public ::testing::Test {
 protected:
  void SetUp() override {
    api_ = ClientFromEnv();
    ASSERT_NE(api_, nullptr);
    ns_ = CreateTestNamespace(*api_, "it-writes");
  }
  std::unique_ptr<RestApiClient> api_;
  std::string ns_;
};

// Many conflicts in a row are expected here: every writer races every other.
const RetryOptions kPatient{200, std::chrono::milliseconds(5), 1.0};

TEST_F(WritesIT, ConcurrentFinalizerAddsAndRemovesKeepEveryoneElsesEntries) {
  const auto& rt = resources::kConfigMaps;
  ASSERT_TRUE(api_->Create(rt, ns_, ConfigMap(ns_, "cm")).ok());
  // Two clients (two "controllers"), five threads each, each adding its own finalizer.
  auto other = ClientFromEnv();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&, i] {
      ApiClient& api = i % 2 == 0 ? static_cast<ApiClient&>(*api_) : *other;
      auto r = PatchWithRetry(
          api, rt, ns_, "cm",
          [&](const Json& o) { return AddFinalizerPatch(o, "ferry.dev/f" + std::to_string(i)); },
          false, {}, kPatient);
      if (!r.ok()) {
        ADD_FAILURE() << r.status();
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  auto got = api_->Get(rt, ns_, "cm");
  ASSERT_TRUE(got.ok());
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(HasFinalizer(*got, "ferry.dev/f" + std::to_string(i))) << i;
  EXPECT_EQ((*got)["metadata"]["finalizers"].size(), 10u);

  // Remove the even ones concurrently: the odd ones all stay.
  threads.clear();
  for (int i = 0; i < 10; i += 2) {
    threads.emplace_back([&, i] {
      auto r = PatchWithRetry(
          *other, rt, ns_, "cm",
          [&](const Json& o) { return RemoveFinalizerPatch(o, "ferry.dev/f" + std::to_string(i)); },
          false, {}, kPatient);
      EXPECT_TRUE(r.ok()) << r.status();
    });
  }
  for (auto& t : threads) t.join();
  got = api_->Get(rt, ns_, "cm");
  ASSERT_TRUE(got.ok());
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(HasFinalizer(*got, "ferry.dev/f" + std::to_string(i)), i % 2 == 1) << i;
  // The simple helpers; the object goes once its last finalizer does.
  ASSERT_TRUE(AddFinalizer(*api_, rt, ns_, "cm", "ferry.dev/f1").ok());  // present: no write
  ASSERT_TRUE(api_->Delete(rt, ns_, "cm").ok());
  for (int i = 1; i < 10; i += 2) {
    auto r = RemoveFinalizer(*api_, rt, ns_, "cm", "ferry.dev/f" + std::to_string(i));
    EXPECT_TRUE(r.ok()) << r.status();
  }
  EXPECT_TRUE(Eventually(
      [&] { return api_->Get(rt, ns_, "cm").status().code() == StatusCode::kNotFound; }));
  EXPECT_EQ(RemoveFinalizer(*api_, rt, ns_, "cm", "ferry.dev/f1").status().code(),
            StatusCode::kNotFound);
}

TEST_F(WritesIT, StalePatchesAreConflicts) {
  const auto& rt = resources::kConfigMaps;
  auto v1 = api_->Create(rt, ns_, ConfigMap(ns_, "cm", {{"k", "1"}}));
  ASSERT_TRUE(v1.ok());
  auto v2 = api_->Patch(rt, ns_, "cm", Json{{"data", {{"k", "2"}}}});
  ASSERT_TRUE(v2.ok());
  // A JSON patch built against v1 (by index) must not apply to v2.
  auto stale =
      api_->Patch(rt, ns_, "cm", AddFinalizerPatch(*v1, "ferry.dev/x").ops(), PatchType::kJson);
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict) << stale.status();
  // A merge patch with a resourceVersion precondition: stale is a conflict, fresh applies.
  const std::string rv1 = (*v1)["metadata"]["resourceVersion"];
  const std::string rv2 = (*v2)["metadata"]["resourceVersion"];
  EXPECT_EQ(MergePatchIfUnchanged(*api_, rt, ns_, "cm", rv1, Json{{"data", {{"k", "3"}}}})
                .status()
                .code(),
            StatusCode::kConflict);
  auto fresh = MergePatchIfUnchanged(*api_, rt, ns_, "cm", rv2, Json{{"data", {{"k", "3"}}}});
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ((*fresh)["data"]["k"], "3");
}

TEST_F(WritesIT, ConcurrentReadModifyWritesLoseNoIncrement) {
  const auto& rt = resources::kConfigMaps;
  ASSERT_TRUE(api_->Create(rt, ns_, ConfigMap(ns_, "counter", {{"n", "0"}})).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto r = MutateObject(
            *api_, rt, ns_, "counter",
            [](Json& o) {
              o["data"]["n"] = std::to_string(std::stoi(o["data"]["n"].get<std::string>()) + 1);
              return true;
            },
            {}, kPatient);
        EXPECT_TRUE(r.ok()) << r.status();
      }
    });
  }
  for (auto& t : threads) t.join();
  auto got = api_->Get(rt, ns_, "counter");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["data"]["n"], "30");
}

TEST_F(WritesIT, TwoWritersOfDifferentConditionsKeepBoth) {
  const auto& rt = resources::kVirtualMachines;
  ASSERT_TRUE(api_->Create(rt, ns_, VirtualMachine(ns_, "vm")).ok());
  auto other = ClientFromEnv();
  const std::string now = api::FormatTime(std::chrono::system_clock::now());
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      ApiClient& api = i % 2 == 0 ? static_cast<ApiClient&>(*api_) : *other;
      Condition c{"Cond" + std::to_string(i),
                  i % 3 == 0 ? "True" : "False",
                  "Because",
                  "writer " + std::to_string(i),
                  {}};
      auto r = PatchWithRetry(
          api, rt, ns_, "vm", [&](const Json& o) { return SetConditionPatch(o, c, now); }, true, {},
          kPatient);
      EXPECT_TRUE(r.ok()) << r.status();
    });
  }
  for (auto& t : threads) t.join();
  auto got = api_->Get(rt, ns_, "vm");
  ASSERT_TRUE(got.ok());
  for (int i = 0; i < 8; ++i) {
    auto c = FindCondition(*got, "Cond" + std::to_string(i));
    ASSERT_TRUE(c.has_value()) << i;
    EXPECT_EQ(c->value("message", ""), "writer " + std::to_string(i));
  }
  // PatchCondition replaces one in place and keeps the others; MutateStatus writes status.
  auto r = PatchCondition(*api_, rt, ns_, "vm", {"Cond3", "True", "Changed", "again", {}}, now);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(FindCondition(*r, "Cond3")->value("reason", ""), "Changed");
  EXPECT_EQ((*r)["status"]["conditions"].size(), 8u);
  auto m = MutateStatus(*api_, rt, ns_, "vm", [](Json& o) {
    o["status"]["phase"] = "Pending";
    return true;
  });
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)["status"]["phase"], "Pending");
  EXPECT_EQ((*m)["status"]["conditions"].size(), 8u);
}

TEST_F(WritesIT, OwnerReferenceMapsChildToOwnerKey) {
  auto vm = api_->Create(resources::kVirtualMachines, ns_, VirtualMachine(ns_, "owner"));
  ASSERT_TRUE(vm.ok());
  Json child = ConfigMap(ns_, "child");
  ASSERT_TRUE(SetControllerReference(*vm, &child).ok());
  auto created = api_->Create(resources::kConfigMaps, ns_, child);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(IsControlledBy(*created, *vm));
  EXPECT_EQ(ControllerKey(*created, "ferry.dev", "VirtualMachine"),
            std::optional<std::string>(ns_ + "/owner"));
}

// A node agent's informer: only VMs labelled for its node. A VM relabelled to another node
// leaves with kNoLongerMatches ("not mine any more"); a deleted one with kDeleted.
TEST_F(WritesIT, LabelSelectedInformerTellsRelabelledFromDeleted) {
  const auto& rt = resources::kVirtualMachines;
  auto labelled = [&](const std::string& name, const std::string& node) {
    Json vm = VirtualMachine(ns_, name);
    vm["metadata"]["labels"]["ferry.dev/node"] = node;
    return vm;
  };
  for (const auto& [n, node] :
       {std::pair{"vm-1", "node-a"}, {"vm-2", "node-a"}, {"vm-3", "node-b"}, {"vm-4", "node-a"}}) {
    ASSERT_TRUE(api_->Create(rt, ns_, labelled(n, node)).ok());
  }
  InformerOptions opts;
  opts.ns = ns_;
  opts.label_selector = "ferry.dev/node=node-a";
  Informer inf(*api_, rt, opts);
  std::mutex mu;
  std::vector<std::string> seen;
  inf.AddEventHandler({nullptr, nullptr, [&](const ObjectPtr& o, DeleteReason why) {
                         std::lock_guard<std::mutex> l(mu);
                         seen.push_back(ObjectKey(*o).substr(ns_.size() + 1) + " " +
                                        DeleteReasonName(why));
                       }});
  std::jthread run([&](std::stop_token st) { inf.Run(st); });
  ASSERT_TRUE(inf.WaitForSync({}, std::chrono::seconds(20)));
  EXPECT_EQ(inf.store().Keys(),
            (std::vector<std::string>{ns_ + "/vm-1", ns_ + "/vm-2", ns_ + "/vm-4"}));
  ASSERT_TRUE(
      api_->Patch(rt, ns_, "vm-1", Json{{"metadata", {{"labels", {{"ferry.dev/node", "node-b"}}}}}})
          .ok());
  ASSERT_TRUE(api_->Delete(rt, ns_, "vm-2").ok());
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(mu);
    return seen.size() == 2;
  }));
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(seen, (std::vector<std::string>{"vm-1 NoLongerMatches", "vm-2 Deleted"}));
  }
  EXPECT_EQ(inf.store().Keys(), (std::vector<std::string>{ns_ + "/vm-4"}));
}

}  // namespace
}  // namespace ferry::kube

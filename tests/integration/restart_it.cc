// Watch resumption across a kube-apiserver restart and relist after 410 Gone. Runs on an
// instance of its own (fixture kube_restart, --watch-cache=false so watches are served by
// etcd and a compaction makes old versions expire at once).
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "kube/informer.h"
#include "kube_env.h"

namespace ferry::kube {
namespace {

using testing::ClientFromEnv;
using testing::ConfigMap;
using testing::CreateTestNamespace;
using testing::Env;
using testing::Eventually;

int RunScript(const std::string& script) {
  const std::string cmd = Env("FERRY_KUBE_HACK") + "/" + script + " " + Env("KUBE_UP_DIR") + " >/dev/null 2>&1";
  return std::system(cmd.c_str());
}

// Passes everything to the real client, but can cut the informer off from the API server
// (a network partition): the open watch is broken and new watches fail until Heal().
class PartitionableClient final : public ApiClient {
 public:
  explicit PartitionableClient(ApiClient& real) : real_(real) {}
  void Partition() {
    std::lock_guard<std::mutex> l(mu_);
    partitioned_ = true;
    if (inner_) inner_->request_stop();
  }
  void Heal() {
    std::lock_guard<std::mutex> l(mu_);
    partitioned_ = false;
  }

  StatusOr<Json> Get(const ResourceType& rt, const std::string& ns, const std::string& name) override {
    return real_.Get(rt, ns, name);
  }
  StatusOr<ListResult> List(const ResourceType& rt, const std::string& ns, const ListOptions& o) override {
    if (IsPartitioned()) return UnavailableError("partitioned");
    return real_.List(rt, ns, o);
  }
  StatusOr<Json> Create(const ResourceType& rt, const std::string& ns, const Json& obj) override {
    return real_.Create(rt, ns, obj);
  }
  StatusOr<Json> Update(const ResourceType& rt, const Json& obj) override { return real_.Update(rt, obj); }
  StatusOr<Json> UpdateStatus(const ResourceType& rt, const Json& obj) override { return real_.UpdateStatus(rt, obj); }
  StatusOr<Json> Patch(const ResourceType& rt, const std::string& ns, const std::string& name, const Json& p,
                       PatchType t, bool s) override {
    return real_.Patch(rt, ns, name, p, t, s);
  }
  Status Delete(const ResourceType& rt, const std::string& ns, const std::string& name,
                const DeleteOptions& o) override {
    return real_.Delete(rt, ns, name, o);
  }
  Status Watch(const ResourceType& rt, const std::string& ns, const WatchOptions& o,
               const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) override {
    std::stop_source inner;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (partitioned_) return UnavailableError("partitioned");
      inner_ = &inner;
    }
    std::stop_callback forward(stop, [&inner] { inner.request_stop(); });
    Status st = real_.Watch(rt, ns, o, on_event, inner.get_token());
    std::lock_guard<std::mutex> l(mu_);
    inner_ = nullptr;
    if (st.code() == StatusCode::kCancelled && !stop.stop_requested()) return UnavailableError("connection cut");
    return st;
  }

 private:
  bool IsPartitioned() {
    std::lock_guard<std::mutex> l(mu_);
    return partitioned_;
  }
  ApiClient& real_;
  std::mutex mu_;
  bool partitioned_ = false;
  std::stop_source* inner_ = nullptr;
};

TEST(ApiServerRestartIT, WatchResumesFromLastVersionWithoutRelist) {
  auto api = ClientFromEnv();
  ASSERT_NE(api, nullptr);
  const std::string ns = CreateTestNamespace(*api, "it-restart");
  ASSERT_TRUE(api->Create(resources::kConfigMaps, ns, ConfigMap(ns, "before")).ok());
  InformerOptions opts;
  opts.ns = ns;
  opts.backoff_initial = std::chrono::milliseconds(200);
  opts.backoff_max = std::chrono::milliseconds(2000);
  Informer inf(*api, resources::kConfigMaps, opts);
  std::jthread runner([&](std::stop_token st) { inf.Run(st); });
  ASSERT_TRUE(inf.WaitForSync(runner.get_stop_token(), std::chrono::seconds(20)));
  ASSERT_TRUE(Eventually([&] { return inf.stats().watches >= 1; }));

  ASSERT_EQ(RunScript("restart-apiserver.sh"), 0) << "restart-apiserver.sh failed";
  // A POST on a kept-alive connection the restart broke may fail in transport; whether it was
  // applied is the caller's call (the client re-sends it only when the write itself failed).
  // Retry, accepting AlreadyExists as "the first one landed".
  StatusOr<Json> after = UnavailableError("not tried");
  for (int i = 0; i < 5 && !after.ok() && after.status().code() != StatusCode::kAlreadyExists; ++i) {
    after = api->Create(resources::kConfigMaps, ns, ConfigMap(ns, "after"));
  }
  ASSERT_TRUE(after.ok() || after.status().code() == StatusCode::kAlreadyExists) << after.status();
  ASSERT_TRUE(Eventually([&] { return inf.store().Get(ns + "/after") != nullptr; }, std::chrono::seconds(30)));
  EXPECT_NE(inf.store().Get(ns + "/before"), nullptr);
  const auto s = inf.stats();
  EXPECT_EQ(s.lists, 1u) << "the informer relisted instead of resuming";
  EXPECT_GE(s.watches, 2u);
  EXPECT_GE(s.watch_errors, 1u);  // the broken stream / refused connections while down
}

TEST(ApiServerRestartIT, ExpiredVersionAfterCompactionLeadsToRelist) {
  auto real = ClientFromEnv();
  ASSERT_NE(real, nullptr);
  PartitionableClient api(*real);
  const std::string ns = CreateTestNamespace(*real, "it-gone");
  ASSERT_TRUE(real->Create(resources::kConfigMaps, ns, ConfigMap(ns, "old")).ok());
  InformerOptions opts;
  opts.ns = ns;
  opts.backoff_initial = std::chrono::milliseconds(200);
  opts.backoff_max = std::chrono::milliseconds(1000);
  Informer inf(api, resources::kConfigMaps, opts);
  std::jthread runner([&](std::stop_token st) { inf.Run(st); });
  ASSERT_TRUE(inf.WaitForSync(runner.get_stop_token(), std::chrono::seconds(20)));
  ASSERT_TRUE(Eventually([&] { return inf.stats().watches >= 1; }));

  api.Partition();
  // While cut off: a new object, a deleted one, and etcd compacts past our version.
  ASSERT_TRUE(real->Create(resources::kConfigMaps, ns, ConfigMap(ns, "new")).ok());
  ASSERT_TRUE(real->Delete(resources::kConfigMaps, ns, "old").ok());
  ASSERT_TRUE(real->Create(resources::kConfigMaps, ns, ConfigMap(ns, "newer")).ok());
  ASSERT_EQ(RunScript("etcd-compact.sh"), 0) << "etcd-compact.sh failed";
  api.Heal();

  ASSERT_TRUE(Eventually([&] {
    return inf.store().Get(ns + "/new") && inf.store().Get(ns + "/newer") && !inf.store().Get(ns + "/old");
  }, std::chrono::seconds(30)));
  const auto s = inf.stats();
  EXPECT_GE(s.relists_on_gone, 1u);
  EXPECT_EQ(s.lists, 2u);  // the first sync and the relist
}

}  // namespace
}  // namespace ferry::kube

// The Manager against a real kube-apiserver: controllers get their keys from shared
// informers, /readyz follows the caches, and on a clean stop the leader drains its reconciles
// before it hands the lease over.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <vector>

#include "http/http.h"
#include "kube/owner.h"
#include "kube_env.h"
#include "manager/manager.h"

namespace ferry::manager {
namespace {

using kube::testing::ClientFromEnv;
using kube::testing::ConfigMap;
using kube::testing::CreateTestNamespace;
using kube::testing::Eventually;
using kube::testing::VirtualMachine;

int HttpStatus(int port, const std::string& path) {
  auto c = http::MakeHttpClient(
      {"http://127.0.0.1:" + std::to_string(port), {}, std::chrono::milliseconds(5000)});
  http::Request r;
  r.path = path;
  auto resp = c->Send(r);
  return resp.ok() ? resp->status : -1;
}

struct Recorder {
  std::mutex mu;
  std::multiset<std::string> keys;
  void Add(const std::string& k) {
    std::lock_guard<std::mutex> l(mu);
    keys.insert(k);
  }
  size_t Count(const std::string& k) {
    std::lock_guard<std::mutex> l(mu);
    return keys.count(k);
  }
};

TEST(ManagerIT, ControllersGetKeysFromSharedInformersAndOwnedObjects) {
  auto api = ClientFromEnv();
  ASSERT_NE(api, nullptr);
  const std::string ns = CreateTestNamespace(*api, "it-mgr");
  ManagerOptions mo;
  mo.name = "test-manager";
  mo.ops_host = "127.0.0.1";
  mo.ops_port = 0;
  Manager mgr(*api, std::move(mo));
  kube::InformerOptions io;
  io.ns = ns;
  kube::Informer& vms = mgr.SharedInformer(kube::resources::kVirtualMachines, io);
  EXPECT_EQ(&vms, &mgr.SharedInformer(kube::resources::kVirtualMachines, io));  // shared
  kube::Informer& cms = mgr.SharedInformer(kube::resources::kConfigMaps, io);
  Recorder rec;
  ControllerSpec spec;
  spec.name = "vm";
  spec.workers = 2;
  spec.reconcile = [&](const std::string& key, std::stop_token) {
    rec.Add(key);
    return controller::ReconcileResult::Success();
  };
  spec.watches = {For(vms), Owns(cms, "ferry.dev", "VirtualMachine")};
  ASSERT_TRUE(mgr.AddController(std::move(spec)).ok());
  ControllerSpec dup;
  dup.name = "vm";
  dup.reconcile = [](const std::string&, std::stop_token) {
    return controller::ReconcileResult::Success();
  };
  EXPECT_EQ(mgr.AddController(std::move(dup)).status().code(), StatusCode::kInvalid);

  auto vm = api->Create(kube::resources::kVirtualMachines, ns, VirtualMachine(ns, "vm-1"));
  ASSERT_TRUE(vm.ok());
  std::stop_source stop;
  Status result;
  std::thread run([&] { result = mgr.Run(stop.get_token()); });
  ASSERT_TRUE(mgr.WaitForStarted(std::chrono::seconds(30)));
  EXPECT_TRUE(mgr.IsWorking());
  ASSERT_TRUE(Eventually([&] { return rec.Count(ns + "/vm-1") >= 1; }));
  ASSERT_GT(mgr.ops_port(), 0);
  EXPECT_EQ(HttpStatus(mgr.ops_port(), "/readyz"), 200);
  EXPECT_EQ(HttpStatus(mgr.ops_port(), "/healthz"), 200);
  // An owned ConfigMap's event reaches its owner's key.
  kube::Json child = ConfigMap(ns, "child");
  ASSERT_TRUE(kube::SetControllerReference(*vm, &child).ok());
  const size_t before = rec.Count(ns + "/vm-1");
  ASSERT_TRUE(api->Create(kube::resources::kConfigMaps, ns, child).ok());
  EXPECT_TRUE(Eventually([&] { return rec.Count(ns + "/vm-1") > before; }));
  EXPECT_EQ(rec.Count(ns + "/child"), 0u);
  stop.request_stop();
  run.join();
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_FALSE(mgr.IsWorking());
}

// Two managers campaign for one lease. The leader reconciles; on a clean stop it cancels and
// drains its in-flight reconcile BEFORE releasing the lease, so the standby's first reconcile
// starts after the leader's last one ended (timestamps on one machine's clock).
TEST(ManagerIT, CleanStopDrainsBeforeTheLeaseIsReleased) {
  auto api_a = ClientFromEnv();
  auto api_b = ClientFromEnv();
  ASSERT_NE(api_a, nullptr);
  ASSERT_NE(api_b, nullptr);
  const std::string ns = CreateTestNamespace(*api_a, "it-mgr-le");
  ASSERT_TRUE(api_a->Create(kube::resources::kConfigMaps, ns, ConfigMap(ns, "work")).ok());
  struct Interval {
    std::string who;
    std::chrono::steady_clock::time_point start, end;
  };
  std::mutex mu;
  std::vector<Interval> intervals;
  auto make = [&](kube::ApiClient& api, const std::string& id) {
    ManagerOptions mo;
    mo.name = id;
    mo.ops_port = -1;
    kube::LeaderElectionConfig le;
    le.lease_namespace = ns;
    le.lease_name = "mgr";
    le.identity = id;
    le.lease_duration = std::chrono::milliseconds(6000);
    le.renew_deadline = std::chrono::milliseconds(4000);
    le.retry_period = std::chrono::milliseconds(300);
    mo.leader_election = le;
    auto mgr = std::make_unique<Manager>(api, std::move(mo));
    kube::InformerOptions io;
    io.ns = ns;
    ControllerSpec spec;
    spec.name = "slow";
    // Each reconcile "works" for up to 2 s, stopping early when cancelled, then requeues.
    spec.reconcile = [&, id](const std::string&, std::stop_token stop) {
      const auto start = std::chrono::steady_clock::now();
      std::mutex m;
      std::condition_variable_any cv;
      std::unique_lock<std::mutex> l(m);
      cv.wait_for(l, stop, std::chrono::seconds(2), [] { return false; });
      std::lock_guard<std::mutex> g(mu);
      intervals.push_back({id, start, std::chrono::steady_clock::now()});
      return controller::ReconcileResult::RequeueAfter(std::chrono::milliseconds(10));
    };
    spec.watches = {For(mgr->SharedInformer(kube::resources::kConfigMaps, io))};
    EXPECT_TRUE(mgr->AddController(std::move(spec)).ok());
    return mgr;
  };
  auto a = make(*api_a, "a");
  auto b = make(*api_b, "b");
  std::stop_source stop_a, stop_b;
  std::thread ra([&] { EXPECT_TRUE(a->Run(stop_a.get_token()).ok()); });
  ASSERT_TRUE(a->WaitForStarted(std::chrono::seconds(30)));
  std::thread rb([&] { EXPECT_TRUE(b->Run(stop_b.get_token()).ok()); });
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> g(mu);
    return intervals.size() >= 2;
  }));
  EXPECT_FALSE(b->IsWorking());
  const auto stop_at = std::chrono::steady_clock::now();
  stop_a.request_stop();
  ra.join();
  // Released: b takes over within a few retry periods, not a lease duration.
  ASSERT_TRUE(b->WaitForStarted(std::chrono::seconds(20)));
  const auto took = std::chrono::steady_clock::now() - stop_at;
  EXPECT_LT(took, std::chrono::milliseconds(5000));
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> g(mu);
    return !intervals.empty() && intervals.back().who == "b";
  }));
  stop_b.request_stop();
  rb.join();
  std::lock_guard<std::mutex> g(mu);
  std::chrono::steady_clock::time_point a_last_end{},
      b_first_start = std::chrono::steady_clock::time_point::max();
  for (const auto& i : intervals) {
    if (i.who == "a") a_last_end = std::max(a_last_end, i.end);
    if (i.who == "b") b_first_start = std::min(b_first_start, i.start);
  }
  EXPECT_LT(a_last_end, b_first_start) << "the standby reconciled while the old leader still did";
  // The in-flight reconcile was cancelled, not waited out (2 s).
  EXPECT_LT(a_last_end - stop_at, std::chrono::milliseconds(1900));
}

}  // namespace
}  // namespace ferry::manager

// Informer, EventRecorder and LeaderElector against a real kube-apiserver.
#include <atomic>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/leader_election.h"
#include "kube_env.h"

namespace ferry::kube {
namespace {

using testing::ClientFromEnv;
using testing::CreateTestNamespace;
using testing::Eventually;
using testing::VirtualMachine;

std::vector<std::string> NodeOf(const Json& vm) {
  auto s = vm.find("status");
  if (s == vm.end() || !s->is_object() || !s->contains("nodeName")) return {};
  return {(*s)["nodeName"].get<std::string>()};
}

TEST(InformerIT, SyncsThenFollowsAddUpdateDeleteWithIndex) {
  auto api = ClientFromEnv();
  ASSERT_NE(api, nullptr);
  const std::string ns = CreateTestNamespace(*api, "it-inf");
  const auto& rt = resources::kVirtualMachines;
  for (const char* name : {"vm-1", "vm-2", "vm-3"}) ASSERT_TRUE(api->Create(rt, ns, VirtualMachine(ns, name)).ok());

  InformerOptions opts;
  opts.ns = ns;
  opts.page_size = 2;  // the initial list takes two pages
  Informer inf(*api, rt, opts);
  inf.AddIndex("node", NodeOf);
  std::mutex mu;
  std::vector<std::string> seen;
  inf.AddEventHandler({[&](const ObjectPtr& o) {
                         std::lock_guard<std::mutex> l(mu);
                         seen.push_back("add " + ObjectKey(*o));
                       },
                       [&](const ObjectPtr&, const ObjectPtr& n) {
                         std::lock_guard<std::mutex> l(mu);
                         seen.push_back("update " + ObjectKey(*n));
                       },
                       [&](const ObjectPtr& o, DeleteReason why) {
                         std::lock_guard<std::mutex> l(mu);
                         seen.push_back(std::string(why == DeleteReason::kDeleted ? "delete " : "gone? ") +
                                        ObjectKey(*o));
                       }});
  std::jthread runner([&](std::stop_token st) { inf.Run(st); });
  ASSERT_TRUE(inf.WaitForSync(runner.get_stop_token(), std::chrono::seconds(20)));
  EXPECT_EQ(inf.store().Size(), 3u);
  EXPECT_FALSE(inf.LastResourceVersion().empty());
  EXPECT_FALSE(inf.store().Get(ns + "/vm-1")->at("metadata").contains("managedFields"));

  ASSERT_TRUE(api->Create(rt, ns, VirtualMachine(ns, "vm-4")).ok());
  ASSERT_TRUE(api->Patch(rt, ns, "vm-2", Json{{"status", {{"nodeName", "node-a"}}}}, PatchType::kMerge, true).ok());
  ASSERT_TRUE(api->Delete(rt, ns, "vm-3").ok());
  // The store changes before the handlers hear of it (Upsert, then Notify): wait for both, or
  // the last event can still be on its way to the handler when `seen` is read.
  ASSERT_TRUE(Eventually([&] {
    auto vm2 = inf.store().Get(ns + "/vm-2");
    std::lock_guard<std::mutex> l(mu);
    return inf.store().Size() == 3 && inf.store().Get(ns + "/vm-4") && !inf.store().Get(ns + "/vm-3") &&
           vm2 && !NodeOf(*vm2).empty() && seen.size() >= 6;
  }));
  auto on_a = inf.store().ByIndex("node", "node-a");
  ASSERT_EQ(on_a.size(), 1u);
  EXPECT_EQ((*on_a[0])["metadata"]["name"], "vm-2");
  std::lock_guard<std::mutex> l(mu);
  const std::vector<std::string> want = {"add " + ns + "/vm-1", "add " + ns + "/vm-2", "add " + ns + "/vm-3",
                                         "add " + ns + "/vm-4", "update " + ns + "/vm-2", "delete " + ns + "/vm-3"};
  std::vector<std::string> sorted_first3(seen.begin(), seen.begin() + std::min<size_t>(3, seen.size()));
  std::sort(sorted_first3.begin(), sorted_first3.end());
  ASSERT_EQ(seen.size(), want.size());
  EXPECT_EQ(sorted_first3, std::vector<std::string>(want.begin(), want.begin() + 3));
  EXPECT_EQ(std::vector<std::string>(seen.begin() + 3, seen.end()), std::vector<std::string>(want.begin() + 3, want.end()));
  EXPECT_EQ(inf.stats().lists, 1u);
}

TEST(InformerIT, WatchTimeoutIsFollowedByAResumeNotARelist) {
  auto api = ClientFromEnv();
  ASSERT_NE(api, nullptr);
  const std::string ns = CreateTestNamespace(*api, "it-tmo");
  InformerOptions opts;
  opts.ns = ns;
  opts.watch_timeout_seconds = 1;  // the server ends each watch after 1 s
  Informer inf(*api, resources::kConfigMaps, opts);
  std::jthread runner([&](std::stop_token st) { inf.Run(st); });
  ASSERT_TRUE(inf.WaitForSync(runner.get_stop_token(), std::chrono::seconds(20)));
  ASSERT_TRUE(Eventually([&] { return inf.stats().watches >= 3; }));
  ASSERT_TRUE(api->Create(resources::kConfigMaps, ns, testing::ConfigMap(ns, "late")).ok());
  ASSERT_TRUE(Eventually([&] { return inf.store().Get(ns + "/late") != nullptr; }));
  EXPECT_EQ(inf.stats().lists, 1u);
  EXPECT_EQ(inf.stats().watch_errors, 0u);
}

TEST(EventRecorderIT, RepeatsAreAggregatedIntoOneEvent) {
  auto api = ClientFromEnv();
  ASSERT_NE(api, nullptr);
  const std::string ns = CreateTestNamespace(*api, "it-ev");
  auto vm = api->Create(resources::kVirtualMachines, ns, VirtualMachine(ns, "vm-e"));
  ASSERT_TRUE(vm.ok());
  EventRecorder rec(*api, "ferry-operator", "test-host");
  for (int i = 0; i < 3; ++i) rec.Record(*vm, EventType::kNormal, "Scheduled", "placed on node-a");
  rec.Record(*vm, EventType::kWarning, "MigrationFailed", "target unreachable");
  rec.Flush();
  EXPECT_EQ(rec.stats().created, 2u);
  EXPECT_EQ(rec.stats().aggregated, 2u);
  EXPECT_EQ(rec.stats().dropped, 0u);
  auto events = api->List(resources::kEvents, ns, {});
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->items.size(), 2u);
  std::map<std::string, Json> by_reason;
  for (const auto& e : events->items) by_reason[e["reason"]] = e;
  EXPECT_EQ(by_reason["Scheduled"]["count"], 3);
  EXPECT_EQ(by_reason["Scheduled"]["type"], "Normal");
  EXPECT_EQ(by_reason["Scheduled"]["involvedObject"]["uid"], (*vm)["metadata"]["uid"]);
  EXPECT_EQ(by_reason["Scheduled"]["involvedObject"]["kind"], "VirtualMachine");
  EXPECT_EQ(by_reason["Scheduled"]["source"]["component"], "ferry-operator");
  EXPECT_EQ(by_reason["MigrationFailed"]["count"], 1);
  EXPECT_EQ(by_reason["MigrationFailed"]["type"], "Warning");
}

struct Candidate {
  std::unique_ptr<RestApiClient> api;
  std::unique_ptr<LeaderElector> elector;
  std::jthread thread;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
};

void StartCandidate(Candidate* c, const std::string& ns, const std::string& lease, const std::string& id,
                    bool release_on_cancel) {
  c->api = ClientFromEnv();
  LeaderElectionConfig cfg;
  cfg.lease_namespace = ns;
  cfg.lease_name = lease;
  cfg.identity = id;
  cfg.release_on_cancel = release_on_cancel;
  cfg.on_started_leading = [c] { c->started = true; };
  cfg.on_stopped_leading = [c] { c->stopped = true; };
  c->elector = std::make_unique<LeaderElector>(*c->api, cfg);
  c->thread = std::jthread([c](std::stop_token st) { (void)c->elector->Run(st); });
}

TEST(LeaderElectionIT, OneLeaderThenTakeoverWithinLeaseDurationAfterLeaderDies) {
  auto api = ClientFromEnv();
  ASSERT_NE(api, nullptr);
  const std::string ns = CreateTestNamespace(*api, "it-le");
  Candidate a, b;
  // release_on_cancel=false: stopping a is a crash, the lease is left as it was.
  StartCandidate(&a, ns, "ferry-operator", "candidate-a", false);
  ASSERT_TRUE(Eventually([&] { return a.started.load(); }));
  StartCandidate(&b, ns, "ferry-operator", "candidate-b", false);
  // b must stay a follower while a renews (three retry periods).
  std::this_thread::sleep_for(std::chrono::seconds(6));
  EXPECT_FALSE(b.started.load());
  EXPECT_TRUE(a.elector->IsLeader());
  EXPECT_EQ(b.elector->ObservedHolder(), "candidate-a");

  const auto killed_at = std::chrono::steady_clock::now();
  a.thread.request_stop();
  a.thread.join();
  ASSERT_TRUE(Eventually([&] { return b.started.load(); }, std::chrono::seconds(30)));
  const double takeover_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  // The lease is 15 s; b notices within one retry period (2 s) after it expires.
  EXPECT_LE(takeover_s, 15.0 + 2.0 + 1.0);
  EXPECT_GE(takeover_s, 15.0 - 2.0 - 1.0);  // and never while a's lease was still valid
  std::printf("leader takeover after the leader died: %.1f s (lease 15 s, retry 2 s)\n", takeover_s);
  auto lease = api->Get(resources::kLeases, ns, "ferry-operator");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "candidate-b");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
  EXPECT_EQ((*lease)["spec"]["leaseDurationSeconds"], 15);
}

TEST(LeaderElectionIT, CleanStopReleasesTheLeaseForAnImmediateSuccessor) {
  auto api = ClientFromEnv();
  ASSERT_NE(api, nullptr);
  const std::string ns = CreateTestNamespace(*api, "it-le2");
  Candidate a, b;
  StartCandidate(&a, ns, "lease", "a", true);
  ASSERT_TRUE(Eventually([&] { return a.started.load(); }));
  StartCandidate(&b, ns, "lease", "b", true);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto stopped_at = std::chrono::steady_clock::now();
  a.thread.request_stop();
  a.thread.join();
  EXPECT_TRUE(a.stopped.load());
  ASSERT_TRUE(Eventually([&] { return b.started.load(); }, std::chrono::seconds(10)));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped_at).count();
  EXPECT_LE(s, 2.0 + 1.5);  // one retry period, not a whole lease duration
}

// on_stopped_leading runs while we still hold the lease (the work stops before a successor
// may start), and on_new_leader runs without the elector's lock (it may call back into it).
TEST(LeaderElectionIT, StoppedLeadingRunsBeforeReleaseAndCallbacksRunUnlocked) {
  auto api = ClientFromEnv();
  ASSERT_NE(api, nullptr);
  const std::string ns = CreateTestNamespace(*api, "it-le3");
  auto own = ClientFromEnv();
  LeaderElectionConfig cfg;
  cfg.lease_namespace = ns;
  cfg.lease_name = "lease";
  cfg.identity = "a";
  std::atomic<bool> started{false};
  std::string holder_when_stopping = "(not called)";
  std::vector<std::string> new_leaders;
  LeaderElector* self = nullptr;
  cfg.on_started_leading = [&] { started = true; };
  cfg.on_stopped_leading = [&] {
    auto l = api->Get(resources::kLeases, ns, "lease");
    holder_when_stopping = l.ok() ? (*l)["spec"].value("holderIdentity", "") : l.status().ToString();
  };
  cfg.on_new_leader = [&](const std::string& who) { new_leaders.push_back(who + "/" + self->ObservedHolder()); };
  LeaderElector elector(*own, cfg);
  self = &elector;
  std::jthread run([&](std::stop_token st) { (void)elector.Run(st); });
  ASSERT_TRUE(Eventually([&] { return started.load(); }));
  // A second candidate's view: the holder as seen by an elector that then asks itself.
  LeaderElectionConfig other = cfg;
  other.identity = "b";
  other.on_started_leading = nullptr;
  other.on_stopped_leading = nullptr;
  LeaderElector* other_self = nullptr;
  std::vector<std::string> other_seen;
  other.on_new_leader = [&](const std::string& who) { other_seen.push_back(who + "/" + other_self->ObservedHolder()); };
  LeaderElector b(*own, other);
  other_self = &b;
  auto attempt = std::async(std::launch::async, [&] { return b.TryAcquireOrRenew(); });
  ASSERT_EQ(attempt.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "on_new_leader deadlocked: it ran under the elector's lock";
  EXPECT_FALSE(attempt.get());
  EXPECT_EQ(other_seen, std::vector<std::string>{"a/a"});
  run.request_stop();
  run.join();
  EXPECT_EQ(holder_when_stopping, "a") << "the lease was released before the work stopped";
  auto lease = api->Get(resources::kLeases, ns, "lease");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "");  // released afterwards
  EXPECT_TRUE(elector.Check().ok());
}

TEST(LeaderElectionIT, InvalidConfigIsRejected) {
  LeaderElectionConfig c;
  c.identity = "x";
  c.renew_deadline = c.lease_duration;
  EXPECT_EQ(LeaderElector::Validate(c).code(), StatusCode::kInvalid);
  c = LeaderElectionConfig{};
  EXPECT_EQ(LeaderElector::Validate(c).code(), StatusCode::kInvalid);  // no identity
  c.identity = "x";
  EXPECT_TRUE(LeaderElector::Validate(c).ok());
}

}  // namespace
}  // namespace ferry::kube

// The incremental view against a rebuild: random sequences of informer-style events (Nodes,
// Hypervisors, VMs, groups and migrations added, changed, removed, repeated, finished) are
// applied to a ClusterView in place and to a plain model; after every event a fresh view is
// built from the model, and the two must agree on everything a caller can see: the state,
// the problems, the usage of every node, and every decision and plan. Every few events a
// third view, fed the model's objects in a shuffled order, must agree too.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <string>

#include "placement/drain.h"
#include "placement/group_move.h"
#include "placement/group_status.h"
#include "placement/placement.h"
#include "placement/rebalance.h"
#include "test_builders.h"
#include "view_compare.h"

namespace ferry::placement {
namespace {

using ::ferry::placement::testing::CompareViews;
using ::ferry::placement::testing::ViewComparison;

// Seeds × events keep the binary within a few seconds under ASan on two shared cores.
constexpr uint64_t kSeeds = 150;
constexpr int kEvents = 40;

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen_);
  }
  bool Chance(int percent) { return Int(1, 100) <= percent; }
  template <typename Map>
  std::string KeyOf(const Map& m) {
    auto it = m.begin();
    std::advance(it, Int(0, static_cast<int64_t>(m.size()) - 1));
    return it->first;
  }
  std::mt19937_64& gen() { return gen_; }

 private:
  std::mt19937_64 gen_;
};

// What the informers would hold: each object by name.
struct Model {
  std::map<std::string, NodeInfo> nodes;
  std::map<std::string, HypervisorInfo> hypervisors;
  std::map<std::string, Vm> vms;
  std::map<std::string, ServerGroup> groups;
  std::map<std::string, InFlightMigration> migrations;

  ClusterSnapshot Snapshot() const {
    ClusterSnapshot s;
    std::map<std::string, Node> merged;
    for (const auto& [name, info] : nodes) {
      Node& n = merged[name];
      n.name = name;
      n.has_node_object = true;
      n.has_hypervisor = false;
      n.hypervisor_ready = false;
      n.ready = info.ready;
      n.unschedulable = info.unschedulable;
      n.labels = info.labels;
      n.taints = info.taints;
    }
    for (const auto& [name, hv] : hypervisors) {
      Node& n = merged[name];
      if (n.name.empty()) {
        n.name = name;
        n.has_node_object = false;
        n.ready = false;
      }
      n.has_hypervisor = true;
      n.hypervisor_ready = hv.ready;
      n.cpu_millis = hv.cpu_millis;
      n.memory_bytes = hv.memory_bytes;
      n.dedicated_cpus = hv.dedicated_cpus;
      n.numa_cells = hv.numa_cells;
      n.hugepages = hv.hugepages;
      n.cpu_model = hv.cpu_model;
      n.cpu_models = hv.cpu_models;
      n.version = hv.version;
    }
    for (auto& [name, n] : merged) s.nodes.push_back(n);
    for (const auto& [name, v] : vms) s.vms.push_back(v);
    for (const auto& [name, g] : groups) s.groups.push_back(g);
    for (const auto& [name, m] : migrations) s.migrations.push_back(m);
    return s;
  }
};

const char* kNodeNames[] = {"n0", "n1", "n2", "n3", "n4", "n5", "n6"};
const char* kGroupNames[] = {"g0", "g1", "g2"};

NodeInfo RandomNodeInfo(Rng& rng, const std::string& name) {
  NodeInfo n;
  n.name = name;
  n.ready = !rng.Chance(10);
  n.unschedulable = rng.Chance(10);
  n.labels = {{"zone", rng.Chance(50) ? "a" : "b"}};
  if (rng.Chance(10)) n.taints = {{"dedicated", "x", TaintEffect::kNoSchedule}};
  return n;
}

HypervisorInfo RandomHypervisor(Rng& rng, const std::string& name) {
  HypervisorInfo h;
  h.name = name;
  h.ready = !rng.Chance(10);
  const int64_t cpus = rng.Int(4, 16);
  h.cpu_millis = cpus * 1000;
  h.memory_bytes = rng.Int(8, 40) * kGi;
  if (rng.Chance(50)) h.dedicated_cpus = rng.Int(2, cpus);
  if (rng.Chance(50)) {
    // Uneven cells, so the packing order matters.
    h.numa_cells = {{h.cpu_millis / 2, rng.Int(3, 12) * kGi},
                    {h.cpu_millis / 2, rng.Int(3, 12) * kGi}};
  }
  if (rng.Chance(40)) h.hugepages = {{kGi, rng.Int(0, 12) * kGi}};
  h.cpu_model = rng.Chance(50) ? "Skylake" : "Icelake";
  h.cpu_models = {"Haswell"};
  h.version = {MakeVersion(9, 0, 0), rng.Chance(50) ? MakeVersion(6, 2, 0) : MakeVersion(7, 2, 0)};
  return h;
}

Vm RandomVm(Rng& rng, const std::string& name) {
  Vm v;
  v.name = name;
  v.cpu_millis = rng.Int(1, 4) * 1000;
  v.memory_bytes = rng.Int(1, 6) * kGi;
  v.dedicated_cpus = rng.Chance(15);
  if (rng.Chance(30)) v.numa_nodes = static_cast<int>(rng.Int(1, 2));
  if (rng.Chance(10)) v.hugepage_size_bytes = kGi;
  const int64_t model = rng.Int(1, 10);
  v.cpu_model = model <= 7 ? "" : model <= 9 ? kHostPassthrough : "Haswell";
  if (rng.Chance(10)) v.node_selector = {{"zone", "a"}};
  if (rng.Chance(10)) v.tolerations = {Toleration::Exists("dedicated")};
  if (rng.Chance(50)) v.server_group = kGroupNames[rng.Int(0, 2)];
  if (rng.Chance(75)) v.node = kNodeNames[rng.Int(0, 6)];  // known or not (yet)
  const int64_t ev = rng.Int(1, 10);
  v.eviction_strategy = ev <= 7   ? EvictionStrategy::kLiveMigrate
                        : ev == 8 ? EvictionStrategy::kLiveMigrateIfPossible
                        : ev == 9 ? EvictionStrategy::kShutdown
                                  : EvictionStrategy::kNone;
  return v;
}

ServerGroup RandomGroup(Rng& rng, const std::string& name) {
  ServerGroup g;
  g.name = name;
  g.policy = rng.Chance(50) ? GroupPolicy::kAffinity : GroupPolicy::kAntiAffinity;
  g.best_effort = rng.Chance(50);
  g.max_per_node = static_cast<int>(rng.Int(1, 2));
  if (rng.Chance(20)) g.members = {"v1", "ghost"};
  return g;
}

// One random event, applied to the view and the model alike; returns what it was.
std::string ApplyRandomEvent(Rng& rng, Model& model, ClusterView& view) {
  auto check = [](const Status& s) { EXPECT_TRUE(s.ok()) << s; };
  const int64_t kind = rng.Int(0, 15);
  switch (kind) {
    case 0: {  // Node added or changed (cordoned, uncordoned, relabelled, tainted)
      NodeInfo n = RandomNodeInfo(rng, kNodeNames[rng.Int(0, 6)]);
      model.nodes[n.name] = n;
      check(view.UpsertNode(n));
      return "upsert node " + n.name;
    }
    case 1: {
      if (model.nodes.empty()) return "nothing";
      const std::string name = rng.KeyOf(model.nodes);
      model.nodes.erase(name);
      check(view.RemoveNode(name));
      return "remove node " + name;
    }
    case 2:
    case 3: {  // Hypervisor added or changed (capacity, cells, pools, readiness)
      HypervisorInfo h = RandomHypervisor(rng, kNodeNames[rng.Int(0, 6)]);
      model.hypervisors[h.name] = h;
      check(view.UpsertHypervisor(h));
      return "upsert hypervisor " + h.name;
    }
    case 4: {
      if (model.hypervisors.empty()) return "nothing";
      const std::string name = rng.KeyOf(model.hypervisors);
      model.hypervisors.erase(name);
      check(view.RemoveHypervisor(name));
      return "remove hypervisor " + name;
    }
    case 5:
    case 6:
    case 13:
    case 14:
    case 15: {  // VM created, placed, started, stopped, moved, resized, regrouped
      Vm v = RandomVm(rng, "v" + std::to_string(rng.Int(0, 9)));
      model.vms[v.name] = v;
      check(view.UpsertVm(v));
      return "upsert vm " + v.name + " on '" + v.node + "'";
    }
    case 7: {
      if (model.vms.empty()) return "nothing";
      const std::string name = rng.KeyOf(model.vms);
      model.vms.erase(name);
      check(view.RemoveVm(name));
      return "remove vm " + name;
    }
    case 8: {
      ServerGroup g = RandomGroup(rng, kGroupNames[rng.Int(0, 2)]);
      model.groups[g.name] = g;
      check(view.UpsertGroup(g));
      return "upsert group " + g.name;
    }
    case 9: {
      if (model.groups.empty()) return "nothing";
      const std::string name = rng.KeyOf(model.groups);
      model.groups.erase(name);
      check(view.RemoveGroup(name));
      return "remove group " + name;
    }
    case 10: {  // A migration reserved (or retargeted)
      InFlightMigration m;
      m.vm = "v" + std::to_string(rng.Int(0, 9));
      m.target_node = kNodeNames[rng.Int(0, 6)];
      if (auto it = model.vms.find(m.vm); it != model.vms.end()) m.source_node = it->second.node;
      m.name = "m" + std::to_string(rng.Int(0, 5));
      model.migrations[m.name] = m;
      check(view.UpsertMigration(m));
      return "upsert migration " + m.name + " of " + m.vm + " to " + m.target_node;
    }
    case 11: {  // finished: the VM is on the target now
      if (model.migrations.empty()) return "nothing";
      const std::string name = rng.KeyOf(model.migrations);
      const InFlightMigration m = model.migrations[name];
      model.migrations.erase(name);
      if (auto it = model.vms.find(m.vm); it != model.vms.end()) it->second.node = m.target_node;
      check(view.FinishMigration(name));
      return "finish migration " + name;
    }
    default: {  // 12: failed or cancelled
      if (model.migrations.empty()) return "nothing";
      const std::string name = rng.KeyOf(model.migrations);
      model.migrations.erase(name);
      check(view.RemoveMigration(name));
      return "remove migration " + name;
    }
  }
}

ClusterView FeedShuffled(const Model& model, Rng& rng) {
  std::vector<std::function<Status(ClusterView&)>> events;
  for (const auto& [name, n] : model.nodes) {
    events.push_back([&n](ClusterView& v) { return v.UpsertNode(n); });
  }
  for (const auto& [name, h] : model.hypervisors) {
    events.push_back([&h](ClusterView& v) { return v.UpsertHypervisor(h); });
  }
  for (const auto& [name, vm] : model.vms) {
    events.push_back([&vm](ClusterView& v) { return v.UpsertVm(vm); });
  }
  for (const auto& [name, g] : model.groups) {
    events.push_back([&g](ClusterView& v) { return v.UpsertGroup(g); });
  }
  for (const auto& [name, m] : model.migrations) {
    events.push_back([&m](ClusterView& v) { return v.UpsertMigration(m); });
  }
  std::shuffle(events.begin(), events.end(), rng.gen());
  ClusterView view;
  for (const auto& e : events) EXPECT_TRUE(e(view).ok());
  return view;
}

TEST(ViewPropertyTest, IncrementalViewEqualsARebuildAfterEveryEvent) {
  int events = 0;
  int decisions = 0;
  int scheduled = 0;
  int drain_steps = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Rng rng(seed);
    Model model;
    ClusterView view;
    std::string history;
    // A working cluster to start from (whole, mostly ready nodes), then anything goes.
    for (const char* name : kNodeNames) {
      NodeInfo n = RandomNodeInfo(rng, name);
      n.ready = n.ready || rng.Chance(80);
      model.nodes[name] = n;
      ASSERT_TRUE(view.UpsertNode(n).ok());
      HypervisorInfo h = RandomHypervisor(rng, name);
      h.ready = h.ready || rng.Chance(80);
      model.hypervisors[name] = h;
      ASSERT_TRUE(view.UpsertHypervisor(h).ok());
    }
    for (const char* name : kGroupNames) {
      model.groups[name] = RandomGroup(rng, name);
      ASSERT_TRUE(view.UpsertGroup(model.groups[name]).ok());
    }
    for (int i = 0; i < kEvents; ++i) {
      const std::string event = ApplyRandomEvent(rng, model, view);
      history += "\n  " + event;
      // Applying the same state again is a no-op, whatever the event was.
      if (rng.Chance(20)) {
        const uint64_t generation = view.generation();
        for (const auto& [name, vm] : model.vms) ASSERT_TRUE(view.UpsertVm(vm).ok());
        for (const auto& [name, m] : model.migrations) ASSERT_TRUE(view.UpsertMigration(m).ok());
        for (const auto& [name, n] : model.nodes) ASSERT_TRUE(view.UpsertNode(n).ok());
        ASSERT_EQ(view.generation(), generation) << "seed " << seed << history;
      }
      StatusOr<ClusterView> fresh = ClusterView::Build(model.Snapshot());
      ASSERT_TRUE(fresh.ok()) << fresh.status();
      const ViewComparison cmp = CompareViews(view, *fresh);
      ASSERT_EQ(cmp.difference, "") << "seed " << seed << ", after:" << history;
      if (i % 10 == 9) {
        ClusterView shuffled = FeedShuffled(model, rng);
        ASSERT_EQ(CompareViews(shuffled, *fresh).difference, "")
            << "seed " << seed << " (shuffled feed), after:" << history;
      }
      ++events;
      decisions += cmp.decisions;
      scheduled += cmp.scheduled;
      drain_steps += cmp.drain_steps;
    }
  }
  // The events must exercise the engine, or the comparison says little.
  EXPECT_GT(scheduled, decisions / 10);
  EXPECT_GT(drain_steps, events / 4);
  std::printf("events %d, decisions compared %d (%d scheduled), drain steps compared %d\n", events,
              decisions, scheduled, drain_steps);
}

}  // namespace
}  // namespace ferry::placement

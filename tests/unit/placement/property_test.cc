// Property tests on random clusters, thousands of seeds: every VM is placed through the
// engine, then migrations, a drain plan and a rebalance plan are applied step by step to a
// view kept current in place; an independent checker (written from the placement rules, not
// from the engine) verifies after each step, on a plain snapshot, that no strict rule is
// broken and no capacity is oversubscribed.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>

#include "placement/drain.h"
#include "placement/placement.h"
#include "placement/rebalance.h"
#include "test_builders.h"

namespace ferry::placement {
namespace {

using ::ferry::placement::testing::MustBuild;

// 5,000 seeds keep the whole unit binary well under 20 s with ASan on two shared cores.
constexpr uint64_t kSeeds = 5000;

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen_);
  }
  bool Chance(int percent) { return Int(1, 100) <= percent; }

 private:
  std::mt19937_64 gen_;
};

ClusterSnapshot RandomSpecs(Rng& rng) {
  ClusterSnapshot s;
  const int nodes = static_cast<int>(rng.Int(2, 10));
  for (int i = 0; i < nodes; ++i) {
    Node n;
    n.name = "n" + std::to_string(i);
    n.ready = !rng.Chance(5);
    n.unschedulable = rng.Chance(5);
    const int64_t cpus = rng.Int(4, 16);
    n.cpu_millis = cpus * 1000;
    n.memory_bytes = rng.Int(8, 48) * kGi;
    if (rng.Chance(50)) n.dedicated_cpus = rng.Int(2, cpus);
    if (rng.Chance(40)) {
      n.numa_cells = {{n.cpu_millis / 2, n.memory_bytes / 2},
                      {n.cpu_millis / 2, n.memory_bytes / 2}};
    }
    if (rng.Chance(40)) n.hugepages = {{kGi, rng.Int(0, 16) * kGi}};
    if (rng.Chance(10)) n.taints = {{"dedicated", "x", TaintEffect::kNoSchedule}};
    n.labels = {{"zone", rng.Chance(50) ? "a" : "b"}};
    n.cpu_model = rng.Chance(50) ? "Skylake" : "Icelake";
    n.cpu_models = {"Haswell"};
    n.version = {MakeVersion(9, 0, 0),
                 rng.Chance(50) ? MakeVersion(6, 2, 0) : MakeVersion(7, 2, 0)};
    s.nodes.push_back(std::move(n));
  }
  const int groups = static_cast<int>(rng.Int(0, 3));
  for (int i = 0; i < groups; ++i) {
    ServerGroup g;
    g.name = "g" + std::to_string(i);
    g.policy = rng.Chance(50) ? GroupPolicy::kAffinity : GroupPolicy::kAntiAffinity;
    g.best_effort = rng.Chance(50);
    g.max_per_node = static_cast<int>(rng.Int(1, 2));
    s.groups.push_back(std::move(g));
  }
  const int vms = static_cast<int>(rng.Int(0, nodes * 2));
  for (int i = 0; i < vms; ++i) {
    Vm v;
    v.name = "v" + std::to_string(i);
    v.cpu_millis = rng.Int(1, 4) * 1000;
    v.memory_bytes = rng.Int(1, 8) * kGi;
    v.dedicated_cpus = rng.Chance(15);
    if (rng.Chance(10)) v.numa_nodes = static_cast<int>(rng.Int(1, 2));
    if (rng.Chance(10)) v.hugepage_size_bytes = kGi;
    const int64_t model = rng.Int(1, 10);
    v.cpu_model = model <= 7 ? "" : model <= 9 ? kHostPassthrough : "Haswell";
    if (rng.Chance(10)) v.node_selector = {{"zone", "a"}};
    if (rng.Chance(10)) v.tolerations = {Toleration::Exists("dedicated")};
    if (groups > 0 && rng.Chance(40)) v.server_group = "g" + std::to_string(rng.Int(0, groups - 1));
    const int64_t ev = rng.Int(1, 10);
    v.eviction_strategy = ev <= 7   ? EvictionStrategy::kLiveMigrate
                          : ev == 8 ? EvictionStrategy::kLiveMigrateIfPossible
                          : ev == 9 ? EvictionStrategy::kShutdown
                                    : EvictionStrategy::kNone;
    s.vms.push_back(std::move(v));
  }
  return s;
}

// The independent checker. Returns "" when the snapshot keeps every hard rule.
std::string CheckInvariants(const ClusterSnapshot& s) {
  std::map<std::string, const Node*> nodes;
  for (const Node& n : s.nodes) nodes[n.name] = &n;
  std::map<std::string, const ServerGroup*> groups;
  for (const ServerGroup& g : s.groups) groups[g.name] = &g;
  std::map<std::string, std::string> target_of;
  for (const InFlightMigration& m : s.migrations) target_of[m.vm] = m.target_node;

  struct Used {
    int64_t cpu = 0, mem = 0, ded = 0, huge = 0, numa_mem = 0;
  };
  std::map<std::string, Used> used;
  std::map<std::pair<std::string, std::string>, std::set<std::string>> group_on;  // (g, node)
  std::map<std::string, std::set<std::string>> affinity_nodes;                    // g -> nodes
  for (const Vm& v : s.vms) {
    std::vector<std::string> where;
    if (!v.node.empty()) where.push_back(v.node);
    if (auto it = target_of.find(v.name); it != target_of.end()) where.push_back(it->second);
    for (const std::string& n : where) {
      Used& u = used[n];
      u.cpu += v.cpu_millis;
      (v.hugepage_size_bytes > 0 ? u.huge : u.mem) += v.memory_bytes;
      if (v.dedicated_cpus) u.ded += (v.cpu_millis + 999) / 1000;
      if (v.numa_nodes > 0) u.numa_mem += v.memory_bytes;
      if (!v.server_group.empty()) {
        group_on[{v.server_group, n}].insert(v.name);
        affinity_nodes[v.server_group].insert(n);
      }
    }
  }
  for (const auto& [name, u] : used) {
    const Node& n = *nodes.at(name);
    int64_t pool = 0;
    for (const HugepagePool& p : n.hugepages) pool += p.total_bytes;
    int64_t cell_mem = 0;
    for (const NumaCell& c : n.numa_cells) cell_mem += c.memory_bytes;
    if (u.cpu > n.cpu_millis) return name + ": cpu oversubscribed";
    if (u.mem > n.memory_bytes) return name + ": memory oversubscribed";
    if (u.ded > n.dedicated_cpus) return name + ": dedicated cpus oversubscribed";
    if (u.huge > pool) return name + ": hugepages oversubscribed";
    if (u.numa_mem > cell_mem) return name + ": NUMA cell memory oversubscribed";
  }
  for (const auto& [key, members] : group_on) {
    const ServerGroup& g = *groups.at(key.first);
    if (g.best_effort || g.policy != GroupPolicy::kAntiAffinity) continue;
    if (static_cast<int>(members.size()) > g.max_per_node) {
      return "strict anti-affinity group " + g.name + " has " + std::to_string(members.size()) +
             " members on " + key.second;
    }
  }
  for (const auto& [group, where] : affinity_nodes) {
    const ServerGroup& g = *groups.at(group);
    if (g.best_effort || g.policy != GroupPolicy::kAffinity) continue;
    // One node, or two while a group move is in flight.
    if (where.size() > (s.migrations.empty() ? 1u : 2u)) {
      return "strict affinity group " + g.name + " spans " + std::to_string(where.size()) +
             " nodes";
    }
  }
  return "";
}

// Node-level filters the chosen node must pass, checked independently of the engine.
std::string CheckNodeAllowed(const ClusterSnapshot& s, const Vm& v, const std::string& node) {
  for (const Node& n : s.nodes) {
    if (n.name != node) continue;
    if (!n.ready || n.unschedulable) return node + " is not ready or cordoned";
    for (const auto& [k, val] : v.node_selector) {
      auto it = n.labels.find(k);
      if (it == n.labels.end() || it->second != val) return node + " fails the node selector";
    }
    if (!n.taints.empty() && v.tolerations.empty()) return node + " has an untolerated taint";
    return "";
  }
  return node + " does not exist";
}

Vm* FindVm(ClusterSnapshot& s, const std::string& name) {
  for (Vm& v : s.vms) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

TEST(PlacementPropertyTest, RandomClustersKeepEveryHardRule) {
  int placed = 0, migrations = 0, drain_steps = 0, rebalance_moves = 0, blockers = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Rng rng(seed);
    ClusterSnapshot s = RandomSpecs(rng);
    // The engine works on a view kept current in place, as the operator's is; the checker
    // reads the plain snapshot `s`, changed in step.
    ClusterView view = MustBuild(s);
    int names = 0;
    auto start_migration = [&](const std::string& vm, const std::string& target) {
      InFlightMigration m{vm, FindVm(s, vm)->node, target, "m" + std::to_string(++names)};
      s.migrations.push_back(m);
      return m;
    };
    auto finish_all = [&] {
      for (const InFlightMigration& m : s.migrations) {
        FindVm(s, m.vm)->node = m.target_node;
        ASSERT_TRUE(view.FinishMigration(m.name).ok());
      }
      s.migrations.clear();
      ASSERT_EQ(view.Snapshot(), MustBuild(s).Snapshot());
    };
    // 1. First start of every VM, one by one.
    for (Vm& v : s.vms) {
      const TargetDecision d = ChooseTarget(view, {v.name, ""});
      const TargetDecision again = ChooseTarget(view, {v.name, ""});
      ASSERT_EQ(d.reason, again.reason) << "not deterministic";
      if (!d.scheduled) continue;
      ASSERT_EQ(CheckNodeAllowed(s, v, d.node), "") << d.reason;
      v.node = d.node;
      ASSERT_TRUE(view.UpsertVm(v).ok());
      ++placed;
      ASSERT_EQ(CheckInvariants(s), "") << "after placing " << v.name << ": " << d.reason;
    }
    // 2. A few migrations in flight.
    for (int i = 0; i < 3 && !s.vms.empty(); ++i) {
      Vm& v = s.vms[static_cast<size_t>(rng.Int(0, static_cast<int64_t>(s.vms.size()) - 1))];
      if (v.node.empty()) continue;
      const TargetDecision d = ChooseTarget(view, {v.name, ""});
      if (!d.scheduled) continue;
      ASSERT_NE(d.node, v.node);
      ASSERT_TRUE(view.UpsertMigration(start_migration(v.name, d.node)).ok());
      ++migrations;
      ASSERT_EQ(CheckInvariants(s), "") << "after starting migration of " << v.name;
    }
    ASSERT_EQ(view.Snapshot(), MustBuild(s).Snapshot());
    // 3. Drain a random node; apply its plan step by step.
    {
      const std::string drained =
          s.nodes[static_cast<size_t>(rng.Int(0, static_cast<int64_t>(s.nodes.size()) - 1))].name;
      DrainOptions options;
      options.allow_group_moves = rng.Chance(50);
      const StatusOr<DrainPlan> plan = PlanDrain(view, drained, options);
      ASSERT_TRUE(plan.ok()) << plan.status();
      blockers += static_cast<int>(plan->blockers.size());
      for (const DrainStep& step : plan->steps) {
        if (step.action != DrainAction::kMigrate) continue;
        if (step.group_move.empty()) {
          // Still valid at its turn, with every earlier step in flight.
          const TargetDecision d = ChooseTarget(view, {step.vm, step.target});
          ASSERT_TRUE(d.scheduled)
              << "drain step " << step.vm << " -> " << step.target << ": " << d.reason;
        }
        ASSERT_NE(step.target, drained);
        const InFlightMigration m = start_migration(step.vm, step.target);
        ASSERT_TRUE(ApplyStep(view, step, m.name).ok());
        ++drain_steps;
        ASSERT_EQ(CheckInvariants(s), "")
            << "after drain step " << step.vm << " -> " << step.target;
      }
      finish_all();
      ASSERT_EQ(CheckInvariants(s), "") << "after the drain completed";
    }
    // 4. Rebalance best-effort violators; apply.
    {
      const RebalancePlan plan = PlanRebalance(view);
      for (const RebalanceMove& m : plan.moves) {
        ASSERT_EQ(CheckNodeAllowed(s, *FindVm(s, m.vm), m.to), "");
        ASSERT_TRUE(ApplyMove(view, m, start_migration(m.vm, m.to).name).ok());
        ++rebalance_moves;
        ASSERT_EQ(CheckInvariants(s), "") << "after rebalance move " << m.vm;
      }
      finish_all();
      ASSERT_EQ(CheckInvariants(s), "") << "after the rebalance completed";
    }
  }
  // The generator must exercise the engine, or the properties say nothing.
  EXPECT_GT(placed, static_cast<int>(kSeeds) * 5);
  EXPECT_GT(migrations, static_cast<int>(kSeeds) / 2);
  EXPECT_GT(drain_steps, static_cast<int>(kSeeds) / 4);
  EXPECT_GT(rebalance_moves, 10);
  EXPECT_GT(blockers, 10);
  std::printf("placed %d, migrations %d, drain steps %d, rebalance moves %d, drain blockers %d\n",
              placed, migrations, drain_steps, rebalance_moves, blockers);
}

}  // namespace
}  // namespace ferry::placement

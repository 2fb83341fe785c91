#include "bench_cluster.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>

#include "placement/format.h"

namespace ferry::placement::bench {
namespace {

constexpr int64_t kNodeCpus = 64;       // 10 VMs of at most 4 CPUs fit with room to spare
constexpr int64_t kNodeMemoryGi = 256;  // 10 VMs of at most 16Gi fit
constexpr int64_t kNodeDedicated = 16;

Node MakeBenchNode(std::string name, std::mt19937_64& rng, int64_t scale) {
  Node n;
  n.name = std::move(name);
  n.cpu_millis = kNodeCpus * 1000 * scale;
  n.memory_bytes = kNodeMemoryGi * kGi * scale;
  n.dedicated_cpus = kNodeDedicated * scale;
  n.numa_cells = {{n.cpu_millis / 2, n.memory_bytes / 2}, {n.cpu_millis / 2, n.memory_bytes / 2}};
  n.hugepages = {{kGi, 32 * kGi * scale}};
  n.labels = {{"zone", (rng() % 3 == 0) ? "b" : "a"}, {"kubernetes.io/os", "linux"}};
  n.cpu_model = rng() % 2 == 0 ? "Skylake" : "Icelake";
  n.cpu_models = {"Haswell", "Broadwell"};
  n.version = {MakeVersion(9, 0, 0), MakeVersion(7, 2, 0)};
  // 1% cordoned, 1% not ready: real clusters always have some.
  const uint64_t r = rng() % 100;
  n.unschedulable = r == 0;
  n.ready = r != 1;
  return n;
}

Vm MakeBenchVm(std::string name, std::mt19937_64& rng) {
  Vm v;
  v.name = std::move(name);
  v.cpu_millis = static_cast<int64_t>(1 + rng() % 4) * 1000;
  v.memory_bytes = static_cast<int64_t>(2 + rng() % 15) * kGi;
  const uint64_t kind = rng() % 100;
  v.dedicated_cpus = kind < 5;
  v.numa_nodes = kind >= 5 && kind < 10 ? 1 : 0;
  v.cpu_model = kind >= 10 && kind < 20 ? kHostPassthrough : "";
  if (kind >= 20 && kind < 25) v.node_selector = {{"zone", "a"}};
  return v;
}

}  // namespace

BenchCluster MakeBenchCluster(const BenchShape& shape) {
  std::mt19937_64 rng(shape.seed);
  BenchCluster out;
  ClusterSnapshot& s = out.snapshot;
  s.nodes.reserve(static_cast<size_t>(shape.nodes + 1));
  for (int i = 0; i < shape.nodes; ++i) {
    s.nodes.push_back(MakeBenchNode("node-" + std::to_string(i), rng, 1));
  }
  // VMs: vms_per_node per node; per node the indices of VMs not yet in a group.
  std::vector<std::vector<size_t>> free_on(static_cast<size_t>(shape.nodes));
  for (int n = 0; n < shape.nodes; ++n) {
    for (int k = 0; k < shape.vms_per_node; ++k) {
      Vm v = MakeBenchVm("vm-" + std::to_string(n) + "-" + std::to_string(k), rng);
      v.cpu_model.clear();  // host-passthrough is assigned below, to ungrouped VMs only
      v.node = s.nodes[static_cast<size_t>(n)].name;
      free_on[static_cast<size_t>(n)].push_back(s.vms.size());
      s.vms.push_back(std::move(v));
    }
  }
  const size_t total = s.vms.size();
  const int groups =
      static_cast<int>(static_cast<double>(total) * shape.grouped_fraction / shape.group_size);
  for (int g = 0; g < groups; ++g) {
    ServerGroup group;
    group.name = "group-" + std::to_string(g);
    group.best_effort = static_cast<double>(g % 100) >= shape.strict_fraction * 100;
    group.policy = (g / 2) % 2 == 0 ? GroupPolicy::kAntiAffinity : GroupPolicy::kAffinity;
    if (group.policy == GroupPolicy::kAffinity) {
      // All members on one node with enough ungrouped VMs.
      for (int tries = 0; tries < 100; ++tries) {
        auto& pool = free_on[rng() % static_cast<uint64_t>(shape.nodes)];
        if (static_cast<int>(pool.size()) < shape.group_size) continue;
        for (int m = 0; m < shape.group_size; ++m) {
          s.vms[pool.back()].server_group = group.name;
          pool.pop_back();
        }
        break;
      }
    } else {
      // Members on distinct nodes (a best-effort group gets a violation now and then).
      std::vector<int> used;
      for (int m = 0; m < shape.group_size; ++m) {
        for (int tries = 0; tries < 100; ++tries) {
          const int n = static_cast<int>(rng() % static_cast<uint64_t>(shape.nodes));
          const bool taken = std::find(used.begin(), used.end(), n) != used.end();
          const bool violate = group.best_effort && m == 1 && g % 10 == 1;
          if ((taken && !violate) || free_on[static_cast<size_t>(n)].empty()) continue;
          if (violate && !used.empty()) {
            const int first = used.front();
            if (free_on[static_cast<size_t>(first)].empty()) continue;
            s.vms[free_on[static_cast<size_t>(first)].back()].server_group = group.name;
            free_on[static_cast<size_t>(first)].pop_back();
            break;
          }
          used.push_back(n);
          s.vms[free_on[static_cast<size_t>(n)].back()].server_group = group.name;
          free_on[static_cast<size_t>(n)].pop_back();
          break;
        }
      }
    }
    s.groups.push_back(std::move(group));
  }
  // host-passthrough only on ungrouped VMs, so group moves stay possible; 10% of VMs.
  for (auto& pool : free_on) {
    for (size_t i : pool) {
      if (rng() % 10 == 0) s.vms[i].cpu_model = kHostPassthrough;
    }
  }
  // A node with many VMs to drain.
  if (shape.big_node_vms > 0) {
    s.nodes.push_back(MakeBenchNode("big-0", rng, (shape.big_node_vms + 9) / 10));
    s.nodes.back().ready = true;
    s.nodes.back().unschedulable = false;
    for (int k = 0; k < shape.big_node_vms; ++k) {
      Vm v = MakeBenchVm("big-vm-" + std::to_string(k), rng);
      v.node = "big-0";
      if (k % 5 == 0 && !s.groups.empty()) {
        // Every fifth VM joins an anti-affinity group that has no member on big-0.
        for (size_t g = static_cast<size_t>(k); g < s.groups.size(); g += 4) {
          if (s.groups[g].policy == GroupPolicy::kAntiAffinity) {
            v.server_group = s.groups[g].name;
            break;
          }
        }
      }
      s.vms.push_back(std::move(v));
    }
  }
  // Migrations in flight: ungrouped VMs to a random other node.
  const int inflight = static_cast<int>(static_cast<double>(total) * shape.inflight_fraction);
  for (int i = 0; i < inflight; ++i) {
    const size_t n = rng() % static_cast<uint64_t>(shape.nodes);
    if (free_on[n].empty()) continue;
    const size_t v = free_on[n].back();
    free_on[n].pop_back();
    const size_t to = (n + 1 + rng() % static_cast<uint64_t>(shape.nodes - 1)) %
                      static_cast<uint64_t>(shape.nodes);
    s.migrations.push_back(
        {s.vms[v].name, s.vms[v].node, s.nodes[to].name, "mig-" + s.vms[v].name});
  }
  // Pending VMs (first start), some in groups.
  const int pending =
      std::max(1, static_cast<int>(static_cast<double>(total) * shape.pending_fraction));
  for (int i = 0; i < pending; ++i) {
    Vm v = MakeBenchVm("pending-" + std::to_string(i), rng);
    if (i % 5 == 0 && !s.groups.empty()) v.server_group = s.groups[rng() % s.groups.size()].name;
    out.pending_vms.push_back(v.name);
    s.vms.push_back(std::move(v));
  }
  for (const Vm& v : s.vms) {
    if (!v.node.empty()) out.placed_vms.push_back(v.name);
  }
  std::shuffle(out.placed_vms.begin(), out.placed_vms.end(), rng);
  return out;
}

ClusterView FeedShuffled(const ClusterSnapshot& s, uint64_t seed) {
  // Events as closures over the snapshot, shuffled, then applied in that order.
  std::vector<std::function<Status(ClusterView&)>> events;
  for (const Node& n : s.nodes) {
    events.push_back([&n](ClusterView& v) { return v.UpsertNode(NodeInfoOf(n)); });
    events.push_back([&n](ClusterView& v) { return v.UpsertHypervisor(HypervisorInfoOf(n)); });
  }
  for (const ServerGroup& g : s.groups) {
    events.push_back([&g](ClusterView& v) { return v.UpsertGroup(g); });
  }
  for (const Vm& vm : s.vms) events.push_back([&vm](ClusterView& v) { return v.UpsertVm(vm); });
  for (const InFlightMigration& m : s.migrations) {
    events.push_back([&m](ClusterView& v) { return v.UpsertMigration(m); });
  }
  std::mt19937_64 rng(seed);
  std::shuffle(events.begin(), events.end(), rng);
  ClusterView view;
  for (const auto& event : events) {
    const Status status = event(view);
    if (!status.ok()) {
      std::fprintf(stderr, "feeding the view failed: %s\n", status.ToString().c_str());
      std::abort();
    }
  }
  return view;
}

}  // namespace ferry::placement::bench

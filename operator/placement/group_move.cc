#include "placement/group_move.h"

#include <algorithm>
#include <array>
#include <utility>

#include "placement/explain.h"
#include "placement/filters.h"
#include "placement/format.h"

namespace ferry::placement {
namespace {

// Used capacity of one node that grows as members are fitted onto it one after another.
struct ScratchLedger {
  int64_t cpu = 0;
  int64_t mem = 0;
  int64_t ded = 0;
  std::array<int64_t, kMaxNumaCells> cell_cpu{};
  std::array<int64_t, kMaxNumaCells> cell_mem{};
  std::array<int64_t, kMaxHugepagePools> pools{};

  ScratchLedger(const ClusterIndex& index, const UsageTable& usage, NodeId node) {
    const Ledger l = LedgerOf(index, usage, node);
    cpu = l.cpu_millis;
    mem = l.memory_bytes;
    ded = l.dedicated_cpus;
    const Node& n = index.node(node);
    for (size_t c = 0; c < n.numa_cells.size(); ++c) {
      cell_cpu[c] = l.cell_cpu[c];
      cell_mem[c] = l.cell_mem[c];
    }
    for (size_t p = 0; p < n.hugepages.size(); ++p) pools[p] = l.pool_bytes[p];
  }
  Ledger View() const { return {cpu, mem, ded, cell_cpu.data(), cell_mem.data(), pools.data()}; }
  void Add(const Node& node, const Demand& d) {
    cpu += d.cpu_millis;
    mem += d.memory_bytes;
    ded += d.dedicated_cpus;
    for (size_t p = 0; p < node.hugepages.size(); ++p) {
      if (node.hugepages[p].page_size_bytes == d.hugepage_size) pools[p] += d.hugepage_bytes;
    }
    if (d.numa_nodes > 0) {
      const int64_t cpu_share = CeilDiv(d.cpu_millis, d.numa_nodes);
      const int64_t mem_share = CeilDiv(d.memory_bytes + d.hugepage_bytes, d.numa_nodes);
      std::array<int, kMaxNumaCells> chosen{};
      if (FitNumaCells(node, cell_cpu.data(), cell_mem.data(), d.numa_nodes, cpu_share, mem_share,
                       chosen.data())) {
        for (int i = 0; i < d.numa_nodes; ++i) {
          cell_cpu[static_cast<size_t>(chosen[static_cast<size_t>(i)])] += cpu_share;
          cell_mem[static_cast<size_t>(chosen[static_cast<size_t>(i)])] += mem_share;
        }
      }
    }
  }
};

GroupMoveDecision Infeasible(GroupMoveDecision d, std::string reason) {
  d.feasible = false;
  d.reason = std::move(reason);
  return d;
}

}  // namespace

GroupMoveDecision PlanGroupMoveWithUsage(const ClusterIndex& index, const UsageTable& usage,
                                         GroupId group, const std::vector<char>* excluded,
                                         const GroupMoveOptions& options) {
  GroupMoveDecision d;
  const ServerGroup& g = index.group(group);
  d.group = g.name;
  if (g.policy != GroupPolicy::kAffinity) {
    return Infeasible(std::move(d), "group " + g.name +
                                        " is an anti-affinity group; its members move one by one");
  }
  const std::vector<VmId>& members = index.members(group);
  if (members.empty()) return Infeasible(std::move(d), "group " + g.name + " has no members");
  int64_t total_mem = 0;
  int64_t total_cpu = 0;
  for (VmId m : members) {
    if (const NodeId to = usage.migrating_to[static_cast<size_t>(m)]; to != kNoId) {
      return Infeasible(std::move(d), "member " + index.vm(m).name + " of group " + g.name +
                                          " is already migrating to " + index.node(to).name);
    }
    total_mem += index.vm(m).memory_bytes;
    total_cpu += index.vm(m).cpu_millis;
  }
  if (index.node_count() == 0) return Infeasible(std::move(d), "no nodes in the cluster");

  const std::string group_needs = "group needs " + FormatMillicores(total_cpu) + " cpu, " +
                                  FormatBytes(total_mem) + " memory in all";
  std::vector<VmContext> contexts;  // per member, computed once
  contexts.reserve(members.size());
  for (VmId m : members) {
    contexts.push_back(MakeVmContext(index, usage, m, DemandOf(index.vm(m)), false));
    contexts.back().enforce_group = false;  // the whole group lands together
  }
  RejectionTally tally;  // example per filter for the summary
  std::vector<VmId> tally_vm(kFilterCount, kNoId);
  int32_t feasible = 0;
  for (NodeId n = 0; n < index.node_count(); ++n) {
    const Node& node = index.node(n);
    std::string why;
    if (excluded != nullptr && (*excluded)[static_cast<size_t>(n)] != 0) {
      why = "excluded: node is being drained or was excluded by the caller";
    }
    ScratchLedger ledger(index, usage, n);
    int movers = 0;
    for (size_t i = 0; why.empty() && i < members.size(); ++i) {
      const VmId m = members[i];
      // Already there, or not running anywhere (a pending member is placed with the group).
      if (index.location(m) == n || index.location(m) == kNoId) continue;
      ++movers;
      const VmContext& ctx = contexts[i];
      Rejection r = CheckStatic(index, ctx, n);
      if (!r.rejected()) r = CheckCapacity(index.capacity(n), ledger.View(), ctx.demand);
      if (r.rejected()) {
        if (tally.count[static_cast<size_t>(r.filter)] == 0) {
          tally_vm[static_cast<size_t>(r.filter)] = m;
        }
        tally.Add(n, r);
        why = "vm " + index.vm(m).name + ": " + DescribeRejection(index, m, n, r);
        if (IsCapacityFilter(r.filter)) why += " (" + group_needs + ")";
        break;
      }
      ledger.Add(node, ctx.demand);
    }
    if (why.empty() && movers == 0) why = "current node: the whole group is already here";
    if (!why.empty()) {
      if (options.explain_nodes) d.node_lines.push_back(node.name + ": " + why);
      continue;
    }
    ++feasible;
    // Score the node as it would be with the whole group on it.
    ScoreBreakdown s;
    auto free_pct = [](int64_t total, int64_t used) -> int64_t {
      if (total <= 0) return 0;
      return std::clamp<int64_t>(total - used, 0, total) * 100 / total;
    };
    s.least_loaded = static_cast<int32_t>(
        (free_pct(node.cpu_millis, ledger.cpu) + free_pct(node.memory_bytes, ledger.mem)) / 2);
    s.least_pinned = node.dedicated_cpus > 0
                         ? static_cast<int32_t>(free_pct(
                               node.dedicated_cpus, usage.dedicated_cpus[static_cast<size_t>(n)]))
                         : 100;
    s.group = 100;
    s.inflight = 100 / (1 + usage.inflight[static_cast<size_t>(n)]);
    const Weights& w = options.weights;
    s.total = int64_t{w.least_loaded} * s.least_loaded + int64_t{w.least_pinned} * s.least_pinned +
              int64_t{w.group} * s.group + int64_t{w.inflight} * s.inflight;
    if (options.explain_nodes) d.node_lines.push_back(node.name + ": " + DescribeScore(s, w));
    if (d.node_id == kNoId || s.total > d.score.total) {
      d.node_id = n;
      d.score = s;
    }
  }
  if (d.node_id == kNoId) {
    std::string summary;
    for (int f = 1; f < kFilterCount; ++f) {
      const auto i = static_cast<size_t>(f);
      if (tally.count[i] == 0) continue;
      summary +=
          (summary.empty() ? "" : "; ") + std::to_string(tally.count[i]) + " node(s) " +
          FilterName(static_cast<Filter>(f)) + " (" + index.node(tally.example_node[i]).name +
          ", vm " + index.vm(tally_vm[i]).name + ": " +
          DescribeRejection(index, tally_vm[i], tally.example_node[i], tally.example[i]) + ")";
    }
    return Infeasible(std::move(d), "no node fits all " + std::to_string(members.size()) +
                                        " members of group " + g.name + " (" + group_needs + ")" +
                                        (summary.empty() ? "" : ": " + summary));
  }
  d.feasible = true;
  d.node = index.node(d.node_id).name;
  for (VmId m : members) {
    if (index.location(m) != d.node_id && index.location(m) != kNoId) {
      d.moves.push_back(index.vm(m).name);
    }
  }
  d.reason = "group " + g.name + " moves to " + d.node + " (" + std::to_string(d.moves.size()) +
             " member(s) migrate; " + std::to_string(feasible) + " node(s) fit the group; " +
             DescribeScore(d.score, options.weights) + ")";
  return d;
}

GroupMoveDecision PlanGroupMove(const ClusterIndex& index, std::string_view group,
                                const GroupMoveOptions& options) {
  const GroupId g = index.FindGroup(group);
  if (g == kNoId) {
    GroupMoveDecision d;
    d.group = std::string(group);
    d.reason = "server group " + d.group + " does not exist";
    return d;
  }
  std::vector<char> excluded;
  if (!options.excluded_nodes.empty()) {
    excluded.assign(static_cast<size_t>(index.node_count()), 0);
    for (const std::string& name : options.excluded_nodes) {
      if (const NodeId n = index.FindNode(name); n != kNoId) excluded[static_cast<size_t>(n)] = 1;
    }
  }
  return PlanGroupMoveWithUsage(index, index.usage(), g, excluded.empty() ? nullptr : &excluded,
                                options);
}

}  // namespace ferry::placement

// Filters: may this VM go to this node? Each filter that says no returns a Rejection with
// the numbers behind it and its reason code; explain.h turns it into a sentence. Rejections
// are plain values (no strings) so that checking 5,000 nodes per decision stays cheap.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "placement/cluster_view.h"
#include "placement/reasons.h"

namespace ferry::placement {

// Why a node was rejected: one of the per-node reason codes (reasons.h), in filter order,
// so the first filter that rejects a node is the one reported. Capacity comes before the
// server-group rules, so "no compliant node" means there was room and only the rules said
// no. need/have are in the filter's unit (millicores, bytes, CPUs, cells, members,
// versions); ref is filter-specific: the taint index on the node, 0/1 for libvirt/QEMU
// version or passthrough/named model, the hugepage page size, the per-cell memory share, a
// conflicting member VM, the node holding an affinity group.
struct Rejection {
  Reason reason = Reason::kNone;
  int64_t need = 0;
  int64_t have = 0;
  int64_t ref = -1;
  bool rejected() const { return reason != Reason::kNone; }
};

// Where the other members of a group are (or will be): each member counts on its current
// node, and a migrating member also on its target (StarlingX counts both until it ends).
struct GroupPresence {
  std::vector<std::pair<NodeId, int32_t>> counts;  // sorted by node id, count > 0
  std::vector<VmId> example;                       // per entry of counts: its first member by name
  int32_t members = 0;                             // other members, placed or not
  // The group's main node: most members, ties to the node whose name sorts first; kNoId
  // when no other member holds a node. Best-effort affinity is honoured only here.
  NodeId main_node = kNoId;
  // Bit (node % 64) set for every node in counts: most nodes hold no member, and this says so
  // without a search.
  uint64_t mask = 0;
  int32_t CountOn(NodeId node) const;
  VmId ExampleOn(NodeId node) const;
};
// Members of `group` other than `exclude`, against `usage` (a plan's copy counts its moves).
GroupPresence ComputePresence(const ClusterView& view, const UsageTable& usage, GroupId group,
                              VmId exclude);

// What the filters need to know about the VM being placed, computed once per decision.
struct VmContext {
  VmId vm = kNoId;
  NodeId source = kNoId;  // current node when this is a migration
  Demand demand;
  GroupId group = kNoId;
  // The group's rule, copied here so the per-node checks do not look the group up.
  GroupPolicy policy = GroupPolicy::kAntiAffinity;
  bool best_effort = false;
  int32_t max_per_node = 1;
  GroupPresence presence;
  // NUMA shape of the demand (cells == 0 when none).
  NumaEntry numa;
  // Enforce the group's rule as a filter: strict groups always, best-effort ones when the
  // caller asks for a compliant node only (rebalance).
  bool enforce_group = false;
  // host-passthrough migration: the source's interned host model; -2 = no constraint.
  int32_t passthrough_model = -2;
  bool named_cpu_model = false;  // a named guest model the node must support
  // Node selector via the label index: per node, how many selector entries it matches.
  uint16_t selector_entries = 0;
  std::vector<uint16_t> selector_matches;
  int64_t libvirt_floor = 0;  // minimum target versions (0 = none)
  int64_t qemu_floor = 0;
  const std::vector<char>* excluded = nullptr;  // per node id, non-zero = excluded
  bool plain = true;                            // demand.IsPlain()
  // No selector, CPU model or version floor any node could fail: the static filters reduce
  // to exclusion, the node's own state and taints. Set by FinishStatic().
  bool only_basic_static = false;
  // Recomputes `plain` and only_basic_static; call after changing `demand`.
  void FinishStatic(const ClusterView& view);
};
VmContext MakeVmContext(const ClusterView& view, const UsageTable& usage, VmId vm,
                        const Demand& demand, bool enforce_best_effort);

// Used capacity of one node: the usage table's, or a scratch copy that grows while a group
// is fitted onto the node member by member.
struct Ledger {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  int64_t dedicated_cpus = 0;
  std::array<int64_t, kMaxHugepagePools> pool_bytes{};
  NumaLoad numa;
  // A plan's NUMA entries (UsageTable::planned_numa), of which this node's count here.
  const std::vector<std::pair<NodeId, NumaEntry>>* planned = nullptr;
  // NUMA entries added to this ledger (a group's members fitted so far).
  std::vector<NumaEntry> added;
  // Adds a demand as the view would count it (for member-by-member fitting).
  void Add(const ClusterView& view, NodeId node, const Demand& d);
  // The view's NUMA entries on `node` plus the planned and added ones.
  std::vector<NumaEntry> NumaEntries(const ClusterView& view, NodeId node) const;
};
Ledger LedgerOf(const ClusterView& view, const UsageTable& usage, NodeId node);

// Filters that do not depend on capacity or groups (node state, taints, selector, CPU
// model, version).
Rejection CheckStatic(const ClusterView& view, const VmContext& ctx, NodeId node);
// Free CPU, memory, dedicated CPUs, hugepages and NUMA cells for `demand`.
Rejection CheckCapacity(const ClusterView& view, NodeId node, const Ledger& used,
                        const Demand& demand);
// The server-group rule (only when ctx.enforce_group).
Rejection CheckGroup(const ClusterView& view, const VmContext& ctx, NodeId node);
// All of the above, in filter order.
Rejection CheckNode(const ClusterView& view, const UsageTable& usage, const VmContext& ctx,
                    NodeId node);

// Whether a toleration list tolerates a taint (Kubernetes semantics).
bool Tolerates(const std::vector<Toleration>& tolerations, const Taint& taint);
// The first NoSchedule/NoExecute taint of `node` the VM does not tolerate.
Rejection CheckTaints(const ClusterView& view, const VmContext& ctx, NodeId node);

// ---- Inline: these run for every node of every decision. ----

inline int32_t GroupPresence::CountOn(NodeId node) const {
  if (((mask >> (static_cast<uint32_t>(node) & 63)) & 1) == 0) return 0;
  auto it = std::lower_bound(counts.begin(), counts.end(), std::make_pair(node, int32_t{0}));
  return it != counts.end() && it->first == node ? it->second : 0;
}

inline VmId GroupPresence::ExampleOn(NodeId node) const {
  auto it = std::lower_bound(counts.begin(), counts.end(), std::make_pair(node, int32_t{0}));
  if (it == counts.end() || it->first != node) return kNoId;
  return example[static_cast<size_t>(it - counts.begin())];
}

// `facts` is view.facts(node_id) (the decision loop has it at hand).
inline Rejection CheckStatic(const ClusterView& view, const VmContext& ctx, NodeId node_id,
                             const NodeFacts& facts) {
  if (ctx.excluded != nullptr && (*ctx.excluded)[static_cast<size_t>(node_id)] != 0) {
    return {Reason::kExcluded};
  }
  if (ctx.only_basic_static) {
    // Nothing but the node's own state and taints can refuse this VM (FinishStatic).
    if (node_id == ctx.source) return {Reason::kCurrentNode};
    if (facts.blocked != 0) return {static_cast<Reason>(facts.blocked)};
    if (facts.has_hard_taints) return CheckTaints(view, ctx, node_id);
    return {};
  }
  if (node_id == ctx.source) return {Reason::kCurrentNode};
  if (facts.blocked != 0) return {static_cast<Reason>(facts.blocked)};
  if (facts.has_hard_taints) {
    if (const Rejection r = CheckTaints(view, ctx, node_id); r.rejected()) return r;
  }
  if (ctx.selector_entries > 0 &&
      ctx.selector_matches[static_cast<size_t>(node_id)] != ctx.selector_entries) {
    // Which entry failed is worked out only when the rejection is described.
    return {Reason::kNodeSelector};
  }
  if (ctx.passthrough_model != -2) {
    if (facts.cpu_model_id != ctx.passthrough_model) return {Reason::kCpuModel, 0, 0, 0};
  } else if (ctx.named_cpu_model) {
    const Vm& vm = view.vm(ctx.vm);
    const Node& node = view.node(node_id);
    if (node.cpu_model != vm.cpu_model && std::find(node.cpu_models.begin(), node.cpu_models.end(),
                                                    vm.cpu_model) == node.cpu_models.end()) {
      return {Reason::kCpuModel, 0, 0, 1};
    }
  }
  if (ctx.libvirt_floor > 0 && facts.libvirt_version < ctx.libvirt_floor) {
    return {Reason::kVersion, ctx.libvirt_floor, facts.libvirt_version, 0};
  }
  if (ctx.qemu_floor > 0 && facts.qemu_version < ctx.qemu_floor) {
    return {Reason::kVersion, ctx.qemu_floor, facts.qemu_version, 1};
  }
  return {};
}

inline Rejection CheckStatic(const ClusterView& view, const VmContext& ctx, NodeId node_id) {
  return CheckStatic(view, ctx, node_id, view.facts(node_id));
}

inline Rejection CheckGroup(const ClusterView& view, const VmContext& ctx, NodeId node) {
  (void)view;
  if (!ctx.enforce_group) return {};
  const int32_t here = ctx.presence.CountOn(node);
  if (ctx.policy == GroupPolicy::kAffinity) {
    if (ctx.best_effort) {
      // Asked for compliance (rebalance): only the group's main node.
      if (ctx.presence.main_node != kNoId && node != ctx.presence.main_node) {
        return {Reason::kAffinity, 1, here, ctx.presence.main_node};
      }
      return {};
    }
    if (!ctx.presence.counts.empty() && here == 0) {
      return {Reason::kAffinity, 1, 0, ctx.presence.main_node};
    }
    return {};
  }
  if (here >= ctx.max_per_node) {
    return {Reason::kAntiAffinity, ctx.max_per_node, here, ctx.presence.ExampleOn(node)};
  }
  return {};
}

// Capacity for a pinned, NUMA or hugepage demand, read straight from the usage table; only
// a NUMA demand the cell sums cannot decide builds a Ledger and packs.
// `numa` is NumaEntryOf(d), computed once per decision by the caller.
inline Rejection CheckSpecialCapacity(const ClusterView& view, const UsageTable& usage, NodeId node,
                                      const Demand& d, const NumaEntry& numa) {
  const NodeFacts& f = view.facts(node);
  const auto n = static_cast<size_t>(node);
  const NodeUse& use = usage.nodes[n];
  const int64_t cpu_free = f.cpu_millis - use.cpu_millis;
  if (d.cpu_millis > cpu_free) return {Reason::kCpu, d.cpu_millis, cpu_free};
  const int64_t mem_free = f.memory_bytes - use.memory_bytes;
  if (d.memory_bytes > mem_free) return {Reason::kMemory, d.memory_bytes, mem_free};
  if (d.dedicated_cpus > 0) {
    const int64_t ded_free = f.dedicated_cpus - use.dedicated_cpus;
    if (d.dedicated_cpus > ded_free) return {Reason::kDedicatedCpus, d.dedicated_cpus, ded_free};
  }
  if (d.hugepage_size > 0) return CheckCapacity(view, node, LedgerOf(view, usage, node), d);
  if (d.numa_nodes > 0) {
    const NumaEntry& x = numa;
    const NumaFacts& cells = view.numa_facts(node);
    const NumaLoad& load = usage.numa[n];
    if (x.cells <= f.cells && cells.min_cell_cpu >= load.share_cpu + x.cpu_share &&
        cells.min_cell_mem >= load.share_mem + x.mem_share) {
      return {};  // every cell could hold a share of every entry: all fit
    }
    return CheckCapacity(view, node, LedgerOf(view, usage, node), d);
  }
  return {};
}

// `facts` and `use` are the node's records (view.facts(node), usage.nodes[node]).
inline Rejection CheckNode(const ClusterView& view, const UsageTable& usage, const VmContext& ctx,
                           NodeId node, const NodeFacts& facts, const NodeUse& use) {
  Rejection r = CheckStatic(view, ctx, node, facts);
  if (r.rejected()) return r;
  const Demand& d = ctx.demand;
  if (ctx.plain) {
    // The common demand (no pinning, NUMA or hugepages): the packed records only.
    const int64_t cpu_free = facts.cpu_millis - use.cpu_millis;
    if (d.cpu_millis > cpu_free) return {Reason::kCpu, d.cpu_millis, cpu_free};
    const int64_t mem_free = facts.memory_bytes - use.memory_bytes;
    if (d.memory_bytes > mem_free) return {Reason::kMemory, d.memory_bytes, mem_free};
  } else {
    r = CheckSpecialCapacity(view, usage, node, d, ctx.numa);
    if (r.rejected()) return r;
  }
  return CheckGroup(view, ctx, node);
}

inline Rejection CheckNode(const ClusterView& view, const UsageTable& usage, const VmContext& ctx,
                           NodeId node) {
  return CheckNode(view, usage, ctx, node, view.facts(node),
                   usage.nodes[static_cast<size_t>(node)]);
}

}  // namespace ferry::placement

// Filters: may this VM go to this node? Each filter that says no returns a Rejection with
// the numbers behind it and its reason code; explain.h turns it into a sentence. Rejections
// are plain values (no strings) so that checking 5,000 nodes per decision stays cheap.
#pragma once

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
  GroupPresence presence;
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
  // NUMA entries beyond the view's own on this node (a plan's moves, a group's members).
  std::vector<NumaEntry> extra_numa;
  // Adds a demand as the view would count it (for member-by-member fitting).
  void Add(const ClusterView& view, NodeId node, const Demand& d);
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

}  // namespace ferry::placement

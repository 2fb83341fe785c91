// Filters: may this VM go to this node? Each filter that says no returns a Rejection with
// the numbers behind it; explain.h turns it into a sentence. Rejections are plain values
// (no strings) so that checking 5,000 nodes per decision stays cheap.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "placement/cluster_index.h"

namespace ferry::placement {

// In evaluation order: the first filter that rejects a node is the one reported.
// Capacity comes before the server-group rules so that "no compliant node" means there was
// room, only the rules said no.
enum class Filter : uint8_t {
  kNone = 0,     // passed every filter
  kExcluded,     // excluded by the caller (the node being drained, not the requested one)
  kCurrentNode,  // the VM already runs there
  kNotReady,
  kCordoned,
  kTaint,
  kNodeSelector,
  kCpuModel,
  kVersion,
  kCpu,
  kMemory,
  kDedicatedCpus,
  kHugepages,
  kNuma,
  kAffinity,
  kAntiAffinity,
};
inline constexpr int kFilterCount = static_cast<int>(Filter::kAntiAffinity) + 1;
const char* FilterName(Filter f);
inline bool IsGroupFilter(Filter f) { return f == Filter::kAffinity || f == Filter::kAntiAffinity; }
inline bool IsCapacityFilter(Filter f) {
  return f == Filter::kCpu || f == Filter::kMemory || f == Filter::kDedicatedCpus ||
         f == Filter::kHugepages || f == Filter::kNuma;
}

// Why a node was rejected. need/have are in the filter's unit (millicores, bytes, CPUs,
// cells, members, versions); ref is filter-specific: the taint index on the node, 0/1 for
// libvirt/QEMU version or passthrough/named model, the hugepage page size, a conflicting member VM,
// the node holding an affinity group. (The failing node-selector entry is found when the rejection
// is described.)
struct Rejection {
  Filter filter = Filter::kNone;
  int64_t need = 0;
  int64_t have = 0;
  int64_t ref = -1;
  bool rejected() const { return filter != Filter::kNone; }
};

// Where the other members of a group are (or will be): each member counts on its current
// node, and a migrating member also on its target (StarlingX counts both until it ends).
struct GroupPresence {
  std::vector<std::pair<NodeId, int32_t>> counts;  // sorted by node, count > 0
  std::vector<VmId> example;                       // one member per entry of counts
  int32_t members = 0;                             // other members, placed or not
  NodeId main_node = kNoId;  // the node with most members (ties: lowest id), or kNoId
  int32_t CountOn(NodeId node) const;
  VmId ExampleOn(NodeId node) const;
};
GroupPresence ComputePresence(const ClusterIndex& index, const UsageTable& usage, GroupId group,
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
  const std::vector<char>* excluded = nullptr;  // per node, non-zero = excluded
};
VmContext MakeVmContext(const ClusterIndex& index, const UsageTable& usage, VmId vm,
                        const Demand& demand, bool enforce_best_effort);

// Used capacity of one node: pointers into a UsageTable, or into a scratch copy when a
// group is fitted member by member.
struct Ledger {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  int64_t dedicated_cpus = 0;
  const int64_t* cell_cpu = nullptr;  // per cell of the node
  const int64_t* cell_mem = nullptr;
  const int64_t* pool_bytes = nullptr;  // per hugepage pool of the node
};
Ledger LedgerOf(const ClusterIndex& index, const UsageTable& usage, NodeId node);

// Filters that do not depend on capacity or groups (node state, taints, selector, CPU
// model, version).
Rejection CheckStatic(const ClusterIndex& index, const VmContext& ctx, NodeId node);
// Free CPU, memory, dedicated CPUs, hugepages and NUMA cells for `demand`.
Rejection CheckCapacity(const NodeCapacity& capacity, const Ledger& used, const Demand& demand);
// The server-group rule (only when ctx.enforce_group).
Rejection CheckGroup(const ClusterIndex& index, const VmContext& ctx, NodeId node);
// All of the above, in Filter order.
Rejection CheckNode(const ClusterIndex& index, const UsageTable& usage, const VmContext& ctx,
                    NodeId node);

// Whether a toleration list tolerates a taint (Kubernetes semantics).
bool Tolerates(const std::vector<Toleration>& tolerations, const Taint& taint);

}  // namespace ferry::placement

// ClusterIndex: a validated, indexed, immutable view of a ClusterSnapshot, built once per
// snapshot so that each decision costs one pass over the nodes and no lookups by name.
//
// UsageTable: what is in use on every node (VMs plus in-flight reservations). The index
// holds the usage of the snapshot; plans (drain, rebalance) copy it and record their own
// moves in the copy, so later steps see the effects of earlier ones.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "placement/types.h"

namespace ferry::placement {

using NodeId = int32_t;
using VmId = int32_t;
using GroupId = int32_t;
inline constexpr int32_t kNoId = -1;
// Vm::server_group names a group that is not in the snapshot.
inline constexpr GroupId kMissingGroup = -2;

// Limits that keep per-node scratch arrays fixed-size. Real hosts have at most 8 NUMA cells
// and 2-3 hugepage sizes; a snapshot beyond these is rejected as invalid.
inline constexpr int kMaxNumaCells = 64;
inline constexpr int kMaxHugepagePools = 8;

struct UsageTable {
  // Per node.
  std::vector<int64_t> cpu_millis;
  std::vector<int64_t> memory_bytes;
  std::vector<int64_t> dedicated_cpus;
  std::vector<int32_t> inflight;  // migrations into or out of the node
  // Flat per NUMA cell / hugepage pool; a node's slice starts at ClusterIndex offsets.
  std::vector<int64_t> cell_cpu_millis;
  std::vector<int64_t> cell_memory_bytes;
  std::vector<int64_t> hugepage_bytes;
  // Per VM: target node of its in-flight (or planned) migration, kNoId if none.
  std::vector<NodeId> migrating_to;
};

// The resources a VM asks of a node, after any relaxation.
struct Demand {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;    // regular memory (0 when backed by hugepages)
  int64_t dedicated_cpus = 0;  // whole CPUs from the pinnable pool
  int64_t hugepage_size = 0;   // 0 = none
  int64_t hugepage_bytes = 0;
  int numa_nodes = 0;
};

// The fields of a Node that every decision reads for every node, packed together so the
// filter loop over 5,000 nodes stays in cache (a Node with its maps and strings does not).
struct NodeFacts {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  int64_t dedicated_cpus = 0;
  int64_t libvirt_version = 0;
  int64_t qemu_version = 0;
  int32_t cpu_model_id = 0;  // interned Node::cpu_model
  bool ready = false;
  bool unschedulable = false;
  bool has_hard_taints = false;  // any NoSchedule/NoExecute taint
  int32_t cells = 0;             // NUMA cells (capacities in ClusterIndex flat arrays)
  int32_t pools = 0;             // hugepage pools (same)
};

// Capacity of one node as flat data (no pointer chasing into Node's vectors).
struct NodeCapacity {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  int64_t dedicated_cpus = 0;
  int cells = 0;
  const int64_t* cell_cpu = nullptr;
  const int64_t* cell_mem = nullptr;
  int pools = 0;
  const int64_t* pool_page_size = nullptr;
  const int64_t* pool_total = nullptr;
};

// Constraints dropped by relaxed pinning (oVirt's second phase).
struct Relaxation {
  bool drop_numa = false;
  bool drop_dedicated = false;
};

Demand DemandOf(const Vm& vm, Relaxation relax = {});

class ClusterIndex {
 public:
  // Validates and indexes. Fails (kInvalid) on what makes the snapshot ambiguous: empty or
  // duplicate names, negative quantities, more than kMaxNumaCells cells or kMaxHugepagePools
  // pools. Inconsistencies that leave the rest usable (a VM on an unknown node, a group
  // listing a missing VM, a migration of an unknown VM) are recorded in problems().
  static StatusOr<ClusterIndex> Build(ClusterSnapshot snapshot);

  // Move-only: the name maps point into the owned vectors.
  ClusterIndex(ClusterIndex&&) = default;
  ClusterIndex& operator=(ClusterIndex&&) = default;
  ClusterIndex(const ClusterIndex&) = delete;
  ClusterIndex& operator=(const ClusterIndex&) = delete;

  // Sorted by name, so decisions do not depend on input order.
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<Vm>& vms() const { return vms_; }
  const std::vector<ServerGroup>& groups() const { return groups_; }
  const Node& node(NodeId id) const { return nodes_[static_cast<size_t>(id)]; }
  const Vm& vm(VmId id) const { return vms_[static_cast<size_t>(id)]; }
  const ServerGroup& group(GroupId id) const { return groups_[static_cast<size_t>(id)]; }
  int node_count() const { return static_cast<int>(nodes_.size()); }
  int vm_count() const { return static_cast<int>(vms_.size()); }

  const NodeFacts& facts(NodeId id) const { return facts_[static_cast<size_t>(id)]; }
  NodeCapacity capacity(NodeId id) const;
  // Nodes carrying label key=value, ascending (empty when none).
  const std::vector<NodeId>& NodesWithLabel(const std::string& key, const std::string& value) const;
  // Interned host CPU model name, -1 when no node has it.
  int32_t CpuModelId(std::string_view model) const;

  NodeId FindNode(std::string_view name) const;  // kNoId if absent
  VmId FindVm(std::string_view name) const;
  GroupId FindGroup(std::string_view name) const;

  // Current node of a VM, kNoId when unplaced or on a node the snapshot does not have.
  NodeId location(VmId vm) const { return location_[static_cast<size_t>(vm)]; }
  // Group of a VM: kNoId for none, kMissingGroup when it names an unknown group.
  GroupId group_of(VmId vm) const { return group_of_[static_cast<size_t>(vm)]; }
  // Members of a group (by Vm::server_group), sorted by name.
  const std::vector<VmId>& members(GroupId g) const { return members_[static_cast<size_t>(g)]; }
  // VMs whose current node is `node`, sorted by name.
  const std::vector<VmId>& vms_on(NodeId n) const { return vms_on_[static_cast<size_t>(n)]; }

  int cell_offset(NodeId n) const { return cell_offset_[static_cast<size_t>(n)]; }
  int pool_offset(NodeId n) const { return pool_offset_[static_cast<size_t>(n)]; }
  // Index of the node's hugepage pool of `page_size` (absolute, into the flat arrays), or -1.
  int PoolIndex(NodeId n, int64_t page_size) const;

  // Usage of the snapshot: every placed VM on its node plus every in-flight reservation.
  const UsageTable& usage() const { return usage_; }

  // Non-fatal inconsistencies found while indexing, one sentence each.
  const std::vector<std::string>& problems() const { return problems_; }

  // Records `vm` (not already migrating) as migrating to `target`: reserves its demand
  // there and counts it on the target for in-flight and server-group purposes.
  // `demand` defaults to the VM's full demand; relaxed placements pass the relaxed one.
  void StartMigration(UsageTable& usage, VmId vm, NodeId target) const;
  void StartMigration(UsageTable& usage, VmId vm, NodeId target, const Demand& demand) const;
  // Adds `demand` of a VM to `node` (NUMA cells chosen as FitNumaCells would).
  void Reserve(UsageTable& usage, NodeId node, const Demand& demand) const;

 private:
  ClusterIndex() = default;
  Status Validate() const;
  void IndexVmsAndGroups();
  void ComputeUsage(const std::vector<InFlightMigration>& migrations);

  std::vector<Node> nodes_;
  std::vector<Vm> vms_;
  std::vector<ServerGroup> groups_;
  std::unordered_map<std::string_view, NodeId> node_by_name_;
  std::unordered_map<std::string_view, VmId> vm_by_name_;
  std::unordered_map<std::string_view, GroupId> group_by_name_;
  std::unordered_map<std::string_view, int32_t> cpu_model_ids_;
  std::vector<NodeFacts> facts_;
  std::vector<int64_t> cell_cpu_cap_;  // flat per cell, at cell_offset
  std::vector<int64_t> cell_mem_cap_;
  std::vector<int64_t> pool_page_size_;  // flat per pool, at pool_offset
  std::vector<int64_t> pool_total_;
  std::unordered_map<std::string, std::vector<NodeId>> label_index_;  // "key\0value" -> nodes
  std::vector<NodeId> location_;
  std::vector<GroupId> group_of_;
  std::vector<std::vector<VmId>> members_;
  std::vector<std::vector<VmId>> vms_on_;
  std::vector<int> cell_offset_;
  std::vector<int> pool_offset_;
  UsageTable usage_;
  std::vector<std::string> problems_;
};

// Chooses `k` NUMA cells of `node` for shares of (cpu_share, mem_share) given the cells'
// current use: cells with the most free memory first, ties to the lowest cell. Writes the
// chosen cell numbers to `chosen` (size >= k) and returns true when k cells fit.
bool FitNumaCells(const Node& node, const int64_t* cell_cpu_used, const int64_t* cell_mem_used,
                  int k, int64_t cpu_share, int64_t mem_share, int* chosen);

// Per-cell share of a demand split over k cells (rounded up, so the cells cover it all).
int64_t CeilDiv(int64_t a, int64_t b);

}  // namespace ferry::placement

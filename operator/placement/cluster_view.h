// ClusterView: the placement engine's picture of the cluster, kept current in place.
//
// A controller feeds it straight from informer events, one call per object, keyed by name:
//
//   ClusterView view;                                   // empty; or ClusterView::Build(snapshot)
//   view.UpsertNode(node_info);                         // Node added/changed (cordon, taints)
//   view.UpsertHypervisor(hypervisor_info);             // Hypervisor added/changed (capacity)
//   view.UpsertVm(vm);                                  // VM placed, started, stopped, changed
//   view.UpsertMigration({"ns/web", "n1", "n2", "ns/web-mig"});  // vm, source, target, name
//   view.FinishMigration("ns/web-mig");                 // succeeded: the VM is on n2 now
//   view.RemoveMigration("ns/web-mig");                 // failed or cancelled
//   view.RemoveVm("ns/web");  view.RemoveNode("n1");  view.RemoveHypervisor("n1");
//   TargetDecision d = ChooseTarget(view, {"ns/web", ""});      // placement.h
//
// Every update is idempotent: applying the same state twice changes nothing (generation()
// stays put), removing what is not there is OK. Objects may arrive in any order: a VM on a
// node not seen yet, a migration of a VM not seen yet, a VM naming a group not seen yet are
// kept and count as soon as what they name arrives. An update costs microseconds: it
// touches the few nodes involved, never the whole cluster.
//
// Decisions and plans read the view as it is: equal state gives equal answers, however it
// was reached (the property test compares it with a fresh Build after every event). Ties
// between nodes go to the name that sorts first, never to arrival order.
//
// Not thread-safe: serialize updates against decisions (e.g. a std::shared_mutex, decisions
// shared, updates exclusive). The engine has no clock: Hypervisor heartbeat staleness is the
// caller's to decide (HypervisorInfo::ready).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "placement/types.h"
#include "placement/usage.h"

namespace ferry::placement {

// The Node object's half of a node: may new VMs go there.
struct NodeInfo {
  std::string name;
  bool ready = true;           // condition Ready is True
  bool unschedulable = false;  // spec.unschedulable (cordoned)
  std::map<std::string, std::string> labels;
  std::vector<Taint> taints;
  friend bool operator==(const NodeInfo&, const NodeInfo&) = default;
};

// The Hypervisor object's half of a node (cluster-scoped, named after its Node): capacity
// and what the hypervisor can run.
struct HypervisorInfo {
  std::string name;
  // status.ready and a heartbeat younger than the staleness limit (the caller's clock).
  bool ready = true;
  int64_t cpu_millis = 0;      // allocatable CPU for VMs
  int64_t memory_bytes = 0;    // allocatable memory for VMs (not counting hugepages)
  int64_t dedicated_cpus = 0;  // pinnable CPUs (a subset of cpu_millis)
  std::vector<NumaCell> numa_cells;
  std::vector<HugepagePool> hugepages;
  std::string cpu_model;
  std::vector<std::string> cpu_models;
  HypervisorVersion version;
  friend bool operator==(const HypervisorInfo&, const HypervisorInfo&) = default;
};

NodeInfo NodeInfoOf(const Node& node);
HypervisorInfo HypervisorInfoOf(const Node& node);

// The fields of a node that every decision reads for every node, packed together so the
// filter loop over 5,000 nodes stays in cache.
struct NodeFacts {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  int64_t dedicated_cpus = 0;
  int64_t libvirt_version = 0;
  int64_t qemu_version = 0;
  double cpu_scale = 0;      // PercentScale(cpu_millis)
  double mem_scale = 0;      // PercentScale(memory_bytes)
  int32_t cpu_model_id = 0;  // interned Node::cpu_model
  // The first of NodeNotReady, HypervisorNotReady, Cordoned that applies, else kNone.
  uint8_t blocked = 0;           // a Reason
  bool has_hard_taints = false;  // any NoSchedule/NoExecute taint
  uint8_t cells = 0;             // NUMA cells
  uint8_t pools = 0;             // hugepage pools
};

inline void RefreshNodeScores(NodeUse& use, const NodeFacts& f) {
  RefreshNodeScores(use, f.cpu_millis, f.cpu_scale, f.memory_bytes, f.mem_scale, f.dedicated_cpus);
}

// A node's NUMA cells at a glance: the smallest cell and all cells together.
struct NumaFacts {
  int64_t min_cell_cpu = 0;
  int64_t min_cell_mem = 0;
  int64_t sum_cell_cpu = 0;
  int64_t sum_cell_mem = 0;
};

class ClusterView {
 public:
  ClusterView();
  ~ClusterView();
  ClusterView(ClusterView&&) noexcept;
  ClusterView& operator=(ClusterView&&) noexcept;
  ClusterView(const ClusterView&) = delete;
  ClusterView& operator=(const ClusterView&) = delete;

  // A view holding the snapshot. Fails (kInvalid) on what makes it ambiguous: empty or
  // duplicate names (nodes, VMs, groups, migrations), negative quantities, more than
  // kMaxNumaCells cells or kMaxHugepagePools pools, two pools of one page size, a node with
  // neither a Node object nor a Hypervisor. Inconsistencies that leave the rest usable are
  // listed by Problems().
  static StatusOr<ClusterView> Build(ClusterSnapshot snapshot);

  // ---- Updates: keyed by name, idempotent. kInvalid leaves the view unchanged. ----

  Status UpsertNode(const NodeInfo& node);
  Status RemoveNode(std::string_view name);  // the Node object is gone
  Status UpsertHypervisor(const HypervisorInfo& hypervisor);
  Status RemoveHypervisor(std::string_view name);
  Status UpsertVm(const Vm& vm);
  Status RemoveVm(std::string_view name);
  Status UpsertGroup(const ServerGroup& group);
  Status RemoveGroup(std::string_view name);
  // A migration holding a reservation (Scheduled until terminal), keyed by migration.name
  // (required here). Applying a planned step is this call, with the name the caller will
  // give the VirtualMachineMigration, so the informer's later event for it is a no-op.
  Status UpsertMigration(const InFlightMigration& migration);
  // The migration failed or was cancelled: its reservation is dropped, the VM stays.
  Status RemoveMigration(std::string_view name);
  // The migration succeeded: the VM now runs on the target and the migration is gone. The
  // VM's own update with the new node, before or after, is then a no-op. Unknown: OK.
  Status FinishMigration(std::string_view name);

  // Incremented by every update that changed something (e.g. to retry unschedulable VMs
  // only when the cluster changed).
  uint64_t generation() const { return generation_; }

  // The current state as a snapshot, sorted by name (Build(Snapshot()) is an equal view).
  ClusterSnapshot Snapshot() const;
  // Inconsistencies, one sentence each, sorted: a VM on an unknown node (not counted), a VM
  // naming a missing group, a group listing a non-member, a migration of an unknown VM or to
  // an unknown node, a second migration of one VM, a migration to the VM's own node.
  std::vector<std::string> Problems() const;

  // ---- Reading: what the decision functions use. Ids are valid until the next update. ----

  // Nodes that have a Node object, a Hypervisor or both, in name order.
  const std::vector<NodeId>& node_ids() const { return node_order_; }
  int node_count() const { return static_cast<int>(node_order_.size()); }
  // Every NodeId is below this (for arrays indexed by NodeId).
  int node_id_limit() const { return static_cast<int>(nodes_.size()); }
  const Node& node(NodeId id) const { return nodes_[Index(id)].node; }
  const NodeFacts& facts(NodeId id) const { return facts_[Index(id)]; }
  const NumaFacts& numa_facts(NodeId id) const { return numa_facts_[Index(id)]; }
  // Position of the node in name order (ties between nodes go to the lower rank).
  int32_t rank(NodeId id) const { return nodes_[Index(id)].rank; }
  NodeId FindNode(std::string_view name) const;  // kNoId unless the node is known
  // Nodes carrying label key=value (any order; empty when none).
  const std::vector<NodeId>& NodesWithLabel(const std::string& key, const std::string& value) const;
  int32_t CpuModelId(std::string_view model) const;  // interned host model, -1 if none has it
  // The oldest libvirt / QEMU among the nodes with a Hypervisor (0 when there are none): a
  // version floor at or below it cannot refuse any node.
  int64_t min_libvirt_version() const { return min_version_.libvirt; }
  int64_t min_qemu_version() const { return min_version_.qemu; }
  // Index of the node's hugepage pool of `page_size` (0..pools-1), or -1.
  int PoolIndex(NodeId node, int64_t page_size) const;

  int vm_count() const { return vm_count_; }
  int vm_id_limit() const { return static_cast<int>(vms_.size()); }
  VmId FindVm(std::string_view name) const;  // kNoId unless the VM is known
  const Vm& vm(VmId id) const { return vms_[Index(id)].vm; }
  // Current node of a VM, kNoId when unplaced or on a node the view does not know.
  NodeId location(VmId id) const { return vms_[Index(id)].location; }
  // Group of a VM: kNoId for none, kMissingGroup when it names an unknown group.
  GroupId group_of(VmId id) const { return vms_[Index(id)].group; }
  // VMs whose current node is `node`, by name.
  const std::vector<VmId>& vms_on(NodeId node) const { return nodes_[Index(node)].residents; }
  // VMs whose counted migration goes to `node`, by name.
  const std::vector<VmId>& inbound(NodeId node) const { return nodes_[Index(node)].inbound; }
  const std::vector<NumaEntry>& numa_entries(NodeId node) const { return nodes_[Index(node)].numa; }

  // Known groups in name order.
  const std::vector<GroupId>& group_ids() const { return group_order_; }
  GroupId FindGroup(std::string_view name) const;  // kNoId unless the group is known
  const ServerGroup& group(GroupId id) const { return groups_[Index(id)].group; }
  // Members of a group (VMs naming it), by name.
  const std::vector<VmId>& members(GroupId id) const { return groups_[Index(id)].members; }

  // Usage: every placed VM on its node plus every counted migration's reservation.
  const UsageTable& usage() const { return usage_; }

  // Records in a plan's copy of the usage that `vm` (not migrating yet) migrates to
  // `target`: reserves `demand` (default: the VM's full demand) there and counts the VM on
  // the target for in-flight and server-group purposes, exactly as UpsertMigration would.
  void StartMigration(UsageTable& usage, VmId vm, NodeId target) const;
  void StartMigration(UsageTable& usage, VmId vm, NodeId target, const Demand& demand) const;

 private:
  struct NodeSlot {
    Node node;  // name always set; the rest meaningful for the halves that exist
    int32_t rank = -1;
    std::vector<VmId> residents;           // known VMs whose Vm::node names this node
    std::vector<VmId> inbound;             // VMs whose counted migration targets it
    std::vector<std::string> targeted_by;  // migrations naming it as target (counted or not)
    std::vector<NumaEntry> numa;           // residents' and inbound NUMA demands, packing order
  };
  struct VmSlot {
    Vm vm;
    bool known = false;
    NodeId node_ref = kNoId;  // slot named by vm.node (maybe not a known node)
    GroupId group_ref = kNoId;
    NodeId location = kNoId;
    GroupId group = kNoId;
    std::vector<std::string> migrations;  // migrations naming this VM, sorted
  };
  struct GroupSlot {
    ServerGroup group;
    bool known = false;
    std::vector<VmId> members;  // known VMs naming it, by name
  };
  struct Migration {
    InFlightMigration spec;
    VmId vm_ref = kNoId;
    NodeId target_ref = kNoId;
  };

  // Heterogeneous lookup: find by string_view without building a string.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename T>
  using NameMap = std::unordered_map<std::string, T, NameHash, std::equal_to<>>;

  static size_t Index(int32_t id) { return static_cast<size_t>(id); }
  bool NodeKnown(NodeId id) const;
  // Slots for names, created on first mention (a placeholder until the object arrives).
  NodeId NodeSlotFor(const std::string& name);
  VmId VmSlotFor(const std::string& name);
  GroupId GroupSlotFor(const std::string& name);
  void Attach(VmId id);  // counts a known VM on its node and in its group
  void Detach(VmId id);
  void RefreshMigration(VmId id);  // which of the VM's migrations counts
  void DetachMigration(std::string name);
  void NodeKnownChanged(NodeId id, bool was_known);
  void IndexLabels(NodeId id, bool add);
  void RefreshFacts(NodeId id);
  void RecomputeNode(NodeId id);
  void MarkDirty(NodeId id);
  // Ends an update: recomputes the usage of the nodes it touched, frees unused slots.
  void Flush();
  void CompactNodes();
  void RecomputeMinVersion();
  void ChangeVm(VmId id, const Vm& vm);

  std::vector<NodeSlot> nodes_;
  std::vector<NodeFacts> facts_;
  std::vector<NumaFacts> numa_facts_;
  std::vector<NodeId> node_order_;  // known nodes by name
  int order_breaks_ = 0;            // places where node_order_ is not consecutive ids
  HypervisorVersion min_version_;
  std::vector<NodeId> free_nodes_;
  NameMap<NodeId> node_by_name_;  // every slot, known or not
  std::vector<VmSlot> vms_;
  std::vector<VmId> free_vms_;
  NameMap<VmId> vm_by_name_;
  int vm_count_ = 0;
  std::vector<GroupSlot> groups_;
  std::vector<GroupId> group_order_;
  std::vector<GroupId> free_groups_;
  NameMap<GroupId> group_by_name_;
  std::map<std::string, Migration, std::less<>> migrations_;
  NameMap<int32_t> cpu_model_ids_;
  NameMap<std::vector<NodeId>> label_index_;  // "key\0value" -> nodes
  UsageTable usage_;
  uint64_t generation_ = 0;
  std::vector<NodeId> dirty_;
  std::vector<NodeId> maybe_unused_nodes_;
  std::vector<VmId> maybe_unused_vms_;
  std::vector<GroupId> maybe_unused_groups_;
};

}  // namespace ferry::placement

// ClusterView bookkeeping: slots for names, which node and group a VM counts in, which of
// its migrations counts, and the per-node usage recomputed from the set of VMs on a node.
#include <algorithm>

#include "placement/cluster_view.h"
#include "placement/reasons.h"
#include "placement/sorted_lists.h"

namespace ferry::placement {

using internal::Erase;
using internal::InsertByName;

bool ClusterView::NodeKnown(NodeId id) const {
  if (id < 0) return false;
  const Node& n = nodes_[Index(id)].node;
  return n.has_node_object || n.has_hypervisor;
}

NodeId ClusterView::NodeSlotFor(const std::string& name) {
  if (auto it = node_by_name_.find(name); it != node_by_name_.end()) return it->second;
  NodeId id;
  if (!free_nodes_.empty()) {
    id = free_nodes_.back();
    free_nodes_.pop_back();
  } else {
    id = static_cast<NodeId>(nodes_.size());
    nodes_.emplace_back();
    facts_.emplace_back();
    numa_facts_.emplace_back();
    usage_.nodes.emplace_back();
    usage_.hugepage_bytes.push_back({});
    usage_.numa.emplace_back();
  }
  NodeSlot& slot = nodes_[Index(id)];
  slot = NodeSlot{};
  slot.node.name = name;
  slot.node.has_node_object = false;
  slot.node.has_hypervisor = false;
  slot.node.hypervisor_ready = false;
  slot.node.ready = false;
  const auto n = Index(id);
  usage_.nodes[n] = {};
  usage_.hugepage_bytes[n] = {};
  usage_.numa[n] = {};
  node_by_name_.emplace(name, id);
  RefreshFacts(id);
  return id;
}

VmId ClusterView::VmSlotFor(const std::string& name) {
  if (auto it = vm_by_name_.find(name); it != vm_by_name_.end()) return it->second;
  VmId id;
  if (!free_vms_.empty()) {
    id = free_vms_.back();
    free_vms_.pop_back();
  } else {
    id = static_cast<VmId>(vms_.size());
    vms_.emplace_back();
    usage_.migrating_to.push_back(kNoId);
  }
  vms_[Index(id)] = VmSlot{};
  vms_[Index(id)].vm.name = name;
  usage_.migrating_to[Index(id)] = kNoId;
  vm_by_name_.emplace(name, id);
  return id;
}

GroupId ClusterView::GroupSlotFor(const std::string& name) {
  if (auto it = group_by_name_.find(name); it != group_by_name_.end()) return it->second;
  GroupId id;
  if (!free_groups_.empty()) {
    id = free_groups_.back();
    free_groups_.pop_back();
  } else {
    id = static_cast<GroupId>(groups_.size());
    groups_.emplace_back();
  }
  groups_[Index(id)] = GroupSlot{};
  groups_[Index(id)].group.name = name;
  group_by_name_.emplace(name, id);
  return id;
}

void ClusterView::MarkDirty(NodeId id) {
  if (id >= 0) dirty_.push_back(id);
}

void ClusterView::Attach(VmId id) {
  VmSlot& slot = vms_[Index(id)];
  auto vm_name = [this](int32_t v) -> const std::string& { return vms_[Index(v)].vm.name; };
  slot.node_ref = slot.vm.node.empty() ? kNoId : NodeSlotFor(slot.vm.node);
  slot.location = NodeKnown(slot.node_ref) ? slot.node_ref : kNoId;
  if (slot.node_ref != kNoId) {
    InsertByName(nodes_[Index(slot.node_ref)].residents, id, vm_name);
    MarkDirty(slot.node_ref);
  }
  slot.group_ref = slot.vm.server_group.empty() ? kNoId : GroupSlotFor(slot.vm.server_group);
  slot.group = kNoId;
  if (slot.group_ref != kNoId) {
    GroupSlot& g = groups_[Index(slot.group_ref)];
    InsertByName(g.members, id, vm_name);
    slot.group = g.known ? slot.group_ref : kMissingGroup;
  }
  RefreshMigration(id);
}

void ClusterView::Detach(VmId id) {
  VmSlot& slot = vms_[Index(id)];
  if (slot.node_ref != kNoId) {
    Erase(nodes_[Index(slot.node_ref)].residents, id);
    MarkDirty(slot.node_ref);
    maybe_unused_nodes_.push_back(slot.node_ref);
  }
  if (slot.group_ref != kNoId) {
    Erase(groups_[Index(slot.group_ref)].members, id);
    maybe_unused_groups_.push_back(slot.group_ref);
  }
  if (const NodeId to = usage_.migrating_to[Index(id)]; to != kNoId) {
    Erase(nodes_[Index(to)].inbound, id);
    MarkDirty(to);
    usage_.migrating_to[Index(id)] = kNoId;
  }
  slot.node_ref = kNoId;
  slot.group_ref = kNoId;
  slot.location = kNoId;
  slot.group = kNoId;
}

// The VM's migrations in name order; the first whose target is a known node other than the
// VM's own counts. Recorded in migrating_to and the target's inbound list.
void ClusterView::RefreshMigration(VmId id) {
  VmSlot& slot = vms_[Index(id)];
  NodeId target = kNoId;
  if (slot.known) {
    for (const std::string& key : slot.migrations) {
      const NodeId t = migrations_.find(key)->second.target_ref;
      if (NodeKnown(t) && t != slot.location) {
        target = t;
        break;
      }
    }
  }
  const NodeId old = usage_.migrating_to[Index(id)];
  if (old == target) return;
  if (old != kNoId) {
    Erase(nodes_[Index(old)].inbound, id);
    MarkDirty(old);
  }
  usage_.migrating_to[Index(id)] = target;
  if (target != kNoId) {
    InsertByName(nodes_[Index(target)].inbound, id,
                 [this](int32_t v) -> const std::string& { return vms_[Index(v)].vm.name; });
    MarkDirty(target);
  }
  MarkDirty(slot.location);  // its in-flight count
}

void ClusterView::IndexLabels(NodeId id, bool add) {
  for (const auto& [key, value] : nodes_[Index(id)].node.labels) {
    std::vector<NodeId>& list = label_index_[key + '\0' + value];
    if (add) {
      list.push_back(id);
    } else {
      Erase(list, id);
      if (list.empty()) label_index_.erase(key + '\0' + value);
    }
  }
}

void ClusterView::NodeKnownChanged(NodeId id, bool was_known) {
  const bool known = NodeKnown(id);
  if (known == was_known) return;
  NodeSlot& slot = nodes_[Index(id)];
  auto by_name = [this](NodeId a, const std::string& n) { return nodes_[Index(a)].node.name < n; };
  auto it = std::lower_bound(node_order_.begin(), node_order_.end(), slot.node.name, by_name);
  size_t from = static_cast<size_t>(it - node_order_.begin());
  if (known) {
    node_order_.insert(it, id);
  } else {
    node_order_.erase(it);
    slot.rank = -1;
  }
  for (size_t i = from; i < node_order_.size(); ++i) {
    nodes_[Index(node_order_[i])].rank = static_cast<int32_t>(i);
  }
  order_breaks_ = 0;
  for (size_t i = 1; i < node_order_.size(); ++i) {
    if (node_order_[i] != node_order_[i - 1] + 1) ++order_breaks_;
  }
  // Residents gain or lose their location; migrations to or from the node count or not.
  for (VmId v : slot.residents) vms_[Index(v)].location = known ? id : kNoId;
  const std::vector<VmId> residents = slot.residents;
  for (VmId v : residents) RefreshMigration(v);
  const std::vector<std::string> targeted = slot.targeted_by;
  for (const std::string& key : targeted) RefreshMigration(migrations_.find(key)->second.vm_ref);
  MarkDirty(id);
}

void ClusterView::RefreshFacts(NodeId id) {
  const Node& n = nodes_[Index(id)].node;
  NodeFacts f;
  f.cpu_millis = n.cpu_millis;
  f.memory_bytes = n.memory_bytes;
  f.dedicated_cpus = n.dedicated_cpus;
  f.libvirt_version = n.version.libvirt;
  f.qemu_version = n.version.qemu;
  f.cpu_model_id = cpu_model_ids_.emplace(n.cpu_model, static_cast<int32_t>(cpu_model_ids_.size()))
                       .first->second;
  Reason blocked = Reason::kNone;
  if (!n.has_node_object || !n.ready) {
    blocked = Reason::kNodeNotReady;
  } else if (!n.has_hypervisor || !n.hypervisor_ready) {
    blocked = Reason::kHypervisorNotReady;
  } else if (n.unschedulable) {
    blocked = Reason::kCordoned;
  }
  f.blocked = static_cast<uint8_t>(blocked);
  f.has_hard_taints = std::any_of(n.taints.begin(), n.taints.end(), [](const Taint& t) {
    return t.effect != TaintEffect::kPreferNoSchedule;
  });
  f.cells = static_cast<uint8_t>(n.numa_cells.size());
  f.pools = static_cast<uint8_t>(n.hugepages.size());
  f.cpu_scale = PercentScale(f.cpu_millis);
  f.mem_scale = PercentScale(f.memory_bytes);
  NumaFacts numa;
  for (size_t c = 0; c < n.numa_cells.size(); ++c) {
    const NumaCell& cell = n.numa_cells[c];
    numa.min_cell_cpu = c == 0 ? cell.cpu_millis : std::min(numa.min_cell_cpu, cell.cpu_millis);
    numa.min_cell_mem = c == 0 ? cell.memory_bytes : std::min(numa.min_cell_mem, cell.memory_bytes);
    numa.sum_cell_cpu += cell.cpu_millis;
    numa.sum_cell_mem += cell.memory_bytes;
  }
  facts_[Index(id)] = f;
  numa_facts_[Index(id)] = numa;
}

// The usage of one node from scratch: its residents plus the reservations of migrations
// coming in. A handful of VMs, so this costs about a microsecond, and the result depends
// only on the set of VMs, never on the order they arrived in.
void ClusterView::RecomputeNode(NodeId id) {
  NodeSlot& slot = nodes_[Index(id)];
  const auto n = Index(id);
  int64_t cpu = 0;
  int64_t mem = 0;
  int64_t ded = 0;
  int32_t inflight = static_cast<int32_t>(slot.inbound.size());
  std::array<int64_t, kMaxHugepagePools> pools{};
  slot.numa.clear();
  auto add = [&](const Demand& d) {
    cpu += d.cpu_millis;
    mem += d.memory_bytes;
    ded += d.dedicated_cpus;
    if (d.hugepage_size > 0) {
      // A VM without a matching pool (an inconsistent report) counts in regular memory, so
      // its footprint is not lost.
      const int pool = PoolIndex(id, d.hugepage_size);
      (pool >= 0 ? pools[static_cast<size_t>(pool)] : mem) += d.hugepage_bytes;
    }
    if (d.numa_nodes > 0) slot.numa.push_back(NumaEntryOf(d));
  };
  for (VmId v : slot.residents) {
    add(DemandOf(vms_[Index(v)].vm));
    if (usage_.migrating_to[Index(v)] != kNoId) ++inflight;
  }
  for (VmId v : slot.inbound) add(DemandOf(vms_[Index(v)].vm));
  std::sort(slot.numa.begin(), slot.numa.end(),
            [](const NumaEntry& a, const NumaEntry& b) { return PacksBefore(a, b); });
  NumaLoad load;
  for (const NumaEntry& e : slot.numa) load.Add(e);
  const NodeFacts& f = facts_[n];
  const NumaFacts& nf = numa_facts_[n];
  if (!slot.numa.empty() &&
      !(f.cells > 0 && nf.min_cell_cpu >= load.share_cpu && nf.min_cell_mem >= load.share_mem)) {
    std::array<int64_t, kMaxNumaCells> cell_cpu{};
    std::array<int64_t, kMaxNumaCells> cell_mem{};
    load.failures = PackNuma(slot.node.numa_cells, slot.numa, cell_cpu.data(), cell_mem.data());
  }
  NodeUse& use = usage_.nodes[n];
  use.cpu_millis = cpu;
  use.memory_bytes = mem;
  use.dedicated_cpus = ded;
  use.inflight = inflight;
  RefreshNodeScores(use, f);
  usage_.hugepage_bytes[n] = pools;
  usage_.numa[n] = load;
}

void ClusterView::Flush() {
  std::sort(dirty_.begin(), dirty_.end());
  dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
  for (NodeId id : dirty_) RecomputeNode(id);
  dirty_.clear();
  for (NodeId id : maybe_unused_nodes_) {
    NodeSlot& slot = nodes_[Index(id)];
    if (slot.node.name.empty() || NodeKnown(id) || !slot.residents.empty() ||
        !slot.targeted_by.empty()) {
      continue;
    }
    node_by_name_.erase(slot.node.name);
    slot = NodeSlot{};
    slot.node.has_node_object = false;
    slot.node.has_hypervisor = false;
    free_nodes_.push_back(id);
  }
  maybe_unused_nodes_.clear();
  for (VmId id : maybe_unused_vms_) {
    VmSlot& slot = vms_[Index(id)];
    if (slot.vm.name.empty() || slot.known || !slot.migrations.empty()) continue;
    vm_by_name_.erase(slot.vm.name);
    slot = VmSlot{};
    free_vms_.push_back(id);
  }
  maybe_unused_vms_.clear();
  for (GroupId id : maybe_unused_groups_) {
    GroupSlot& slot = groups_[Index(id)];
    if (slot.group.name.empty() || slot.known || !slot.members.empty()) continue;
    group_by_name_.erase(slot.group.name);
    slot = GroupSlot{};
    free_groups_.push_back(id);
  }
  maybe_unused_groups_.clear();
  // Decisions walk the nodes in name order and read their records by id: when arrival order
  // has scattered the ids (informers deliver VMs before Nodes, say), renumber so the walk is
  // sequential in memory again. A few breaks (a node added later) are not worth it.
  if (order_breaks_ > std::max(64, node_count() / 16)) CompactNodes();
}

void ClusterView::RecomputeMinVersion() {
  bool any = false;
  min_version_ = {};
  for (NodeId id : node_order_) {
    const Node& n = nodes_[Index(id)].node;
    if (!n.has_hypervisor) continue;
    min_version_.libvirt =
        any ? std::min(min_version_.libvirt, n.version.libvirt) : n.version.libvirt;
    min_version_.qemu = any ? std::min(min_version_.qemu, n.version.qemu) : n.version.qemu;
    any = true;
  }
}

// Renumbers node slots into name order (placeholders after the known nodes, free slots
// dropped) and rewrites every NodeId held anywhere. O(nodes + VMs + migrations), rare.
void ClusterView::CompactNodes() {
  std::vector<NodeId> order = node_order_;
  for (NodeId id = 0; id < node_id_limit(); ++id) {
    if (!NodeKnown(id) && !nodes_[Index(id)].node.name.empty()) order.push_back(id);
  }
  std::vector<NodeId> new_id(nodes_.size(), kNoId);
  for (size_t i = 0; i < order.size(); ++i) new_id[Index(order[i])] = static_cast<NodeId>(i);
  auto remap = [&](NodeId& id) {
    if (id >= 0) id = new_id[Index(id)];
  };
  auto permute = [&](auto& items) {
    std::remove_reference_t<decltype(items)> out;
    out.reserve(order.size());
    for (NodeId old : order) out.push_back(std::move(items[Index(old)]));
    items = std::move(out);
  };
  permute(nodes_);
  permute(facts_);
  permute(numa_facts_);
  permute(usage_.nodes);
  permute(usage_.hugepage_bytes);
  permute(usage_.numa);
  free_nodes_.clear();
  for (auto& [name, id] : node_by_name_) remap(id);
  for (NodeId& id : node_order_) remap(id);
  for (auto& [label, ids] : label_index_) {
    for (NodeId& id : ids) remap(id);
  }
  for (VmSlot& vm : vms_) {
    remap(vm.node_ref);
    remap(vm.location);
  }
  for (NodeId& to : usage_.migrating_to) remap(to);
  for (auto& [name, m] : migrations_) remap(m.target_ref);
  order_breaks_ = 0;
}

}  // namespace ferry::placement

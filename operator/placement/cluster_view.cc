// ClusterView updates: each public call changes the objects it names, marks the nodes whose
// usage depends on them, and ends with Flush() (cluster_view_index.cc), which recomputes
// those nodes from the VMs and reservations on them. Nothing depends on the order updates
// arrive in.
#include "placement/cluster_view.h"

#include <algorithm>

#include "placement/format.h"
#include "placement/sorted_lists.h"

namespace ferry::placement {
namespace {

using internal::Erase;
using internal::InsertSorted;

Status Negative(const char* what, const std::string& name, const char* field) {
  return InvalidError(std::string(what) + " " + name + ": negative " + field);
}

Status ValidateHypervisor(const HypervisorInfo& h) {
  if (h.name.empty()) return InvalidError("hypervisor with an empty name");
  if (h.cpu_millis < 0) return Negative("node", h.name, "cpu");
  if (h.memory_bytes < 0) return Negative("node", h.name, "memory");
  if (h.dedicated_cpus < 0) return Negative("node", h.name, "dedicated cpus");
  if (h.numa_cells.size() > static_cast<size_t>(kMaxNumaCells)) {
    return InvalidError("node " + h.name + ": " + std::to_string(h.numa_cells.size()) +
                        " NUMA cells, more than the supported " + std::to_string(kMaxNumaCells));
  }
  for (const NumaCell& c : h.numa_cells) {
    if (c.cpu_millis < 0 || c.memory_bytes < 0) return Negative("node", h.name, "NUMA cell size");
  }
  if (h.hugepages.size() > static_cast<size_t>(kMaxHugepagePools)) {
    return InvalidError("node " + h.name + ": more than " + std::to_string(kMaxHugepagePools) +
                        " hugepage sizes");
  }
  for (size_t i = 0; i < h.hugepages.size(); ++i) {
    const HugepagePool& p = h.hugepages[i];
    if (p.page_size_bytes <= 0 || p.total_bytes < 0) {
      return InvalidError("node " + h.name +
                          ": hugepage pool with a non-positive page size or negative total");
    }
    for (size_t j = 0; j < i; ++j) {
      if (h.hugepages[j].page_size_bytes == p.page_size_bytes) {
        return InvalidError("node " + h.name + ": two hugepage pools of page size " +
                            FormatBytes(p.page_size_bytes));
      }
    }
  }
  return OkStatus();
}

Status ValidateVm(const Vm& v) {
  if (v.name.empty()) return InvalidError("vm with an empty name");
  if (v.cpu_millis < 0) return Negative("vm", v.name, "cpu");
  if (v.memory_bytes < 0) return Negative("vm", v.name, "memory");
  if (v.hugepage_size_bytes < 0) return Negative("vm", v.name, "hugepage size");
  if (v.numa_nodes < 0 || v.numa_nodes > kMaxNumaCells) {
    return InvalidError("vm " + v.name + ": numaNodes " + std::to_string(v.numa_nodes) +
                        " out of range 0.." + std::to_string(kMaxNumaCells));
  }
  return OkStatus();
}

// Inserts `id` into a list kept sorted by name(id); no-op when present.
}  // namespace

NodeInfo NodeInfoOf(const Node& n) {
  return {n.name, n.ready, n.unschedulable, n.labels, n.taints};
}

HypervisorInfo HypervisorInfoOf(const Node& n) {
  return {n.name,       n.hypervisor_ready, n.cpu_millis, n.memory_bytes, n.dedicated_cpus,
          n.numa_cells, n.hugepages,        n.cpu_model,  n.cpu_models,   n.version};
}

ClusterView::ClusterView() = default;
ClusterView::~ClusterView() = default;
ClusterView::ClusterView(ClusterView&&) noexcept = default;
ClusterView& ClusterView::operator=(ClusterView&&) noexcept = default;

Status ClusterView::UpsertNode(const NodeInfo& info) {
  if (info.name.empty()) return InvalidError("node with an empty name");
  const NodeId id = NodeSlotFor(info.name);
  Node& n = nodes_[Index(id)].node;
  if (n.has_node_object && NodeInfoOf(n) == info) return OkStatus();
  const bool was_known = NodeKnown(id);
  // The label index lists every node with a common label (thousands): touch it only when
  // the labels change.
  const bool relabel = !n.has_node_object || n.labels != info.labels;
  if (relabel && n.has_node_object) IndexLabels(id, false);
  n.has_node_object = true;
  n.ready = info.ready;
  n.unschedulable = info.unschedulable;
  n.labels = info.labels;
  n.taints = info.taints;
  if (relabel) IndexLabels(id, true);
  RefreshFacts(id);
  NodeKnownChanged(id, was_known);
  ++generation_;
  Flush();
  return OkStatus();
}

Status ClusterView::RemoveNode(std::string_view name) {
  auto it = node_by_name_.find(name);
  if (it == node_by_name_.end() || !nodes_[Index(it->second)].node.has_node_object) {
    return OkStatus();
  }
  const NodeId id = it->second;
  Node& n = nodes_[Index(id)].node;
  IndexLabels(id, false);
  n.has_node_object = false;
  n.ready = false;
  n.unschedulable = false;
  n.labels.clear();
  n.taints.clear();
  RefreshFacts(id);
  NodeKnownChanged(id, true);
  maybe_unused_nodes_.push_back(id);
  ++generation_;
  Flush();
  return OkStatus();
}

Status ClusterView::UpsertHypervisor(const HypervisorInfo& info) {
  FERRY_RETURN_IF_ERROR(ValidateHypervisor(info));
  const NodeId id = NodeSlotFor(info.name);
  Node& n = nodes_[Index(id)].node;
  if (n.has_hypervisor && HypervisorInfoOf(n) == info) return OkStatus();
  const bool was_known = NodeKnown(id);
  const bool new_version = !n.has_hypervisor || n.version != info.version;
  n.has_hypervisor = true;
  n.hypervisor_ready = info.ready;
  n.cpu_millis = info.cpu_millis;
  n.memory_bytes = info.memory_bytes;
  n.dedicated_cpus = info.dedicated_cpus;
  n.numa_cells = info.numa_cells;
  n.hugepages = info.hugepages;
  n.cpu_model = info.cpu_model;
  n.cpu_models = info.cpu_models;
  n.version = info.version;
  RefreshFacts(id);
  NodeKnownChanged(id, was_known);
  if (new_version) RecomputeMinVersion();
  MarkDirty(id);  // pools and cells decide how its VMs count
  ++generation_;
  Flush();
  return OkStatus();
}

Status ClusterView::RemoveHypervisor(std::string_view name) {
  auto it = node_by_name_.find(name);
  if (it == node_by_name_.end() || !nodes_[Index(it->second)].node.has_hypervisor) {
    return OkStatus();
  }
  const NodeId id = it->second;
  Node& n = nodes_[Index(id)].node;
  n.has_hypervisor = false;
  n.hypervisor_ready = false;
  n.cpu_millis = n.memory_bytes = n.dedicated_cpus = 0;
  n.numa_cells.clear();
  n.hugepages.clear();
  n.cpu_model.clear();
  n.cpu_models.clear();
  n.version = {};
  RefreshFacts(id);
  NodeKnownChanged(id, true);
  RecomputeMinVersion();
  MarkDirty(id);
  maybe_unused_nodes_.push_back(id);
  ++generation_;
  Flush();
  return OkStatus();
}

void ClusterView::ChangeVm(VmId id, const Vm& vm) {
  VmSlot& slot = vms_[Index(id)];
  if (slot.known) Detach(id);
  if (!slot.known) ++vm_count_;
  slot.vm = vm;
  slot.known = true;
  Attach(id);
}

Status ClusterView::UpsertVm(const Vm& vm) {
  FERRY_RETURN_IF_ERROR(ValidateVm(vm));
  const VmId id = VmSlotFor(vm.name);
  if (vms_[Index(id)].known && vms_[Index(id)].vm == vm) return OkStatus();
  ChangeVm(id, vm);
  ++generation_;
  Flush();
  return OkStatus();
}

Status ClusterView::RemoveVm(std::string_view name) {
  auto it = vm_by_name_.find(name);
  if (it == vm_by_name_.end() || !vms_[Index(it->second)].known) return OkStatus();
  const VmId id = it->second;
  Detach(id);
  VmSlot& slot = vms_[Index(id)];
  slot.known = false;
  slot.vm = Vm{};
  slot.vm.name = std::string(name);
  --vm_count_;
  maybe_unused_vms_.push_back(id);
  ++generation_;
  Flush();
  return OkStatus();
}

Status ClusterView::UpsertGroup(const ServerGroup& group) {
  if (group.name.empty()) return InvalidError("server group with an empty name");
  if (group.max_per_node < 1) {
    return InvalidError("server group " + group.name + ": maxPerNode " +
                        std::to_string(group.max_per_node) + " must be at least 1");
  }
  const GroupId id = GroupSlotFor(group.name);
  GroupSlot& slot = groups_[Index(id)];
  if (slot.known && slot.group == group) return OkStatus();
  if (!slot.known) {
    auto by_name = [this](GroupId a, const std::string& n) {
      return groups_[Index(a)].group.name < n;
    };
    group_order_.insert(
        std::lower_bound(group_order_.begin(), group_order_.end(), group.name, by_name), id);
    for (VmId v : slot.members) vms_[Index(v)].group = id;
  }
  slot.group = group;
  slot.known = true;
  ++generation_;
  return OkStatus();
}

Status ClusterView::RemoveGroup(std::string_view name) {
  auto it = group_by_name_.find(name);
  if (it == group_by_name_.end() || !groups_[Index(it->second)].known) return OkStatus();
  const GroupId id = it->second;
  GroupSlot& slot = groups_[Index(id)];
  Erase(group_order_, id);
  for (VmId v : slot.members) vms_[Index(v)].group = kMissingGroup;
  slot.known = false;
  slot.group = ServerGroup{};
  slot.group.name = std::string(name);
  maybe_unused_groups_.push_back(id);
  ++generation_;
  Flush();
  return OkStatus();
}

void ClusterView::DetachMigration(std::string name) {
  auto it = migrations_.find(name);
  const VmId vm = it->second.vm_ref;
  const NodeId target = it->second.target_ref;
  Erase(vms_[Index(vm)].migrations, name);
  Erase(nodes_[Index(target)].targeted_by, name);
  migrations_.erase(it);
  RefreshMigration(vm);
  maybe_unused_vms_.push_back(vm);
  maybe_unused_nodes_.push_back(target);
}

Status ClusterView::UpsertMigration(const InFlightMigration& m) {
  if (m.name.empty()) return InvalidError("migration of vm " + m.vm + " without a name");
  if (m.vm.empty()) return InvalidError("migration " + m.name + " names no vm");
  if (m.target_node.empty()) return InvalidError("migration " + m.name + " has no target node");
  if (auto it = migrations_.find(m.name); it != migrations_.end()) {
    if (it->second.spec == m) return OkStatus();
    DetachMigration(m.name);
  }
  Migration rec;
  rec.spec = m;
  rec.vm_ref = VmSlotFor(m.vm);
  rec.target_ref = NodeSlotFor(m.target_node);
  InsertSorted(vms_[Index(rec.vm_ref)].migrations, m.name);
  InsertSorted(nodes_[Index(rec.target_ref)].targeted_by, m.name);
  const VmId vm = rec.vm_ref;
  migrations_.emplace(m.name, std::move(rec));
  RefreshMigration(vm);
  ++generation_;
  Flush();
  return OkStatus();
}

Status ClusterView::RemoveMigration(std::string_view name) {
  auto it = migrations_.find(name);
  if (it == migrations_.end()) return OkStatus();
  DetachMigration(it->first);
  ++generation_;
  Flush();
  return OkStatus();
}

Status ClusterView::FinishMigration(std::string_view name) {
  auto it = migrations_.find(name);
  if (it == migrations_.end()) return OkStatus();
  const VmId vm = it->second.vm_ref;
  const std::string target = it->second.spec.target_node;
  DetachMigration(it->first);
  if (vms_[Index(vm)].known && vms_[Index(vm)].vm.node != target) {
    Vm moved = vms_[Index(vm)].vm;
    moved.node = target;
    ChangeVm(vm, moved);
  }
  ++generation_;
  Flush();
  return OkStatus();
}

}  // namespace ferry::placement

// ClusterView: Build from a snapshot, the state back as a snapshot, problems, lookups, and
// the reservations plans record in their copies of the usage.
#include <algorithm>

#include "placement/cluster_view.h"

namespace ferry::placement {
namespace {

template <typename T, typename Key>
Status CheckNames(std::vector<T>& items, const char* kind, Key key) {
  std::stable_sort(items.begin(), items.end(),
                   [&](const T& a, const T& b) { return key(a) < key(b); });
  for (size_t i = 0; i < items.size(); ++i) {
    if (key(items[i]).empty()) return InvalidError(std::string(kind) + " with an empty name");
    if (i > 0 && key(items[i]) == key(items[i - 1])) {
      return InvalidError("duplicate " + std::string(kind) + " name \"" + key(items[i]) + "\"");
    }
  }
  return OkStatus();
}

const std::string& NameOf(const auto& item) { return item.name; }

}  // namespace

StatusOr<ClusterView> ClusterView::Build(ClusterSnapshot s) {
  auto by_name = [](const auto& item) -> const std::string& { return NameOf(item); };
  FERRY_RETURN_IF_ERROR(CheckNames(s.nodes, "node", by_name));
  FERRY_RETURN_IF_ERROR(CheckNames(s.vms, "vm", by_name));
  FERRY_RETURN_IF_ERROR(CheckNames(s.groups, "server group", by_name));
  for (InFlightMigration& m : s.migrations) {
    if (m.name.empty()) m.name = m.vm;
  }
  FERRY_RETURN_IF_ERROR(CheckNames(s.migrations, "migration", by_name));
  ClusterView view;
  for (const Node& n : s.nodes) {
    if (!n.has_node_object && !n.has_hypervisor) {
      return InvalidError("node " + n.name + " has neither a Node object nor a Hypervisor");
    }
    if (n.has_node_object) FERRY_RETURN_IF_ERROR(view.UpsertNode(NodeInfoOf(n)));
    if (n.has_hypervisor) FERRY_RETURN_IF_ERROR(view.UpsertHypervisor(HypervisorInfoOf(n)));
  }
  for (const ServerGroup& g : s.groups) FERRY_RETURN_IF_ERROR(view.UpsertGroup(g));
  for (const Vm& v : s.vms) FERRY_RETURN_IF_ERROR(view.UpsertVm(v));
  for (const InFlightMigration& m : s.migrations) FERRY_RETURN_IF_ERROR(view.UpsertMigration(m));
  return view;
}

ClusterSnapshot ClusterView::Snapshot() const {
  ClusterSnapshot s;
  for (NodeId id : node_order_) s.nodes.push_back(node(id));
  for (const VmSlot& slot : vms_) {
    if (slot.known) s.vms.push_back(slot.vm);
  }
  std::sort(s.vms.begin(), s.vms.end(), [](const Vm& a, const Vm& b) { return a.name < b.name; });
  for (GroupId id : group_order_) s.groups.push_back(group(id));
  for (const auto& [key, m] : migrations_) s.migrations.push_back(m.spec);
  return s;
}

std::vector<std::string> ClusterView::Problems() const {
  std::vector<std::string> out;
  for (const VmSlot& slot : vms_) {
    if (!slot.known) continue;
    const Vm& v = slot.vm;
    if (!v.node.empty() && slot.location == kNoId) {
      out.push_back("vm " + v.name + " is on node " + v.node +
                    ", which the view does not know; its usage is not counted");
    }
    if (slot.group == kMissingGroup) {
      out.push_back("vm " + v.name + " names server group " + v.server_group +
                    ", which does not exist; it cannot be placed until it does");
    }
  }
  for (GroupId g : group_order_) {
    const ServerGroup& group = groups_[Index(g)].group;
    for (const std::string& m : group.members) {
      const VmId v = FindVm(m);
      if (v == kNoId) {
        out.push_back("server group " + group.name + " lists member " + m +
                      ", which is not a VM in the view; ignored");
      } else if (vms_[Index(v)].group_ref != g) {
        out.push_back("server group " + group.name + " lists member " + m +
                      ", whose serverGroup is \"" + vm(v).server_group +
                      "\"; membership follows the VM");
      }
    }
  }
  for (const auto& [key, m] : migrations_) {
    const InFlightMigration& spec = m.spec;
    const VmSlot& slot = vms_[Index(m.vm_ref)];
    if (!slot.known) {
      out.push_back("in-flight migration " + key + " of unknown vm " + spec.vm + " ignored");
      continue;
    }
    if (!NodeKnown(m.target_ref)) {
      out.push_back("in-flight migration " + key + " of vm " + spec.vm + " to unknown node " +
                    spec.target_node + " ignored");
      continue;
    }
    if (m.target_ref == slot.location) {
      out.push_back("in-flight migration " + key + " of vm " + spec.vm +
                    " targets its current node " + spec.target_node + "; ignored");
      continue;
    }
    // The VM's first migration (by name) to a known node other than its own is the one
    // that counts.
    for (const std::string& first : slot.migrations) {
      const Migration& other = migrations_.find(first)->second;
      if (!NodeKnown(other.target_ref) || other.target_ref == slot.location) continue;
      if (first != key) {
        out.push_back("vm " + spec.vm + " has more than one in-flight migration; only " + first +
                      " (to " + other.spec.target_node + ") is counted, not " + key);
      }
      break;
    }
    if (!spec.source_node.empty() && spec.source_node != slot.vm.node) {
      out.push_back("in-flight migration " + key + " of vm " + spec.vm + " names source " +
                    spec.source_node + " but the vm is on " +
                    (slot.vm.node.empty() ? std::string("no node") : slot.vm.node) +
                    "; the vm's node is used");
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

NodeId ClusterView::FindNode(std::string_view name) const {
  auto it = node_by_name_.find(name);
  return it == node_by_name_.end() || !NodeKnown(it->second) ? kNoId : it->second;
}

VmId ClusterView::FindVm(std::string_view name) const {
  auto it = vm_by_name_.find(name);
  return it == vm_by_name_.end() || !vms_[Index(it->second)].known ? kNoId : it->second;
}

GroupId ClusterView::FindGroup(std::string_view name) const {
  auto it = group_by_name_.find(name);
  return it == group_by_name_.end() || !groups_[Index(it->second)].known ? kNoId : it->second;
}

const std::vector<NodeId>& ClusterView::NodesWithLabel(const std::string& key,
                                                       const std::string& value) const {
  static const std::vector<NodeId> kNone;
  auto it = label_index_.find(key + '\0' + value);
  return it == label_index_.end() ? kNone : it->second;
}

int32_t ClusterView::CpuModelId(std::string_view model) const {
  auto it = cpu_model_ids_.find(model);
  return it == cpu_model_ids_.end() ? -1 : it->second;
}

int ClusterView::PoolIndex(NodeId n, int64_t page_size) const {
  const auto& pools = node(n).hugepages;
  for (size_t i = 0; i < pools.size(); ++i) {
    if (pools[i].page_size_bytes == page_size) return static_cast<int>(i);
  }
  return -1;
}

void ClusterView::StartMigration(UsageTable& usage, VmId vm_id, NodeId target) const {
  StartMigration(usage, vm_id, target, DemandOf(vm(vm_id)));
}

void ClusterView::StartMigration(UsageTable& usage, VmId vm_id, NodeId target,
                                 const Demand& d) const {
  const auto t = Index(target);
  usage.migrating_to[Index(vm_id)] = target;
  NodeUse& use = usage.nodes[t];
  use.inflight += 1;
  use.cpu_millis += d.cpu_millis;
  use.memory_bytes += d.memory_bytes;
  use.dedicated_cpus += d.dedicated_cpus;
  RefreshNodeScores(use, facts(target));
  if (const NodeId from = location(vm_id); from != kNoId) {
    NodeUse& source = usage.nodes[Index(from)];
    source.inflight += 1;
    RefreshNodeScores(source, facts(from));
  }
  if (d.hugepage_size > 0) {
    const int pool = PoolIndex(target, d.hugepage_size);
    (pool >= 0 ? usage.hugepage_bytes[t][static_cast<size_t>(pool)] : use.memory_bytes) +=
        d.hugepage_bytes;
  }
  if (d.numa_nodes > 0) {
    const NumaEntry e = NumaEntryOf(d);
    usage.planned_numa.emplace_back(target, e);
    NumaLoad& load = usage.numa[t];
    load.Add(e);
    const NumaFacts& nf = numa_facts(target);
    if (facts(target).cells > 0 && nf.min_cell_cpu >= load.share_cpu &&
        nf.min_cell_mem >= load.share_mem) {
      load.failures = 0;
    } else {
      std::vector<NumaEntry> all = numa_entries(target);
      for (const auto& [n, planned] : usage.planned_numa) {
        if (n == target) all.push_back(planned);
      }
      std::array<int64_t, kMaxNumaCells> cpu{};
      std::array<int64_t, kMaxNumaCells> mem{};
      load.failures = PackNuma(node(target).numa_cells, all, cpu.data(), mem.data());
    }
  }
}

}  // namespace ferry::placement

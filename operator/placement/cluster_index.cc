#include "placement/cluster_index.h"

#include <algorithm>
#include <array>
#include <utility>

#include "placement/format.h"

namespace ferry::placement {
namespace {

template <typename T>
void SortByName(std::vector<T>& items) {
  std::stable_sort(items.begin(), items.end(),
                   [](const T& a, const T& b) { return a.name < b.name; });
}

// Finds the first duplicate name in a name-sorted vector.
template <typename T>
Status CheckNames(const std::vector<T>& items, const char* kind) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].name.empty()) return InvalidError(std::string(kind) + " with an empty name");
    if (i > 0 && items[i].name == items[i - 1].name) {
      return InvalidError("duplicate " + std::string(kind) + " name \"" + items[i].name + "\"");
    }
  }
  return OkStatus();
}

Status Negative(const std::string& what, const std::string& name, const char* field) {
  return InvalidError(what + " " + name + ": negative " + field);
}

}  // namespace

int64_t CeilDiv(int64_t a, int64_t b) { return b <= 0 ? a : (a + b - 1) / b; }

Demand DemandOf(const Vm& vm, Relaxation relax) {
  Demand d;
  d.cpu_millis = vm.cpu_millis;
  if (vm.hugepage_size_bytes > 0) {
    d.hugepage_size = vm.hugepage_size_bytes;
    d.hugepage_bytes = vm.memory_bytes;
  } else {
    d.memory_bytes = vm.memory_bytes;
  }
  if (vm.dedicated_cpus && !relax.drop_dedicated) d.dedicated_cpus = CeilDiv(vm.cpu_millis, 1000);
  if (!relax.drop_numa) d.numa_nodes = vm.numa_nodes;
  return d;
}

bool FitNumaCells(const Node& node, const int64_t* cell_cpu_used, const int64_t* cell_mem_used,
                  int k, int64_t cpu_share, int64_t mem_share, int* chosen) {
  const int cells = static_cast<int>(node.numa_cells.size());
  if (k <= 0) return true;
  if (k > cells) return false;
  std::array<int, kMaxNumaCells> order{};
  for (int c = 0; c < cells; ++c) order[static_cast<size_t>(c)] = c;
  auto free_mem = [&](int c) {
    return node.numa_cells[static_cast<size_t>(c)].memory_bytes - cell_mem_used[c];
  };
  // Insertion sort (stable, no allocation): cells are few.
  for (int i = 1; i < cells; ++i) {
    const int c = order[static_cast<size_t>(i)];
    int j = i;
    for (; j > 0 && free_mem(order[static_cast<size_t>(j - 1)]) < free_mem(c); --j) {
      order[static_cast<size_t>(j)] = order[static_cast<size_t>(j - 1)];
    }
    order[static_cast<size_t>(j)] = c;
  }
  int found = 0;
  for (int i = 0; i < cells && found < k; ++i) {
    const int c = order[static_cast<size_t>(i)];
    const NumaCell& cell = node.numa_cells[static_cast<size_t>(c)];
    if (cell.cpu_millis - cell_cpu_used[c] >= cpu_share && free_mem(c) >= mem_share) {
      chosen[found++] = c;
    }
  }
  return found == k;
}

StatusOr<ClusterIndex> ClusterIndex::Build(ClusterSnapshot snapshot) {
  ClusterIndex index;
  index.nodes_ = std::move(snapshot.nodes);
  index.vms_ = std::move(snapshot.vms);
  index.groups_ = std::move(snapshot.groups);
  SortByName(index.nodes_);
  SortByName(index.vms_);
  SortByName(index.groups_);
  FERRY_RETURN_IF_ERROR(index.Validate());
  for (size_t i = 0; i < index.nodes_.size(); ++i) {
    index.node_by_name_.emplace(index.nodes_[i].name, static_cast<NodeId>(i));
  }
  index.facts_.reserve(index.nodes_.size());
  for (const Node& n : index.nodes_) {
    NodeFacts f;
    f.cpu_millis = n.cpu_millis;
    f.memory_bytes = n.memory_bytes;
    f.dedicated_cpus = n.dedicated_cpus;
    f.libvirt_version = n.version.libvirt;
    f.qemu_version = n.version.qemu;
    f.cpu_model_id =
        index.cpu_model_ids_.emplace(n.cpu_model, static_cast<int32_t>(index.cpu_model_ids_.size()))
            .first->second;
    f.ready = n.ready;
    f.unschedulable = n.unschedulable;
    f.has_hard_taints = std::any_of(n.taints.begin(), n.taints.end(), [](const Taint& t) {
      return t.effect != TaintEffect::kPreferNoSchedule;
    });
    f.cells = static_cast<int32_t>(n.numa_cells.size());
    f.pools = static_cast<int32_t>(n.hugepages.size());
    for (const NumaCell& c : n.numa_cells) {
      index.cell_cpu_cap_.push_back(c.cpu_millis);
      index.cell_mem_cap_.push_back(c.memory_bytes);
    }
    for (const HugepagePool& p : n.hugepages) {
      index.pool_page_size_.push_back(p.page_size_bytes);
      index.pool_total_.push_back(p.total_bytes);
    }
    const auto id = static_cast<NodeId>(index.facts_.size());
    for (const auto& [key, value] : n.labels) {
      index.label_index_[key + '\0' + value].push_back(id);
    }
    index.facts_.push_back(f);
  }
  for (size_t i = 0; i < index.vms_.size(); ++i) {
    index.vm_by_name_.emplace(index.vms_[i].name, static_cast<VmId>(i));
  }
  for (size_t i = 0; i < index.groups_.size(); ++i) {
    index.group_by_name_.emplace(index.groups_[i].name, static_cast<GroupId>(i));
  }
  index.IndexVmsAndGroups();
  index.ComputeUsage(snapshot.migrations);
  return index;
}

Status ClusterIndex::Validate() const {
  FERRY_RETURN_IF_ERROR(CheckNames(nodes_, "node"));
  FERRY_RETURN_IF_ERROR(CheckNames(vms_, "vm"));
  FERRY_RETURN_IF_ERROR(CheckNames(groups_, "server group"));
  for (const Node& n : nodes_) {
    if (n.cpu_millis < 0) return Negative("node", n.name, "cpu");
    if (n.memory_bytes < 0) return Negative("node", n.name, "memory");
    if (n.dedicated_cpus < 0) return Negative("node", n.name, "dedicated cpus");
    if (n.numa_cells.size() > static_cast<size_t>(kMaxNumaCells)) {
      return InvalidError("node " + n.name + ": " + std::to_string(n.numa_cells.size()) +
                          " NUMA cells, more than the supported " + std::to_string(kMaxNumaCells));
    }
    for (const NumaCell& c : n.numa_cells) {
      if (c.cpu_millis < 0 || c.memory_bytes < 0) return Negative("node", n.name, "NUMA cell size");
    }
    if (n.hugepages.size() > static_cast<size_t>(kMaxHugepagePools)) {
      return InvalidError("node " + n.name + ": more than " + std::to_string(kMaxHugepagePools) +
                          " hugepage sizes");
    }
    for (size_t i = 0; i < n.hugepages.size(); ++i) {
      const HugepagePool& p = n.hugepages[i];
      if (p.page_size_bytes <= 0 || p.total_bytes < 0) {
        return InvalidError("node " + n.name +
                            ": hugepage pool with a non-positive page size "
                            "or negative total");
      }
      for (size_t j = 0; j < i; ++j) {
        if (n.hugepages[j].page_size_bytes == p.page_size_bytes) {
          return InvalidError("node " + n.name + ": two hugepage pools of page size " +
                              FormatBytes(p.page_size_bytes));
        }
      }
    }
  }
  for (const Vm& v : vms_) {
    if (v.cpu_millis < 0) return Negative("vm", v.name, "cpu");
    if (v.memory_bytes < 0) return Negative("vm", v.name, "memory");
    if (v.hugepage_size_bytes < 0) return Negative("vm", v.name, "hugepage size");
    if (v.numa_nodes < 0 || v.numa_nodes > kMaxNumaCells) {
      return InvalidError("vm " + v.name + ": numaNodes " + std::to_string(v.numa_nodes) +
                          " out of range 0.." + std::to_string(kMaxNumaCells));
    }
  }
  for (const ServerGroup& g : groups_) {
    if (g.max_per_node < 1) {
      return InvalidError("server group " + g.name + ": maxPerNode " +
                          std::to_string(g.max_per_node) + " must be at least 1");
    }
  }
  return OkStatus();
}

NodeId ClusterIndex::FindNode(std::string_view name) const {
  auto it = node_by_name_.find(name);
  return it == node_by_name_.end() ? kNoId : it->second;
}
VmId ClusterIndex::FindVm(std::string_view name) const {
  auto it = vm_by_name_.find(name);
  return it == vm_by_name_.end() ? kNoId : it->second;
}
GroupId ClusterIndex::FindGroup(std::string_view name) const {
  auto it = group_by_name_.find(name);
  return it == group_by_name_.end() ? kNoId : it->second;
}

NodeCapacity ClusterIndex::capacity(NodeId id) const {
  const NodeFacts& f = facts(id);
  NodeCapacity c;
  c.cpu_millis = f.cpu_millis;
  c.memory_bytes = f.memory_bytes;
  c.dedicated_cpus = f.dedicated_cpus;
  c.cells = f.cells;
  c.cell_cpu = cell_cpu_cap_.data() + cell_offset(id);
  c.cell_mem = cell_mem_cap_.data() + cell_offset(id);
  c.pools = f.pools;
  c.pool_page_size = pool_page_size_.data() + pool_offset(id);
  c.pool_total = pool_total_.data() + pool_offset(id);
  return c;
}

const std::vector<NodeId>& ClusterIndex::NodesWithLabel(const std::string& key,
                                                        const std::string& value) const {
  static const std::vector<NodeId> kNone;
  auto it = label_index_.find(key + '\0' + value);
  return it == label_index_.end() ? kNone : it->second;
}

int32_t ClusterIndex::CpuModelId(std::string_view model) const {
  auto it = cpu_model_ids_.find(model);
  return it == cpu_model_ids_.end() ? -1 : it->second;
}

int ClusterIndex::PoolIndex(NodeId n, int64_t page_size) const {
  const auto& pools = node(n).hugepages;
  for (size_t i = 0; i < pools.size(); ++i) {
    if (pools[i].page_size_bytes == page_size) return pool_offset(n) + static_cast<int>(i);
  }
  return -1;
}

void ClusterIndex::IndexVmsAndGroups() {
  location_.assign(vms_.size(), kNoId);
  group_of_.assign(vms_.size(), kNoId);
  members_.assign(groups_.size(), {});
  vms_on_.assign(nodes_.size(), {});
  for (size_t i = 0; i < vms_.size(); ++i) {
    const Vm& v = vms_[i];
    const VmId id = static_cast<VmId>(i);
    if (!v.node.empty()) {
      const NodeId n = FindNode(v.node);
      if (n == kNoId) {
        problems_.push_back("vm " + v.name + " is on node " + v.node +
                            ", which is not in the snapshot; its usage is not counted");
      } else {
        location_[i] = n;
        vms_on_[static_cast<size_t>(n)].push_back(id);
      }
    }
    if (!v.server_group.empty()) {
      const GroupId g = FindGroup(v.server_group);
      if (g == kNoId) {
        group_of_[i] = kMissingGroup;
        problems_.push_back("vm " + v.name + " names server group " + v.server_group +
                            ", which does not exist; it cannot be placed until it does");
      } else {
        group_of_[i] = g;
        members_[static_cast<size_t>(g)].push_back(id);
      }
    }
  }
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (const std::string& m : groups_[g].members) {
      const VmId v = FindVm(m);
      if (v == kNoId) {
        problems_.push_back("server group " + groups_[g].name + " lists member " + m +
                            ", which is not a VM in the snapshot; ignored");
      } else if (group_of_[static_cast<size_t>(v)] != static_cast<GroupId>(g)) {
        problems_.push_back(
            "server group " + groups_[g].name + " lists member " + m + ", whose serverGroup is \"" +
            vms_[static_cast<size_t>(v)].server_group + "\"; membership follows the VM");
      }
    }
  }
}

void ClusterIndex::ComputeUsage(const std::vector<InFlightMigration>& migrations) {
  const size_t n = nodes_.size();
  cell_offset_.assign(n, 0);
  pool_offset_.assign(n, 0);
  int cells = 0;
  int pools = 0;
  for (size_t i = 0; i < n; ++i) {
    cell_offset_[i] = cells;
    pool_offset_[i] = pools;
    cells += static_cast<int>(nodes_[i].numa_cells.size());
    pools += static_cast<int>(nodes_[i].hugepages.size());
  }
  usage_.cpu_millis.assign(n, 0);
  usage_.memory_bytes.assign(n, 0);
  usage_.dedicated_cpus.assign(n, 0);
  usage_.inflight.assign(n, 0);
  usage_.cell_cpu_millis.assign(static_cast<size_t>(cells), 0);
  usage_.cell_memory_bytes.assign(static_cast<size_t>(cells), 0);
  usage_.hugepage_bytes.assign(static_cast<size_t>(pools), 0);
  usage_.migrating_to.assign(vms_.size(), kNoId);
  for (size_t i = 0; i < vms_.size(); ++i) {
    if (location_[i] != kNoId) Reserve(usage_, location_[i], DemandOf(vms_[i]));
  }
  for (const InFlightMigration& m : migrations) {
    const VmId v = FindVm(m.vm);
    const NodeId target = FindNode(m.target_node);
    if (v == kNoId) {
      problems_.push_back("in-flight migration of unknown vm " + m.vm + " ignored");
      continue;
    }
    if (target == kNoId) {
      problems_.push_back("in-flight migration of vm " + m.vm + " to unknown node " +
                          m.target_node + " ignored");
      continue;
    }
    if (usage_.migrating_to[static_cast<size_t>(v)] != kNoId) {
      problems_.push_back("vm " + m.vm +
                          " has more than one in-flight migration; only the "
                          "first (to " +
                          node(usage_.migrating_to[static_cast<size_t>(v)]).name + ") is counted");
      continue;
    }
    const NodeId source = location_[static_cast<size_t>(v)];
    if (target == source) {
      problems_.push_back("in-flight migration of vm " + m.vm + " targets its current node " +
                          m.target_node + "; ignored");
      continue;
    }
    if (!m.source_node.empty() && m.source_node != vms_[static_cast<size_t>(v)].node) {
      problems_.push_back("in-flight migration of vm " + m.vm + " names source " + m.source_node +
                          " but the vm is on " +
                          (vms_[static_cast<size_t>(v)].node.empty()
                               ? std::string("no node")
                               : vms_[static_cast<size_t>(v)].node) +
                          "; the vm's node is used");
    }
    StartMigration(usage_, v, target);
  }
}

void ClusterIndex::Reserve(UsageTable& usage, NodeId node_id, const Demand& d) const {
  const auto n = static_cast<size_t>(node_id);
  usage.cpu_millis[n] += d.cpu_millis;
  usage.memory_bytes[n] += d.memory_bytes;
  usage.dedicated_cpus[n] += d.dedicated_cpus;
  if (d.hugepage_size > 0) {
    const int pool = PoolIndex(node_id, d.hugepage_size);
    // A VM already running without a matching pool (inconsistent snapshot) is counted in
    // regular memory so that its footprint is not lost.
    if (pool >= 0) {
      usage.hugepage_bytes[static_cast<size_t>(pool)] += d.hugepage_bytes;
    } else {
      usage.memory_bytes[n] += d.hugepage_bytes;
    }
  }
  if (d.numa_nodes > 0 && !nodes_[n].numa_cells.empty()) {
    const int off = cell_offset(node_id);
    int64_t* cpu = usage.cell_cpu_millis.data() + off;
    int64_t* mem = usage.cell_memory_bytes.data() + off;
    const int k = std::min(d.numa_nodes, static_cast<int>(nodes_[n].numa_cells.size()));
    const int64_t cpu_share = CeilDiv(d.cpu_millis, k);
    const int64_t mem_share = CeilDiv(d.memory_bytes + d.hugepage_bytes, k);
    std::array<int, kMaxNumaCells> chosen{};
    if (!FitNumaCells(nodes_[n], cpu, mem, k, cpu_share, mem_share, chosen.data())) {
      // Over-committed already (the snapshot is what it is): spread over the first k cells
      // so the overuse shows as negative free space instead of vanishing.
      for (int i = 0; i < k; ++i) chosen[static_cast<size_t>(i)] = i;
    }
    for (int i = 0; i < k; ++i) {
      cpu[chosen[static_cast<size_t>(i)]] += cpu_share;
      mem[chosen[static_cast<size_t>(i)]] += mem_share;
    }
  }
}

void ClusterIndex::StartMigration(UsageTable& usage, VmId vm_id, NodeId target) const {
  StartMigration(usage, vm_id, target, DemandOf(vm(vm_id)));
}

void ClusterIndex::StartMigration(UsageTable& usage, VmId vm_id, NodeId target,
                                  const Demand& demand) const {
  const auto v = static_cast<size_t>(vm_id);
  usage.migrating_to[v] = target;
  usage.inflight[static_cast<size_t>(target)] += 1;
  if (location_[v] != kNoId) usage.inflight[static_cast<size_t>(location_[v])] += 1;
  Reserve(usage, target, demand);
}

}  // namespace ferry::placement

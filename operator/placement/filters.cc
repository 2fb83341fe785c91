#include "placement/filters.h"

#include <algorithm>
#include <array>

namespace ferry::placement {

GroupPresence ComputePresence(const ClusterView& view, const UsageTable& usage, GroupId group,
                              VmId exclude) {
  GroupPresence p;
  if (group < 0) return p;
  const std::vector<VmId>& members = view.members(group);
  // (node, position of the member in name order), so each node's first member comes first.
  std::vector<std::pair<NodeId, int32_t>> where;
  for (size_t i = 0; i < members.size(); ++i) {
    const VmId m = members[i];
    if (m == exclude) continue;
    ++p.members;
    const NodeId loc = view.location(m);
    const NodeId to = usage.migrating_to[static_cast<size_t>(m)];
    if (loc != kNoId) where.emplace_back(loc, static_cast<int32_t>(i));
    if (to != kNoId && to != loc) where.emplace_back(to, static_cast<int32_t>(i));
  }
  std::sort(where.begin(), where.end());
  int32_t best = 0;
  for (const auto& [node, i] : where) {
    if (p.counts.empty() || p.counts.back().first != node) {
      p.counts.emplace_back(node, 0);
      p.example.push_back(members[static_cast<size_t>(i)]);
      p.mask |= uint64_t{1} << (static_cast<uint32_t>(node) & 63);
    }
    const int32_t count = ++p.counts.back().second;
    if (count > best || (count == best && view.rank(node) < view.rank(p.main_node))) {
      best = count;
      p.main_node = node;
    }
  }
  return p;
}

VmContext MakeVmContext(const ClusterView& view, const UsageTable& usage, VmId vm,
                        const Demand& demand, bool enforce_best_effort) {
  VmContext ctx;
  ctx.vm = vm;
  ctx.source = view.location(vm);
  ctx.demand = demand;
  ctx.numa = NumaEntryOf(demand);
  ctx.group = view.group_of(vm);
  if (ctx.group >= 0) {
    const ServerGroup& g = view.group(ctx.group);
    ctx.policy = g.policy;
    ctx.best_effort = g.best_effort;
    ctx.max_per_node = g.max_per_node;
    ctx.presence = ComputePresence(view, usage, ctx.group, vm);
    ctx.enforce_group = !g.best_effort || enforce_best_effort;
  }
  // A guest may move to an older libvirt/QEMU only as far back as the version it first
  // booted on (its machine type exists there); otherwise the target must not be older than
  // the source.
  const Vm& spec = view.vm(vm);
  auto floor = [&](int64_t source_version, int64_t boot_version) -> int64_t {
    if (boot_version > 0 && (source_version == 0 || boot_version < source_version)) {
      return boot_version;
    }
    return source_version;
  };
  const HypervisorVersion src =
      ctx.source == kNoId ? HypervisorVersion{} : view.node(ctx.source).version;
  if (!spec.node_selector.empty()) {
    ctx.selector_entries =
        static_cast<uint16_t>(std::min<size_t>(spec.node_selector.size(), 65535));
    ctx.selector_matches.assign(static_cast<size_t>(view.node_id_limit()), 0);
    for (const auto& [key, value] : spec.node_selector) {
      for (NodeId n : view.NodesWithLabel(key, value)) {
        ++ctx.selector_matches[static_cast<size_t>(n)];
      }
    }
  }
  ctx.named_cpu_model = !spec.cpu_model.empty() && spec.cpu_model != kHostPassthrough;
  if (spec.cpu_model == kHostPassthrough && ctx.source != kNoId) {
    ctx.passthrough_model = view.facts(ctx.source).cpu_model_id;
  }
  ctx.libvirt_floor = floor(src.libvirt, spec.boot_version.libvirt);
  ctx.qemu_floor = floor(src.qemu, spec.boot_version.qemu);
  ctx.FinishStatic(view);
  return ctx;
}

std::vector<NumaEntry> Ledger::NumaEntries(const ClusterView& view, NodeId node) const {
  std::vector<NumaEntry> all = view.numa_entries(node);
  if (planned != nullptr) {
    for (const auto& [target, e] : *planned) {
      if (target == node) all.push_back(e);
    }
  }
  all.insert(all.end(), added.begin(), added.end());
  return all;
}

void Ledger::Add(const ClusterView& view, NodeId node, const Demand& d) {
  cpu_millis += d.cpu_millis;
  memory_bytes += d.memory_bytes;
  dedicated_cpus += d.dedicated_cpus;
  if (d.hugepage_size > 0) {
    const int pool = view.PoolIndex(node, d.hugepage_size);
    (pool >= 0 ? pool_bytes[static_cast<size_t>(pool)] : memory_bytes) += d.hugepage_bytes;
  }
  if (d.numa_nodes > 0) {
    const NumaEntry e = NumaEntryOf(d);
    added.push_back(e);
    numa.Add(e);
    std::array<int64_t, kMaxNumaCells> cpu{};
    std::array<int64_t, kMaxNumaCells> mem{};
    numa.failures =
        PackNuma(view.node(node).numa_cells, NumaEntries(view, node), cpu.data(), mem.data());
  }
}

Ledger LedgerOf(const ClusterView& view, const UsageTable& usage, NodeId node) {
  (void)view;
  const auto n = static_cast<size_t>(node);
  const NodeUse& use = usage.nodes[n];
  Ledger l;
  l.cpu_millis = use.cpu_millis;
  l.memory_bytes = use.memory_bytes;
  l.dedicated_cpus = use.dedicated_cpus;
  l.pool_bytes = usage.hugepage_bytes[n];
  l.numa = usage.numa[n];
  if (!usage.planned_numa.empty()) l.planned = &usage.planned_numa;
  return l;
}

void VmContext::FinishStatic(const ClusterView& view) {
  plain = demand.IsPlain();
  only_basic_static = selector_entries == 0 && passthrough_model == -2 && !named_cpu_model &&
                      libvirt_floor <= view.min_libvirt_version() &&
                      qemu_floor <= view.min_qemu_version();
}

Rejection CheckTaints(const ClusterView& view, const VmContext& ctx, NodeId node_id) {
  const Vm& vm = view.vm(ctx.vm);
  const Node& node = view.node(node_id);
  for (size_t i = 0; i < node.taints.size(); ++i) {
    const Taint& t = node.taints[i];
    if (t.effect == TaintEffect::kPreferNoSchedule) continue;
    if (!Tolerates(vm.tolerations, t)) return {Reason::kTaint, 0, 0, static_cast<int64_t>(i)};
  }
  return {};
}

bool Tolerates(const std::vector<Toleration>& tolerations, const Taint& taint) {
  for (const Toleration& t : tolerations) {
    const bool key_ok = (t.key.empty() && t.exists) || t.key == taint.key;
    const bool value_ok = t.exists || t.value == taint.value;
    const bool effect_ok = !t.effect.has_value() || *t.effect == taint.effect;
    if (key_ok && value_ok && effect_ok) return true;
  }
  return false;
}

namespace {

// Cells of `node` with room for one share of `x`, under the canonical packing of `entries`.
int64_t CellsWithRoom(const ClusterView& view, NodeId node, const std::vector<NumaEntry>& entries,
                      const NumaEntry& x) {
  const Node& n = view.node(node);
  std::array<int64_t, kMaxNumaCells> cpu{};
  std::array<int64_t, kMaxNumaCells> mem{};
  PackNuma(n.numa_cells, entries, cpu.data(), mem.data());
  int64_t room = 0;
  for (size_t c = 0; c < n.numa_cells.size(); ++c) {
    if (n.numa_cells[c].cpu_millis - cpu[c] >= x.cpu_share &&
        n.numa_cells[c].memory_bytes - mem[c] >= x.mem_share) {
      ++room;
    }
  }
  return room;
}

// x fits when the canonical packing with it added leaves no more entries without cells than
// before. The sums decide most nodes without packing.
Rejection CheckNuma(const ClusterView& view, NodeId node, const Ledger& used, const NumaEntry& x) {
  const NumaFacts& f = view.numa_facts(node);
  const NumaLoad& load = used.numa;
  auto reject = [&] {
    return Rejection{Reason::kNuma, x.cells,
                     CellsWithRoom(view, node, used.NumaEntries(view, node), x), x.mem_share};
  };
  if (x.cells > view.facts(node).cells) return reject();
  if (f.min_cell_cpu >= load.share_cpu + x.cpu_share &&
      f.min_cell_mem >= load.share_mem + x.mem_share) {
    return {};  // every cell could hold a share of every entry: all fit
  }
  if (load.failures == 0 && (f.sum_cell_cpu - load.total_cpu < x.cells * x.cpu_share ||
                             f.sum_cell_mem - load.total_mem < x.cells * x.mem_share)) {
    return reject();  // the cells together lack room
  }
  std::vector<NumaEntry> all = used.NumaEntries(view, node);
  all.push_back(x);
  std::array<int64_t, kMaxNumaCells> cpu{};
  std::array<int64_t, kMaxNumaCells> mem{};
  if (PackNuma(view.node(node).numa_cells, all, cpu.data(), mem.data()) > load.failures) {
    return reject();
  }
  return {};
}

}  // namespace

Rejection CheckCapacity(const ClusterView& view, NodeId node, const Ledger& used, const Demand& d) {
  const NodeFacts& cap = view.facts(node);
  const int64_t cpu_free = cap.cpu_millis - used.cpu_millis;
  if (d.cpu_millis > cpu_free) return {Reason::kCpu, d.cpu_millis, cpu_free};
  const int64_t mem_free = cap.memory_bytes - used.memory_bytes;
  if (d.memory_bytes > mem_free) return {Reason::kMemory, d.memory_bytes, mem_free};
  if (d.dedicated_cpus > 0) {
    const int64_t ded_free = cap.dedicated_cpus - used.dedicated_cpus;
    if (d.dedicated_cpus > ded_free) return {Reason::kDedicatedCpus, d.dedicated_cpus, ded_free};
  }
  if (d.hugepage_size > 0) {
    const int pool = view.PoolIndex(node, d.hugepage_size);
    const int64_t free_bytes =
        pool < 0 ? 0
                 : view.node(node).hugepages[static_cast<size_t>(pool)].total_bytes -
                       used.pool_bytes[static_cast<size_t>(pool)];
    if (d.hugepage_bytes > free_bytes) {
      return {Reason::kHugepages, d.hugepage_bytes, free_bytes, d.hugepage_size};
    }
  }
  if (d.numa_nodes > 0) return CheckNuma(view, node, used, NumaEntryOf(d));
  return {};
}

}  // namespace ferry::placement

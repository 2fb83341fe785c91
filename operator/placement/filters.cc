#include "placement/filters.h"

#include <algorithm>
#include <array>

namespace ferry::placement {

const char* FilterName(Filter f) {
  switch (f) {
    case Filter::kNone:
      return "none";
    case Filter::kExcluded:
      return "excluded";
    case Filter::kCurrentNode:
      return "current node";
    case Filter::kNotReady:
      return "not ready";
    case Filter::kCordoned:
      return "cordoned";
    case Filter::kTaint:
      return "taint";
    case Filter::kNodeSelector:
      return "node selector";
    case Filter::kCpuModel:
      return "cpu model";
    case Filter::kVersion:
      return "version";
    case Filter::kCpu:
      return "cpu";
    case Filter::kMemory:
      return "memory";
    case Filter::kDedicatedCpus:
      return "dedicated cpus";
    case Filter::kHugepages:
      return "hugepages";
    case Filter::kNuma:
      return "numa";
    case Filter::kAffinity:
      return "affinity";
    case Filter::kAntiAffinity:
      return "anti-affinity";
  }
  return "unknown";
}

int32_t GroupPresence::CountOn(NodeId node) const {
  auto it = std::lower_bound(counts.begin(), counts.end(), std::make_pair(node, int32_t{0}));
  return it != counts.end() && it->first == node ? it->second : 0;
}

VmId GroupPresence::ExampleOn(NodeId node) const {
  auto it = std::lower_bound(counts.begin(), counts.end(), std::make_pair(node, int32_t{0}));
  if (it == counts.end() || it->first != node) return kNoId;
  return example[static_cast<size_t>(it - counts.begin())];
}

GroupPresence ComputePresence(const ClusterIndex& index, const UsageTable& usage, GroupId group,
                              VmId exclude) {
  GroupPresence p;
  if (group < 0) return p;
  std::vector<std::pair<NodeId, VmId>> where;
  for (VmId m : index.members(group)) {
    if (m == exclude) continue;
    ++p.members;
    const NodeId loc = index.location(m);
    const NodeId to = usage.migrating_to[static_cast<size_t>(m)];
    if (loc != kNoId) where.emplace_back(loc, m);
    if (to != kNoId && to != loc) where.emplace_back(to, m);
  }
  std::sort(where.begin(), where.end());
  int32_t best = 0;
  for (const auto& [node, vm] : where) {
    if (p.counts.empty() || p.counts.back().first != node) {
      p.counts.emplace_back(node, 0);
      p.example.push_back(vm);
    }
    if (++p.counts.back().second > best) {
      best = p.counts.back().second;
      p.main_node = node;
    }
  }
  return p;
}

VmContext MakeVmContext(const ClusterIndex& index, const UsageTable& usage, VmId vm,
                        const Demand& demand, bool enforce_best_effort) {
  VmContext ctx;
  ctx.vm = vm;
  ctx.source = index.location(vm);
  ctx.demand = demand;
  ctx.group = index.group_of(vm);
  if (ctx.group >= 0) {
    ctx.presence = ComputePresence(index, usage, ctx.group, vm);
    ctx.enforce_group = !index.group(ctx.group).best_effort || enforce_best_effort;
  }
  // A guest may move to an older libvirt/QEMU only as far back as the version it first
  // booted on (its machine type exists there); otherwise the target must not be older than
  // the source.
  const Vm& spec = index.vm(vm);
  auto floor = [&](int64_t source_version, int64_t boot_version) -> int64_t {
    if (boot_version > 0 && (source_version == 0 || boot_version < source_version)) {
      return boot_version;
    }
    return source_version;
  };
  const HypervisorVersion src =
      ctx.source == kNoId ? HypervisorVersion{} : index.node(ctx.source).version;
  if (!spec.node_selector.empty()) {
    ctx.selector_entries =
        static_cast<uint16_t>(std::min<size_t>(spec.node_selector.size(), 65535));
    ctx.selector_matches.assign(static_cast<size_t>(index.node_count()), 0);
    for (const auto& [key, value] : spec.node_selector) {
      for (NodeId n : index.NodesWithLabel(key, value))
        ++ctx.selector_matches[static_cast<size_t>(n)];
    }
  }
  ctx.named_cpu_model = !spec.cpu_model.empty() && spec.cpu_model != kHostPassthrough;
  if (spec.cpu_model == kHostPassthrough && ctx.source != kNoId) {
    ctx.passthrough_model = index.facts(ctx.source).cpu_model_id;
  }
  ctx.libvirt_floor = floor(src.libvirt, spec.boot_version.libvirt);
  ctx.qemu_floor = floor(src.qemu, spec.boot_version.qemu);
  return ctx;
}

Ledger LedgerOf(const ClusterIndex& index, const UsageTable& usage, NodeId node) {
  const auto n = static_cast<size_t>(node);
  Ledger l;
  l.cpu_millis = usage.cpu_millis[n];
  l.memory_bytes = usage.memory_bytes[n];
  l.dedicated_cpus = usage.dedicated_cpus[n];
  l.cell_cpu = usage.cell_cpu_millis.data() + index.cell_offset(node);
  l.cell_mem = usage.cell_memory_bytes.data() + index.cell_offset(node);
  l.pool_bytes = usage.hugepage_bytes.data() + index.pool_offset(node);
  return l;
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

Rejection CheckStatic(const ClusterIndex& index, const VmContext& ctx, NodeId node_id) {
  const NodeFacts& facts = index.facts(node_id);
  if (ctx.excluded != nullptr && (*ctx.excluded)[static_cast<size_t>(node_id)] != 0) {
    return {Filter::kExcluded};
  }
  if (node_id == ctx.source) return {Filter::kCurrentNode};
  if (!facts.ready) return {Filter::kNotReady};
  if (facts.unschedulable) return {Filter::kCordoned};
  const Vm& vm = index.vm(ctx.vm);
  if (facts.has_hard_taints) {
    const Node& node = index.node(node_id);
    for (size_t i = 0; i < node.taints.size(); ++i) {
      const Taint& t = node.taints[i];
      if (t.effect == TaintEffect::kPreferNoSchedule) continue;
      if (!Tolerates(vm.tolerations, t)) return {Filter::kTaint, 0, 0, static_cast<int64_t>(i)};
    }
  }
  if (ctx.selector_entries > 0 &&
      ctx.selector_matches[static_cast<size_t>(node_id)] != ctx.selector_entries) {
    // Which entry failed is worked out only when the rejection is described.
    return {Filter::kNodeSelector};
  }
  if (ctx.passthrough_model != -2) {
    if (facts.cpu_model_id != ctx.passthrough_model) return {Filter::kCpuModel, 0, 0, 0};
  } else if (ctx.named_cpu_model) {
    const Node& node = index.node(node_id);
    if (node.cpu_model != vm.cpu_model && std::find(node.cpu_models.begin(), node.cpu_models.end(),
                                                    vm.cpu_model) == node.cpu_models.end()) {
      return {Filter::kCpuModel, 0, 0, 1};
    }
  }
  if (ctx.libvirt_floor > 0 && facts.libvirt_version < ctx.libvirt_floor) {
    return {Filter::kVersion, ctx.libvirt_floor, facts.libvirt_version, 0};
  }
  if (ctx.qemu_floor > 0 && facts.qemu_version < ctx.qemu_floor) {
    return {Filter::kVersion, ctx.qemu_floor, facts.qemu_version, 1};
  }
  return {};
}

Rejection CheckCapacity(const NodeCapacity& cap, const Ledger& used, const Demand& d) {
  const int64_t cpu_free = cap.cpu_millis - used.cpu_millis;
  if (d.cpu_millis > cpu_free) return {Filter::kCpu, d.cpu_millis, cpu_free};
  const int64_t mem_free = cap.memory_bytes - used.memory_bytes;
  if (d.memory_bytes > mem_free) return {Filter::kMemory, d.memory_bytes, mem_free};
  if (d.dedicated_cpus > 0) {
    const int64_t ded_free = cap.dedicated_cpus - used.dedicated_cpus;
    if (d.dedicated_cpus > ded_free) return {Filter::kDedicatedCpus, d.dedicated_cpus, ded_free};
  }
  if (d.hugepage_size > 0) {
    int64_t free_bytes = 0;
    for (int i = 0; i < cap.pools; ++i) {
      if (cap.pool_page_size[i] == d.hugepage_size) {
        free_bytes = cap.pool_total[i] - used.pool_bytes[i];
        break;
      }
    }
    if (d.hugepage_bytes > free_bytes) {
      return {Filter::kHugepages, d.hugepage_bytes, free_bytes, d.hugepage_size};
    }
  }
  if (d.numa_nodes > 0) {
    // FitNumaCells takes every cell that fits a share, so it succeeds exactly when at least
    // k cells fit; counting them is the same test without choosing.
    const int k = d.numa_nodes;
    const int64_t cpu_share = CeilDiv(d.cpu_millis, k);
    const int64_t mem_share = CeilDiv(d.memory_bytes + d.hugepage_bytes, k);
    int fitting = 0;
    for (int c = 0; c < cap.cells; ++c) {
      if (cap.cell_cpu[c] - used.cell_cpu[c] >= cpu_share &&
          cap.cell_mem[c] - used.cell_mem[c] >= mem_share) {
        ++fitting;
      }
    }
    if (fitting < k) return {Filter::kNuma, k, fitting, mem_share};
  }
  return {};
}

Rejection CheckGroup(const ClusterIndex& index, const VmContext& ctx, NodeId node) {
  if (!ctx.enforce_group) return {};
  const ServerGroup& g = index.group(ctx.group);
  const int32_t here = ctx.presence.CountOn(node);
  if (g.policy == GroupPolicy::kAffinity) {
    if (!ctx.presence.counts.empty() && here == 0) {
      return {Filter::kAffinity, 1, 0, ctx.presence.main_node};
    }
    return {};
  }
  if (here >= g.max_per_node) {
    return {Filter::kAntiAffinity, g.max_per_node, here, ctx.presence.ExampleOn(node)};
  }
  return {};
}

Rejection CheckNode(const ClusterIndex& index, const UsageTable& usage, const VmContext& ctx,
                    NodeId node) {
  Rejection r = CheckStatic(index, ctx, node);
  if (r.rejected()) return r;
  // Fast path for the common demand (no pinning, NUMA or hugepages): the packed facts only.
  const Demand& d = ctx.demand;
  if (d.dedicated_cpus == 0 && d.numa_nodes == 0 && d.hugepage_size == 0) {
    const NodeFacts& f = index.facts(node);
    const auto n = static_cast<size_t>(node);
    const int64_t cpu_free = f.cpu_millis - usage.cpu_millis[n];
    if (d.cpu_millis > cpu_free) return {Filter::kCpu, d.cpu_millis, cpu_free};
    const int64_t mem_free = f.memory_bytes - usage.memory_bytes[n];
    if (d.memory_bytes > mem_free) return {Filter::kMemory, d.memory_bytes, mem_free};
  } else {
    r = CheckCapacity(index.capacity(node), LedgerOf(index, usage, node), d);
    if (r.rejected()) return r;
  }
  return CheckGroup(index, ctx, node);
}

}  // namespace ferry::placement

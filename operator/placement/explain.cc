#include "placement/explain.h"

#include "placement/format.h"

namespace ferry::placement {
namespace {

std::string Quantity(Filter f, int64_t v) {
  switch (f) {
    case Filter::kCpu:
      return FormatMillicores(v);
    case Filter::kMemory:
    case Filter::kHugepages:
      return FormatBytes(v);
    default:
      return std::to_string(v);
  }
}

const char* EffectName(TaintEffect e) {
  switch (e) {
    case TaintEffect::kNoSchedule:
      return "NoSchedule";
    case TaintEffect::kPreferNoSchedule:
      return "PreferNoSchedule";
    case TaintEffect::kNoExecute:
      return "NoExecute";
  }
  return "?";
}

std::string NodeName(const ClusterIndex& index, int64_t id) {
  if (id < 0 || id >= index.node_count()) return "?";
  return index.node(static_cast<NodeId>(id)).name;
}

}  // namespace

void RejectionTally::Add(NodeId node, const Rejection& r) {
  const auto f = static_cast<size_t>(r.filter);
  if (count[f]++ == 0) {
    example_node[f] = node;
    example[f] = r;
  }
}

std::string NeedHave(Filter f, int64_t need, int64_t have) {
  std::string n = Quantity(f, need);
  std::string h = Quantity(f, have);
  if (n == h && need != have) {  // rounding hid the difference: show exact bytes
    n = std::to_string(need);
    h = std::to_string(have);
  }
  return "needs " + n + ", free " + h;
}

std::string DescribeRejection(const ClusterIndex& index, VmId vm_id, NodeId node_id,
                              const Rejection& r) {
  const Vm& vm = index.vm(vm_id);
  const Node& node = index.node(node_id);
  const std::string prefix = std::string(FilterName(r.filter)) + ": ";
  switch (r.filter) {
    case Filter::kNone:
      return "passes";
    case Filter::kExcluded:
      return prefix + "node is being drained or was excluded by the caller";
    case Filter::kCurrentNode:
      return prefix + "vm " + vm.name + " already runs here";
    case Filter::kNotReady:
      return prefix + "node is not Ready";
    case Filter::kCordoned:
      return prefix + "node is unschedulable";
    case Filter::kTaint: {
      const Taint& t = node.taints[static_cast<size_t>(r.ref)];
      return prefix + t.key + (t.value.empty() ? "" : "=" + t.value) + ":" + EffectName(t.effect) +
             " not tolerated";
    }
    case Filter::kNodeSelector: {
      for (const auto& [key, value] : vm.node_selector) {
        auto label = node.labels.find(key);
        if (label != node.labels.end() && label->second == value) continue;
        return prefix + "needs " + key + "=" + value + ", node has " +
               (label == node.labels.end() ? "no " + key + " label" : key + "=" + label->second);
      }
      return prefix + "node labels do not match";
    }
    case Filter::kCpuModel: {
      if (r.ref == 0) {
        const NodeId src = index.location(vm_id);
        return prefix + "host-passthrough needs host model " +
               (src == kNoId ? std::string("?") : index.node(src).cpu_model) + ", node has " +
               node.cpu_model;
      }
      return prefix + "model " + vm.cpu_model + " not supported (host " + node.cpu_model + ")";
    }
    case Filter::kVersion:
      return prefix + (r.ref == 0 ? "libvirt " : "QEMU ") + FormatVersion(r.have) +
             " is older than " + FormatVersion(r.need) +
             " (the source's, or the one the guest first booted on)";
    case Filter::kCpu:
    case Filter::kMemory:
    case Filter::kDedicatedCpus:
      return prefix + NeedHave(r.filter, r.need, r.have);
    case Filter::kHugepages:
      return "hugepages-" + FormatBytes(r.ref) + ": " + NeedHave(r.filter, r.need, r.have);
    case Filter::kNuma:
      return prefix + "needs " + std::to_string(r.need) + " cells with " + FormatBytes(r.ref) +
             " and " + FormatMillicores(CeilDiv(DemandOf(vm).cpu_millis, r.need)) +
             " cpu free each, " + std::to_string(r.have) + " of " +
             std::to_string(node.numa_cells.size()) + " cells have room";
    case Filter::kAffinity: {
      const GroupId g = index.group_of(vm_id);
      return prefix + "group " + (g >= 0 ? index.group(g).name : "?") + " is on " +
             NodeName(index, r.ref) + ", not here";
    }
    case Filter::kAntiAffinity: {
      const GroupId g = index.group_of(vm_id);
      const std::string member =
          r.ref >= 0 && r.ref < index.vm_count() ? index.vm(static_cast<VmId>(r.ref)).name : "?";
      return prefix + "group " + (g >= 0 ? index.group(g).name : "?") + " already on " + node.name +
             " (" + member + "; " + std::to_string(r.have) + " of maxPerNode " +
             std::to_string(r.need) + ", members migrating to or from it counted)";
    }
  }
  return prefix;
}

std::string DescribeScore(const ScoreBreakdown& s, const Weights& w) {
  auto term = [](const char* name, int weight, int32_t value) {
    return std::string(name) + " " + std::to_string(weight) + "x" + std::to_string(value);
  };
  return "score " + std::to_string(s.total) + " = " + term("group", w.group, s.group) + " + " +
         term("load", w.least_loaded, s.least_loaded) + " + " +
         term("pinned", w.least_pinned, s.least_pinned) + " + " +
         term("in-flight", w.inflight, s.inflight) +
         (s.compliant ? "" : " (breaks the best-effort group rule)");
}

std::string DescribeTally(const ClusterIndex& index, VmId vm, const RejectionTally& tally) {
  std::string out;
  for (int f = 1; f < kFilterCount; ++f) {
    const auto i = static_cast<size_t>(f);
    if (tally.count[i] == 0) continue;
    if (!out.empty()) out += "; ";
    const auto filter = static_cast<Filter>(f);
    out += std::to_string(tally.count[i]) + (tally.count[i] == 1 ? " node " : " nodes ") +
           FilterName(filter);
    // Excluded and current nodes need no example; every other filter shows its numbers.
    if (filter == Filter::kExcluded || filter == Filter::kCurrentNode) continue;
    out += " (" + index.node(tally.example_node[i]).name + ": " +
           DescribeRejection(index, vm, tally.example_node[i], tally.example[i]) + ")";
  }
  return out;
}

}  // namespace ferry::placement

#include "placement/explain.h"

#include <algorithm>

#include "placement/format.h"

namespace ferry::placement {
namespace {

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

std::string NodeName(const ClusterView& view, int64_t id) {
  if (id < 0 || id >= view.node_id_limit()) return "?";
  return view.node(static_cast<NodeId>(id)).name;
}

std::string GroupName(const ClusterView& view, VmId vm) {
  const GroupId g = view.group_of(vm);
  return g >= 0 ? view.group(g).name : "?";
}

}  // namespace

Reason RejectionTally::Main() const {
  for (int f = kNodeReasonCount - 1; f > static_cast<int>(Reason::kCurrentNode); --f) {
    if (count[static_cast<size_t>(f)] > 0) return static_cast<Reason>(f);
  }
  if (count[static_cast<size_t>(Reason::kCurrentNode)] > 0) return Reason::kCurrentNode;
  if (count[static_cast<size_t>(Reason::kExcluded)] > 0) return Reason::kExcluded;
  return Reason::kNone;
}

std::string NeedHave(Reason r, int64_t need, int64_t have) {
  if (r == Reason::kCpu)
    return "needs " + FormatMillicores(need) + ", free " + FormatMillicores(have);
  if (r != Reason::kMemory && r != Reason::kHugepages) {
    return "needs " + std::to_string(need) + ", free " + std::to_string(have);
  }
  std::string out = "needs " + FormatBytesUp(need) + ", free " + FormatBytes(have);
  // Compare the values, never the strings: a gap smaller than the last digit shown is spelled
  // out in bytes.
  const int64_t gap = need - have;
  if (gap > 0 && gap <= std::max(FormatBytesStep(need), FormatBytesStep(have))) {
    out += " (" + std::to_string(gap) + (gap == 1 ? " byte" : " bytes") + " short)";
  }
  return out;
}

std::string DescribeRejection(const ClusterView& view, VmId vm_id, NodeId node_id,
                              const Rejection& r) {
  const Vm& vm = view.vm(vm_id);
  const Node& node = view.node(node_id);
  const std::string prefix = std::string(ReasonLabel(r.reason)) + ": ";
  switch (r.reason) {
    case Reason::kExcluded:
      return prefix + "node is being drained or was excluded by the caller";
    case Reason::kCurrentNode:
      return prefix + "vm " + vm.name + " already runs here";
    case Reason::kNodeNotReady:
      return prefix + (node.has_node_object ? "node is not Ready" : "there is no Node object");
    case Reason::kHypervisorNotReady:
      return prefix + (node.has_hypervisor ? "the Hypervisor is not ready or its heartbeat is stale"
                                           : "no Hypervisor object reports this node's capacity");
    case Reason::kCordoned:
      return prefix + "node is unschedulable";
    case Reason::kTaint: {
      const Taint& t = node.taints[static_cast<size_t>(r.ref)];
      return prefix + t.key + (t.value.empty() ? "" : "=" + t.value) + ":" + EffectName(t.effect) +
             " not tolerated";
    }
    case Reason::kNodeSelector: {
      for (const auto& [key, value] : vm.node_selector) {
        auto label = node.labels.find(key);
        if (label != node.labels.end() && label->second == value) continue;
        return prefix + "needs " + key + "=" + value + ", node has " +
               (label == node.labels.end() ? "no " + key + " label" : key + "=" + label->second);
      }
      return prefix + "node labels do not match";
    }
    case Reason::kCpuModel: {
      if (r.ref == 0) {
        const NodeId src = view.location(vm_id);
        return prefix + "host-passthrough needs host model " +
               (src == kNoId ? std::string("?") : view.node(src).cpu_model) + ", node has " +
               node.cpu_model;
      }
      return prefix + "model " + vm.cpu_model + " not supported (host " + node.cpu_model + ")";
    }
    case Reason::kVersion:
      return prefix + (r.ref == 0 ? "libvirt " : "QEMU ") + FormatVersion(r.have) +
             " is older than " + FormatVersion(r.need) +
             " (the source's, or the one the guest first booted on)";
    case Reason::kCpu:
    case Reason::kMemory:
    case Reason::kDedicatedCpus:
      return prefix + NeedHave(r.reason, r.need, r.have);
    case Reason::kHugepages:
      return "hugepages-" + FormatBytes(r.ref) + ": " + NeedHave(r.reason, r.need, r.have);
    case Reason::kNuma: {
      std::string out = prefix + "needs " + std::to_string(r.need) + " cells with " +
                        FormatBytesUp(r.ref) + " and " +
                        FormatMillicores(CeilDiv(vm.cpu_millis, r.need)) + " cpu free each, " +
                        std::to_string(r.have) + " of " + std::to_string(node.numa_cells.size()) +
                        " cells have room";
      if (r.have >= r.need) out += ", but then a NUMA guest already here would have none";
      return out;
    }
    case Reason::kAffinity:
      if (r.have > 0) {
        return prefix + "group " + GroupName(view, vm_id) + " is together on " +
               NodeName(view, r.ref) + " (its main node); only " + std::to_string(r.have) +
               " of its members are here";
      }
      return prefix + "group " + GroupName(view, vm_id) + " is on " + NodeName(view, r.ref) +
             ", not here";
    case Reason::kAntiAffinity: {
      const std::string member =
          r.ref >= 0 && r.ref < view.vm_id_limit() ? view.vm(static_cast<VmId>(r.ref)).name : "?";
      return prefix + "group " + GroupName(view, vm_id) + " already on " + node.name + " (" +
             member + "; " + std::to_string(r.have) + " of maxPerNode " + std::to_string(r.need) +
             ", members migrating to or from it counted)";
    }
    default:
      return r.rejected() ? prefix : "passes";
  }
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

std::string DescribeTally(const ClusterView& view, VmId vm, const RejectionTally& tally) {
  std::string out;
  for (int f = 1; f < kNodeReasonCount; ++f) {
    const auto i = static_cast<size_t>(f);
    if (tally.count[i] == 0) continue;
    if (!out.empty()) out += "; ";
    const auto reason = static_cast<Reason>(f);
    out += std::to_string(tally.count[i]) + (tally.count[i] == 1 ? " node " : " nodes ") +
           ReasonLabel(reason);
    // Excluded and current nodes need no example; every other filter shows its numbers.
    if (reason == Reason::kExcluded || reason == Reason::kCurrentNode) continue;
    out += " (" + view.node(tally.example_node[i]).name + ": " +
           DescribeRejection(view, vm, tally.example_node[i], tally.example[i]) + ")";
  }
  return out;
}

}  // namespace ferry::placement

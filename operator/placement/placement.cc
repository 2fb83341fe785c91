#include "placement/placement.h"

#include <utility>

#include "placement/format.h"

namespace ferry::placement {
namespace {

struct Pass {
  NodeId best = kNoId;
  ScoreBreakdown best_score;
  int32_t considered = 0;
  int32_t feasible = 0;
  RejectionTally tally;
  std::vector<NodeVerdict> verdicts;
};

// One pass over the nodes (or only the requested one): filter, score, keep the best.
// Ties go to the lowest node id, i.e. the first name in sort order.
Pass RunPass(const ClusterIndex& index, const UsageTable& usage, const VmContext& ctx,
             NodeId requested, const PlacementOptions& options) {
  Pass pass;
  const NodeId begin = requested == kNoId ? 0 : requested;
  const NodeId end = requested == kNoId ? index.node_count() : requested + 1;
  if (options.explain_nodes) pass.verdicts.reserve(static_cast<size_t>(end - begin));
  for (NodeId n = begin; n < end; ++n) {
    ++pass.considered;
    const Rejection r = CheckNode(index, usage, ctx, n);
    if (r.rejected()) {
      pass.tally.Add(n, r);
      if (options.explain_nodes) pass.verdicts.push_back({n, r, {}});
      continue;
    }
    ++pass.feasible;
    const ScoreBreakdown s = ScoreNode(index, usage, ctx, n, options.weights);
    if (pass.best == kNoId || s.BetterThan(pass.best_score)) {
      pass.best = n;
      pass.best_score = s;
    }
    if (options.explain_nodes) pass.verdicts.push_back({n, {}, s});
  }
  return pass;
}

// Names the largest node resource the VM exceeds outright, if any ("larger than any node").
std::string LargerThanAnyNode(const ClusterIndex& index, const Demand& d) {
  int64_t max_cpu = 0;
  int64_t max_mem = 0;
  int64_t max_ded = 0;
  int64_t max_pool = 0;
  for (const Node& n : index.nodes()) {
    max_cpu = std::max(max_cpu, n.cpu_millis);
    max_mem = std::max(max_mem, n.memory_bytes);
    max_ded = std::max(max_ded, n.dedicated_cpus);
    for (const HugepagePool& p : n.hugepages) {
      if (p.page_size_bytes == d.hugepage_size) max_pool = std::max(max_pool, p.total_bytes);
    }
  }
  if (d.cpu_millis > max_cpu) {
    return "needs " + FormatMillicores(d.cpu_millis) + " cpu; the largest node has " +
           FormatMillicores(max_cpu);
  }
  if (d.memory_bytes > max_mem) {
    return "needs " + FormatBytes(d.memory_bytes) + " memory; the largest node has " +
           FormatBytes(max_mem);
  }
  if (d.dedicated_cpus > max_ded) {
    return "needs " + std::to_string(d.dedicated_cpus) + " dedicated cpus; the largest pool has " +
           std::to_string(max_ded);
  }
  if (d.hugepage_size > 0 && d.hugepage_bytes > max_pool) {
    return "needs " + FormatBytes(d.hugepage_bytes) + " of " + FormatBytes(d.hugepage_size) +
           " hugepages; the largest pool has " + FormatBytes(max_pool);
  }
  return "";
}

std::string UnschedulableReason(const ClusterIndex& index, const VmContext& ctx, NodeId requested,
                                const Pass& pass) {
  const Vm& vm = index.vm(ctx.vm);
  // Strict affinity: the other members sit on this VM's node only, so it cannot go alone.
  if (ctx.enforce_group && ctx.source != kNoId &&
      index.group(ctx.group).policy == GroupPolicy::kAffinity && ctx.presence.counts.size() == 1 &&
      ctx.presence.main_node == ctx.source) {
    return "strict affinity: group " + index.group(ctx.group).name + " has " +
           std::to_string(ctx.presence.counts.front().second) + " other member(s) on " +
           index.node(ctx.source).name + " with vm " + vm.name +
           "; a member may not migrate alone, move the group as a unit (PlanGroupMove)";
  }
  if (requested != kNoId) {
    // Only the requested node was considered: its one rejection is the reason.
    for (int f = 1; f < kFilterCount; ++f) {
      if (pass.tally.count[static_cast<size_t>(f)] > 0) {
        return "requested node " + index.node(requested).name + ": " +
               DescribeRejection(index, ctx.vm, requested,
                                 pass.tally.example[static_cast<size_t>(f)]);
      }
    }
  }
  const std::string too_large = LargerThanAnyNode(index, ctx.demand);
  if (!too_large.empty()) return "vm " + vm.name + " is larger than any node: " + too_large;
  return "no node fits vm " + vm.name + ": " + DescribeTally(index, ctx.vm, pass.tally);
}

TargetDecision Unschedulable(TargetDecision d, std::string reason) {
  d.scheduled = false;
  d.reason = std::move(reason);
  return d;
}

}  // namespace

TargetDecision ChooseTargetWithUsage(const ClusterIndex& index, const UsageTable& usage, VmId vm,
                                     NodeId requested, const std::vector<char>* excluded,
                                     const PlacementOptions& options) {
  TargetDecision d;
  d.weights = options.weights;
  const Vm& spec = index.vm(vm);
  d.vm = spec.name;
  if (index.group_of(vm) == kMissingGroup) {
    return Unschedulable(std::move(d), "server group " + spec.server_group +
                                           " does not exist; vm " + spec.name +
                                           " cannot be placed until it does");
  }
  if (const NodeId to = usage.migrating_to[static_cast<size_t>(vm)]; to != kNoId) {
    return Unschedulable(std::move(d),
                         "vm " + spec.name + " is already migrating to " + index.node(to).name);
  }
  if (index.node_count() == 0) return Unschedulable(std::move(d), "no nodes in the cluster");

  VmContext ctx = MakeVmContext(index, usage, vm, DemandOf(spec), options.compliant_only);
  ctx.excluded = excluded;
  Pass pass = RunPass(index, usage, ctx, requested, options);
  std::string strict_reason;
  if (pass.best == kNoId && options.relax_pinning && (spec.numa_nodes > 0 || spec.dedicated_cpus)) {
    strict_reason = UnschedulableReason(index, ctx, requested, pass);
    // Drop NUMA first (cheaper to lose than pinning), then pinning too.
    Relaxation steps[2] = {{true, false}, {true, true}};
    for (const Relaxation& relax : steps) {
      if (relax.drop_dedicated && !spec.dedicated_cpus) break;
      if (!relax.drop_dedicated && spec.numa_nodes == 0) continue;
      ctx.demand = DemandOf(spec, relax);
      Pass relaxed = RunPass(index, usage, ctx, requested, options);
      if (relaxed.best != kNoId) {
        d.relaxation = relax;
        if (spec.numa_nodes > 0) d.relaxed.push_back("numa");
        if (relax.drop_dedicated) d.relaxed.push_back("dedicated cpus");
        pass = std::move(relaxed);
        break;
      }
    }
  }
  d.nodes_considered = pass.considered;
  d.feasible_nodes = pass.feasible;
  d.rejections = pass.tally;
  d.verdicts = std::move(pass.verdicts);
  if (pass.best == kNoId) {
    return Unschedulable(std::move(d), strict_reason.empty()
                                           ? UnschedulableReason(index, ctx, requested, pass)
                                           : strict_reason);
  }
  d.scheduled = true;
  d.node_id = pass.best;
  d.node = index.node(pass.best).name;
  d.score = pass.best_score;
  if (!pass.best_score.compliant) {
    // Describe the broken best-effort rule as the strict filter would have.
    ctx.enforce_group = true;
    const Rejection broken = CheckGroup(index, ctx, pass.best);
    d.compliant = false;
    d.compliance = "best-effort " + DescribeRejection(index, vm, pass.best, broken);
  }
  d.reason = d.node + " chosen (" + std::to_string(pass.feasible) + " of " +
             std::to_string(pass.considered) + " nodes fit, " +
             DescribeScore(d.score, options.weights) + ")";
  if (!d.relaxed.empty()) {
    std::string dropped;
    for (const std::string& r : d.relaxed) dropped += (dropped.empty() ? "" : ", ") + r;
    d.reason += "; relaxed pinning dropped " + dropped + " because: " + strict_reason;
  }
  if (!d.compliant) d.reason += "; non-compliant: " + d.compliance;
  return d;
}

TargetDecision ChooseTarget(const ClusterIndex& index, const PlacementRequest& request,
                            const PlacementOptions& options) {
  const VmId vm = index.FindVm(request.vm);
  if (vm == kNoId) {
    TargetDecision d;
    d.vm = request.vm;
    d.weights = options.weights;
    return Unschedulable(std::move(d), "vm " + request.vm + " is not in the snapshot");
  }
  NodeId requested = kNoId;
  if (!request.node.empty()) {
    requested = index.FindNode(request.node);
    if (requested == kNoId) {
      TargetDecision d;
      d.vm = request.vm;
      d.weights = options.weights;
      return Unschedulable(std::move(d), "requested node " + request.node + " does not exist");
    }
  }
  std::vector<char> excluded;
  if (!options.excluded_nodes.empty()) {
    excluded.assign(static_cast<size_t>(index.node_count()), 0);
    for (const std::string& name : options.excluded_nodes) {
      const NodeId n = index.FindNode(name);
      if (n != kNoId) excluded[static_cast<size_t>(n)] = 1;
    }
  }
  return ChooseTargetWithUsage(index, index.usage(), vm, requested,
                               excluded.empty() ? nullptr : &excluded, options);
}

StatusOr<TargetDecision> ChooseTarget(ClusterSnapshot snapshot, const PlacementRequest& request,
                                      const PlacementOptions& options) {
  StatusOr<ClusterIndex> index = ClusterIndex::Build(std::move(snapshot));
  if (!index.ok()) return index.status();
  return ChooseTarget(*index, request, options);
}

std::vector<std::string> ExplainNodes(const ClusterIndex& index, const TargetDecision& d) {
  std::vector<std::string> lines;
  const VmId vm = index.FindVm(d.vm);
  if (vm == kNoId) return lines;
  lines.reserve(d.verdicts.size());
  for (const NodeVerdict& v : d.verdicts) {
    std::string line = index.node(v.node).name + ": ";
    if (v.rejection.rejected()) {
      line += DescribeRejection(index, vm, v.node, v.rejection);
    } else {
      line += DescribeScore(v.score, d.weights);
      if (v.node == d.node_id) line += " (chosen)";
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace ferry::placement

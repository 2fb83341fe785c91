#include "placement/placement.h"

#include <span>
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

// One pass over the nodes in name order (or only the requested one): filter, score, keep
// the best. Ties go to the first name in sort order.
Pass RunPass(const ClusterView& view, const UsageTable& usage, const VmContext& ctx,
             NodeId requested, const PlacementOptions& options) {
  Pass pass;
  const std::span<const NodeId> nodes = requested == kNoId
                                            ? std::span<const NodeId>(view.node_ids())
                                            : std::span<const NodeId>(&requested, 1);
  if (options.explain_nodes) pass.verdicts.reserve(nodes.size());
  const Weights& w = options.weights;
  // Without verdicts, a node whose score cannot beat the best so far is not scored exactly:
  // its bound uses the least-loaded score it would have for a VM needing nothing. Only the
  // best matters then, and ties keep the earlier node, so the choice is the same.
  const bool prune = !options.explain_nodes && w.least_loaded >= 0 && w.least_pinned >= 0 &&
                     w.group >= 0 && w.inflight >= 0;
  // Raw pointers held in locals: nothing the loop calls can move them, so they stay in
  // registers instead of being reloaded from the containers for every node.
  const NodeFacts* const all_facts = view.node_id_limit() > 0 ? &view.facts(0) : nullptr;
  const NodeUse* const all_uses = usage.nodes.data();
  for (const NodeId n : nodes) {
    ++pass.considered;
    const NodeFacts& facts = all_facts[n];
    const NodeUse& use = all_uses[n];
    const Rejection r = CheckNode(view, usage, ctx, n, facts, use);
    if (r.rejected()) {
      pass.tally.Add(n, r);
      if (options.explain_nodes) pass.verdicts.push_back({n, r, {}});
      continue;
    }
    ++pass.feasible;
    if (prune && pass.best != kNoId) {
      int32_t group = static_cast<int32_t>(kMaxScore);
      bool compliant = true;
      if (ctx.group >= 0) {
        const int32_t here = ctx.presence.CountOn(n);
        group = GroupScoreHere(ctx, n, here);
        compliant = HonoursGroupHere(ctx, n, here);
      }
      if (compliant == pass.best_score.compliant) {
        const int64_t bound = int64_t{w.least_loaded} * use.load_bound +
                              int64_t{w.least_pinned} * use.pinned_score +
                              int64_t{w.group} * group + int64_t{w.inflight} * use.inflight_score;
        if (bound <= pass.best_score.total) continue;
      } else if (!compliant) {
        continue;  // a compliant node is already in hand
      }
    }
    const ScoreBreakdown s = ScoreNode(ctx, n, facts, use, w);
    if (pass.best == kNoId || s.BetterThan(pass.best_score)) {
      pass.best = n;
      pass.best_score = s;
    }
    if (options.explain_nodes) pass.verdicts.push_back({n, {}, s});
  }
  return pass;
}

// Names the largest node resource the VM exceeds outright, if any ("larger than any node").
std::string LargerThanAnyNode(const ClusterView& view, const Demand& d, Reason* code) {
  int64_t max_cpu = 0;
  int64_t max_mem = 0;
  int64_t max_ded = 0;
  int64_t max_pool = 0;
  for (const NodeId id : view.node_ids()) {
    const NodeFacts& f = view.facts(id);
    max_cpu = std::max(max_cpu, f.cpu_millis);
    max_mem = std::max(max_mem, f.memory_bytes);
    max_ded = std::max(max_ded, f.dedicated_cpus);
    if (d.hugepage_size > 0 && f.pools > 0) {
      for (const HugepagePool& p : view.node(id).hugepages) {
        if (p.page_size_bytes == d.hugepage_size) max_pool = std::max(max_pool, p.total_bytes);
      }
    }
  }
  if (d.cpu_millis > max_cpu) {
    *code = Reason::kCpu;
    return "needs " + FormatMillicores(d.cpu_millis) + " cpu; the largest node has " +
           FormatMillicores(max_cpu);
  }
  if (d.memory_bytes > max_mem) {
    *code = Reason::kMemory;
    return "needs " + FormatBytesUp(d.memory_bytes) + " memory; the largest node has " +
           FormatBytes(max_mem);
  }
  if (d.dedicated_cpus > max_ded) {
    *code = Reason::kDedicatedCpus;
    return "needs " + std::to_string(d.dedicated_cpus) + " dedicated cpus; the largest pool has " +
           std::to_string(max_ded);
  }
  if (d.hugepage_size > 0 && d.hugepage_bytes > max_pool) {
    *code = Reason::kHugepages;
    return "needs " + FormatBytesUp(d.hugepage_bytes) + " of " + FormatBytes(d.hugepage_size) +
           " hugepages; the largest pool has " + FormatBytes(max_pool);
  }
  return "";
}

// Why no node was found, as (code, sentence).
struct Refusal {
  Reason code = Reason::kNone;
  std::string text;
};

Refusal UnschedulableReason(const ClusterView& view, const VmContext& ctx, NodeId requested,
                            const Pass& pass) {
  const Vm& vm = view.vm(ctx.vm);
  // Strict affinity: the other members sit on this VM's node only, so it cannot go alone.
  if (ctx.enforce_group && ctx.source != kNoId && !view.group(ctx.group).best_effort &&
      view.group(ctx.group).policy == GroupPolicy::kAffinity && ctx.presence.counts.size() == 1 &&
      ctx.presence.main_node == ctx.source) {
    return {Reason::kMayNotMoveAlone,
            "strict affinity: group " + view.group(ctx.group).name + " has " +
                std::to_string(ctx.presence.counts.front().second) + " other member(s) on " +
                view.node(ctx.source).name + " with vm " + vm.name +
                "; a member may not migrate alone, move the group as a unit (PlanGroupMove)"};
  }
  if (requested != kNoId) {
    // Only the requested node was considered: its one rejection is the reason.
    const Reason r = pass.tally.Main();
    if (r != Reason::kNone) {
      return {r, "requested node " + view.node(requested).name + ": " +
                     DescribeRejection(view, ctx.vm, requested,
                                       pass.tally.example[static_cast<size_t>(r)])};
    }
  }
  Reason code = Reason::kNone;
  const std::string too_large = LargerThanAnyNode(view, ctx.demand, &code);
  if (!too_large.empty()) return {code, "vm " + vm.name + " is larger than any node: " + too_large};
  return {pass.tally.Main(),
          "no node fits vm " + vm.name + ": " + DescribeTally(view, ctx.vm, pass.tally)};
}

TargetDecision Unschedulable(TargetDecision d, Reason code, std::string reason) {
  d.scheduled = false;
  d.code = code;
  d.reason = std::move(reason);
  return d;
}

TargetDecision Unschedulable(TargetDecision d, Refusal refusal) {
  return Unschedulable(std::move(d), refusal.code, std::move(refusal.text));
}

}  // namespace

TargetDecision ChooseTargetWithUsage(const ClusterView& view, const UsageTable& usage, VmId vm,
                                     NodeId requested, const std::vector<char>* excluded,
                                     const PlacementOptions& options) {
  TargetDecision d;
  d.weights = options.weights;
  const Vm& spec = view.vm(vm);
  d.vm = spec.name;
  if (view.group_of(vm) == kMissingGroup) {
    return Unschedulable(std::move(d), Reason::kGroupNotFound,
                         "server group " + spec.server_group + " does not exist; vm " + spec.name +
                             " cannot be placed until it does");
  }
  if (const NodeId to = usage.migrating_to[static_cast<size_t>(vm)]; to != kNoId) {
    return Unschedulable(std::move(d), Reason::kAlreadyMigrating,
                         "vm " + spec.name + " is already migrating to " + view.node(to).name);
  }
  if (view.node_count() == 0) {
    return Unschedulable(std::move(d), Reason::kNoNodes, "no nodes in the cluster");
  }

  VmContext ctx = MakeVmContext(view, usage, vm, DemandOf(spec), options.compliant_only);
  ctx.excluded = excluded;
  Pass pass = RunPass(view, usage, ctx, requested, options);
  Refusal strict;
  if (pass.best == kNoId && options.relax_pinning && (spec.numa_nodes > 0 || spec.dedicated_cpus)) {
    strict = UnschedulableReason(view, ctx, requested, pass);
    // Drop NUMA first (cheaper to lose than pinning), then pinning too.
    const Relaxation steps[2] = {{true, false}, {true, true}};
    for (const Relaxation& relax : steps) {
      if (relax.drop_dedicated && !spec.dedicated_cpus) break;
      if (!relax.drop_dedicated && spec.numa_nodes == 0) continue;
      ctx.demand = DemandOf(spec, relax);
      ctx.numa = NumaEntryOf(ctx.demand);
      ctx.FinishStatic(view);
      Pass relaxed = RunPass(view, usage, ctx, requested, options);
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
    return Unschedulable(std::move(d), strict.code != Reason::kNone
                                           ? std::move(strict)
                                           : UnschedulableReason(view, ctx, requested, pass));
  }
  d.scheduled = true;
  d.node_id = pass.best;
  d.node = view.node(pass.best).name;
  d.score = pass.best_score;
  if (!pass.best_score.compliant) {
    // Describe the broken best-effort rule as the strict filter would have.
    ctx.enforce_group = true;
    const Rejection broken = CheckGroup(view, ctx, pass.best);
    d.compliant = false;
    d.compliance = "best-effort " + DescribeRejection(view, vm, pass.best, broken);
  }
  d.reason = d.node + " chosen (" + std::to_string(pass.feasible) + " of " +
             std::to_string(pass.considered) + " nodes fit, " +
             DescribeScore(d.score, options.weights) + ")";
  if (!d.relaxed.empty()) {
    std::string dropped;
    for (const std::string& r : d.relaxed) dropped += (dropped.empty() ? "" : ", ") + r;
    d.reason += "; relaxed pinning dropped " + dropped + " because: " + strict.text;
  }
  if (!d.compliant) d.reason += "; non-compliant: " + d.compliance;
  return d;
}

TargetDecision ChooseTarget(const ClusterView& view, const PlacementRequest& request,
                            const PlacementOptions& options) {
  const VmId vm = view.FindVm(request.vm);
  TargetDecision refused;
  refused.vm = request.vm;
  refused.weights = options.weights;
  if (vm == kNoId) {
    return Unschedulable(std::move(refused), Reason::kVmNotFound,
                         "vm " + request.vm + " is not in the view");
  }
  NodeId requested = kNoId;
  if (!request.node.empty()) {
    requested = view.FindNode(request.node);
    if (requested == kNoId) {
      return Unschedulable(std::move(refused), Reason::kNodeNotFound,
                           "requested node " + request.node + " does not exist");
    }
  }
  std::vector<char> excluded;
  if (!options.excluded_nodes.empty()) {
    excluded.assign(static_cast<size_t>(view.node_id_limit()), 0);
    for (const std::string& name : options.excluded_nodes) {
      const NodeId n = view.FindNode(name);
      if (n != kNoId) excluded[static_cast<size_t>(n)] = 1;
    }
  }
  return ChooseTargetWithUsage(view, view.usage(), vm, requested,
                               excluded.empty() ? nullptr : &excluded, options);
}

StatusOr<TargetDecision> ChooseTarget(ClusterSnapshot snapshot, const PlacementRequest& request,
                                      const PlacementOptions& options) {
  StatusOr<ClusterView> view = ClusterView::Build(std::move(snapshot));
  if (!view.ok()) return view.status();
  return ChooseTarget(*view, request, options);
}

std::vector<std::string> ExplainNodes(const ClusterView& view, const TargetDecision& d) {
  std::vector<std::string> lines;
  const VmId vm = view.FindVm(d.vm);
  if (vm == kNoId) return lines;
  lines.reserve(d.verdicts.size());
  for (const NodeVerdict& v : d.verdicts) {
    std::string line = view.node(v.node).name + ": ";
    if (v.rejection.rejected()) {
      line += DescribeRejection(view, vm, v.node, v.rejection);
    } else {
      line += DescribeScore(v.score, d.weights);
      if (v.node == d.node_id) line += " (chosen)";
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace ferry::placement

#include "placement/group_move.h"

#include <algorithm>
#include <span>
#include <utility>

#include "placement/explain.h"
#include "placement/filters.h"
#include "placement/format.h"

namespace ferry::placement {
namespace {

GroupMoveDecision Infeasible(GroupMoveDecision d, Reason code, std::string reason) {
  d.feasible = false;
  d.code = code;
  d.reason = std::move(reason);
  return d;
}

// The node as it would be with the group's movers on it.
ScoreBreakdown ScoreWithGroup(const NodeFacts& node, const Ledger& ledger, const NodeUse& use,
                              const Weights& w) {
  auto free_pct = [](int64_t total, double scale, int64_t used) -> int64_t {
    if (total <= 0) return 0;
    return Percent(std::clamp<int64_t>(total - used, 0, total), total, scale);
  };
  ScoreBreakdown s;
  s.least_loaded =
      static_cast<int16_t>((free_pct(node.cpu_millis, node.cpu_scale, ledger.cpu_millis) +
                            free_pct(node.memory_bytes, node.mem_scale, ledger.memory_bytes)) /
                           2);
  NodeUse after = use;
  after.dedicated_cpus = ledger.dedicated_cpus;
  RefreshNodeScores(after, node);
  s.least_pinned = after.pinned_score;
  s.group = 100;
  s.inflight = use.inflight_score;
  s.total = int64_t{w.least_loaded} * s.least_loaded + int64_t{w.least_pinned} * s.least_pinned +
            int64_t{w.group} * s.group + int64_t{w.inflight} * s.inflight;
  return s;
}

}  // namespace

GroupMoveDecision PlanGroupMoveWithUsage(const ClusterView& view, const UsageTable& usage,
                                         GroupId group, const std::vector<char>* excluded,
                                         const GroupMoveOptions& options) {
  GroupMoveDecision d;
  const ServerGroup& g = view.group(group);
  d.group = g.name;
  if (g.policy != GroupPolicy::kAffinity) {
    return Infeasible(
        std::move(d), Reason::kGroupMoveRefused,
        "group " + g.name + " is an anti-affinity group; its members move one by one");
  }
  const std::vector<VmId>& members = view.members(group);
  // Running members (those holding a node) move; the others are placed with the group when
  // they start. Members already migrating are a move under way: the rest follow them.
  std::vector<VmId> running;
  NodeId under_way = kNoId;
  int64_t total_mem = 0;
  int64_t total_cpu = 0;
  const NodeId leaving = options.leaving.empty() ? kNoId : view.FindNode(options.leaving);
  for (VmId m : members) {
    if (view.location(m) == kNoId) continue;
    running.push_back(m);
    total_mem += view.vm(m).memory_bytes;
    total_cpu += view.vm(m).cpu_millis;
    NodeId to = usage.migrating_to[static_cast<size_t>(m)];
    // Already moved: a member off the node the group leaves went first; the rest follow.
    if (to == kNoId && leaving != kNoId && view.location(m) != leaving) to = view.location(m);
    if (to == kNoId) continue;
    if (under_way != kNoId && under_way != to) {
      return Infeasible(std::move(d), Reason::kAlreadyMigrating,
                        "members of group " + g.name + " are migrating to different nodes (" +
                            view.node(under_way).name + ", " + view.node(to).name +
                            "); let them finish or cancel them, then plan again");
    }
    under_way = to;
  }
  if (running.empty()) {
    return Infeasible(std::move(d), Reason::kNoRunningMember,
                      "no member of group " + g.name +
                          " is running; nothing to move (members start where the group is)");
  }
  const std::string group_needs = "group needs " + FormatMillicores(total_cpu) + " cpu, " +
                                  FormatBytesUp(total_mem) + " memory in all";
  std::vector<VmContext> contexts;  // per running member, computed once
  contexts.reserve(running.size());
  for (VmId m : running) {
    contexts.push_back(MakeVmContext(view, usage, m, DemandOf(view.vm(m)), false));
    contexts.back().enforce_group = false;  // the whole group lands together
  }
  RejectionTally tally;  // example per filter for the summary
  std::vector<VmId> tally_vm(kNodeReasonCount, kNoId);
  int32_t feasible = 0;
  const std::span<const NodeId> candidates = under_way == kNoId
                                                 ? std::span<const NodeId>(view.node_ids())
                                                 : std::span<const NodeId>(&under_way, 1);
  for (const NodeId n : candidates) {
    const Node& node = view.node(n);
    std::string why;
    Rejection refused;
    VmId refused_vm = kNoId;
    if (excluded != nullptr && (*excluded)[static_cast<size_t>(n)] != 0) {
      refused = {Reason::kExcluded};
      why = "excluded: node is being drained or was excluded by the caller";
    }
    Ledger ledger = LedgerOf(view, usage, n);
    int movers = 0;
    for (size_t i = 0; why.empty() && i < running.size(); ++i) {
      const VmId m = running[i];
      // Already there, or on its way there (its reservation is in the usage).
      if (view.location(m) == n || usage.migrating_to[static_cast<size_t>(m)] == n) continue;
      ++movers;
      const VmContext& ctx = contexts[i];
      Rejection r = CheckStatic(view, ctx, n);
      if (!r.rejected()) r = CheckCapacity(view, n, ledger, ctx.demand);
      if (r.rejected()) {
        refused = r;
        refused_vm = m;
        why = "vm " + view.vm(m).name + ": " + DescribeRejection(view, m, n, r);
        if (IsCapacityReason(r.reason)) why += " (" + group_needs + ")";
        break;
      }
      ledger.Add(view, n, ctx.demand);
    }
    if (why.empty() && movers == 0) {
      refused = {Reason::kCurrentNode};
      why = "current node: the whole group is already here";
    }
    if (!why.empty()) {
      if (refused_vm != kNoId) {  // a member's refusal (not excluded, not already here)
        const auto f = static_cast<size_t>(refused.reason);
        if (tally.count[f] == 0) tally_vm[f] = refused_vm;
        tally.Add(n, refused);
      }
      if (options.explain_nodes) d.node_lines.push_back(node.name + ": " + why);
      continue;
    }
    ++feasible;
    const ScoreBreakdown s =
        ScoreWithGroup(view.facts(n), ledger, usage.nodes[static_cast<size_t>(n)], options.weights);
    if (options.explain_nodes)
      d.node_lines.push_back(node.name + ": " + DescribeScore(s, options.weights));
    if (d.node_id == kNoId || s.total > d.score.total) {
      d.node_id = n;
      d.score = s;
    }
  }
  if (d.node_id == kNoId) {
    std::string summary;
    for (int f = 1; f < kNodeReasonCount; ++f) {
      const auto i = static_cast<size_t>(f);
      if (tally.count[i] == 0) continue;
      summary += (summary.empty() ? "" : "; ") + std::to_string(tally.count[i]) + " node(s) " +
                 ReasonLabel(static_cast<Reason>(f));
      summary += " (" + view.node(tally.example_node[i]).name + ", vm " +
                 view.vm(tally_vm[i]).name + ": " +
                 DescribeRejection(view, tally_vm[i], tally.example_node[i], tally.example[i]) +
                 ")";
    }
    const std::string where = under_way == kNoId
                                  ? "no node fits all " + std::to_string(running.size()) +
                                        " running members of group " + g.name
                                  : "the members of group " + g.name +
                                        " still on their node cannot follow " +
                                        "the move under way to " + view.node(under_way).name;
    return Infeasible(std::move(d), Reason::kGroupMoveRefused,
                      where + " (" + group_needs + ")" + (summary.empty() ? "" : ": " + summary));
  }
  d.feasible = true;
  d.node = view.node(d.node_id).name;
  for (VmId m : running) {
    if (view.location(m) != d.node_id && usage.migrating_to[static_cast<size_t>(m)] == kNoId) {
      d.moves.push_back(view.vm(m).name);
    }
  }
  d.reason = "group " + g.name + (under_way == kNoId ? " moves to " : " follows its move to ") +
             d.node + " (" + std::to_string(d.moves.size()) + " member(s) migrate; " +
             std::to_string(feasible) + " node(s) fit the group; " +
             DescribeScore(d.score, options.weights) + ")";
  return d;
}

GroupMoveDecision PlanGroupMove(const ClusterView& view, std::string_view group,
                                const GroupMoveOptions& options) {
  const GroupId g = view.FindGroup(group);
  if (g == kNoId) {
    GroupMoveDecision d;
    d.group = std::string(group);
    std::string reason = "server group " + d.group + " does not exist";
    return Infeasible(std::move(d), Reason::kGroupNotFound, std::move(reason));
  }
  std::vector<char> excluded;
  if (!options.excluded_nodes.empty()) {
    excluded.assign(static_cast<size_t>(view.node_id_limit()), 0);
    for (const std::string& name : options.excluded_nodes) {
      if (const NodeId n = view.FindNode(name); n != kNoId) excluded[static_cast<size_t>(n)] = 1;
    }
  }
  return PlanGroupMoveWithUsage(view, view.usage(), g, excluded.empty() ? nullptr : &excluded,
                                options);
}

}  // namespace ferry::placement

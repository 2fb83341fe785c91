#include "placement/rebalance.h"

#include <utility>

#include "placement/filters.h"

namespace ferry::placement {
namespace {

struct Violator {
  VmId vm;
  NodeId target;  // required target (affinity: the group's node), kNoId = any compliant
  std::string violation;
};

// Violators of one best-effort group against `usage`.
std::vector<Violator> FindViolators(const ClusterIndex& index, const UsageTable& usage, GroupId g) {
  std::vector<Violator> out;
  const ServerGroup& group = index.group(g);
  const GroupPresence all = ComputePresence(index, usage, g, kNoId);
  if (group.policy == GroupPolicy::kAntiAffinity) {
    for (const auto& [node, count] : all.counts) {
      if (count <= group.max_per_node) continue;
      int kept = 0;
      for (VmId m : index.members(g)) {  // name order: the first maxPerNode stay
        const bool here =
            index.location(m) == node || usage.migrating_to[static_cast<size_t>(m)] == node;
        if (!here) continue;
        if (kept < group.max_per_node || usage.migrating_to[static_cast<size_t>(m)] != kNoId ||
            index.location(m) != node) {
          ++kept;
          continue;
        }
        out.push_back({m, kNoId,
                       "best-effort anti-affinity: group " + group.name + " has " +
                           std::to_string(count) + " members on " + index.node(node).name +
                           " (maxPerNode " + std::to_string(group.max_per_node) + ")"});
      }
    }
  } else if (all.main_node != kNoId) {
    for (VmId m : index.members(g)) {
      const NodeId loc = index.location(m);
      if (loc == kNoId || loc == all.main_node) continue;
      if (usage.migrating_to[static_cast<size_t>(m)] != kNoId) continue;
      out.push_back({m, all.main_node,
                     "best-effort affinity: group " + group.name + " is on " +
                         index.node(all.main_node).name + ", vm is on " + index.node(loc).name});
    }
  }
  return out;
}

}  // namespace

RebalancePlan PlanRebalance(const ClusterIndex& index, const RebalanceOptions& options) {
  RebalancePlan plan;
  UsageTable usage = index.usage();
  PlacementOptions placement = options.placement;
  placement.explain_nodes = false;
  placement.compliant_only = true;
  placement.excluded_nodes.clear();
  for (GroupId g = 0; g < static_cast<GroupId>(index.groups().size()); ++g) {
    if (!index.group(g).best_effort) continue;
    // Violators are computed per group before its moves; a move counts on both its source
    // and its target until it ends, so later members of the group see it.
    for (Violator& v : FindViolators(index, usage, g)) {
      if (options.max_moves > 0 && static_cast<int>(plan.moves.size()) >= options.max_moves) {
        return plan;
      }
      TargetDecision d = ChooseTargetWithUsage(index, usage, v.vm, v.target, nullptr, placement);
      if (!d.scheduled) {
        plan.still_violating.push_back({index.vm(v.vm).name, index.group(g).name,
                                        std::move(v.violation), std::move(d.reason)});
        continue;
      }
      index.StartMigration(usage, v.vm, d.node_id);
      plan.moves.push_back({index.vm(v.vm).name, index.group(g).name,
                            index.node(index.location(v.vm)).name, d.node, std::move(v.violation),
                            std::move(d.reason)});
    }
  }
  return plan;
}

}  // namespace ferry::placement

#include "placement/rebalance.h"

#include <utility>

#include "placement/group_status.h"

namespace ferry::placement {

RebalancePlan PlanRebalance(const ClusterView& view, const RebalanceOptions& options) {
  RebalancePlan plan;
  UsageTable usage = view.usage();
  PlacementOptions placement = options.placement;
  placement.explain_nodes = false;
  placement.compliant_only = true;
  placement.excluded_nodes.clear();
  for (GroupId g : view.group_ids()) {
    if (!view.group(g).best_effort) continue;
    // Violators are computed per group before its moves; a move counts on both its source
    // and its target until it ends, so later members of the group see it.
    for (Violation& v : FindViolations(view, usage, g)) {
      if (options.max_moves > 0 && static_cast<int>(plan.moves.size()) >= options.max_moves) {
        return plan;
      }
      TargetDecision d = ChooseTargetWithUsage(view, usage, v.vm, v.target, nullptr, placement);
      if (!d.scheduled) {
        plan.still_violating.push_back({view.vm(v.vm).name, view.group(g).name, std::move(v.text),
                                        d.code, std::move(d.reason)});
        continue;
      }
      view.StartMigration(usage, v.vm, d.node_id);
      plan.moves.push_back({view.vm(v.vm).name, view.group(g).name,
                            view.node(view.location(v.vm)).name, d.node, std::move(v.text),
                            std::move(d.reason)});
    }
  }
  return plan;
}

Status ApplyMove(ClusterView& view, const RebalanceMove& move, std::string_view migration) {
  InFlightMigration m;
  m.vm = move.vm;
  m.source_node = move.from;
  m.target_node = move.to;
  m.name = std::string(migration);
  return view.UpsertMigration(m);
}

}  // namespace ferry::placement

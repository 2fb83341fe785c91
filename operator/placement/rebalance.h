// Rebalance: best-effort group members placed against their group's rule (marked
// non-compliant when placed) that now have a compliant node, and where to move them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "placement/cluster_view.h"
#include "placement/placement.h"
#include "placement/reasons.h"

namespace ferry::placement {

struct RebalanceOptions {
  PlacementOptions placement;  // weights; explain_nodes is ignored (off)
  int max_moves = 0;           // 0 = no limit
};

struct RebalanceMove {
  std::string vm;
  std::string group;
  std::string from;
  std::string to;
  std::string violation;  // the rule the VM breaks where it is
  std::string note;       // the decision's one-line reason
};

struct StillViolating {
  std::string vm;
  std::string group;
  std::string violation;
  Reason code = Reason::kNone;  // why no compliant node exists now (as TargetDecision::code)
  std::string reason;
};

struct RebalancePlan {
  std::vector<RebalanceMove> moves;  // in the order to run them; earlier moves counted
  std::vector<StillViolating> still_violating;
};

// Violators, in group-name then VM-name order:
//  * best-effort anti-affinity: on a node where more than maxPerNode members stay (members
//    migrating there count, members leaving it do not), the staying members beyond the
//    first maxPerNode (arriving members first, then by name);
//  * best-effort affinity: members not on the group's main node (ADR 5).
// Members already migrating are left alone. Each violator gets a compliant target (the
// group's main node for affinity) or is listed in still_violating with the reason.
RebalancePlan PlanRebalance(const ClusterView& view, const RebalanceOptions& options = {});

// Applies a move to the view as the migration `migration`: one UpsertMigration.
Status ApplyMove(ClusterView& view, const RebalanceMove& move, std::string_view migration);

}  // namespace ferry::placement

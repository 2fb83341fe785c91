// Rebalance: best-effort group members placed against their group's rule (marked
// non-compliant when placed) that now have a compliant node, and where to move them.
#pragma once

#include <string>
#include <vector>

#include "placement/cluster_index.h"
#include "placement/placement.h"

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
  std::string reason;  // why no compliant node exists now
};

struct RebalancePlan {
  std::vector<RebalanceMove> moves;  // in the order to run them; earlier moves counted
  std::vector<StillViolating> still_violating;
};

// Violators, in group-name then VM-name order:
//  * best-effort anti-affinity: on a node holding more than maxPerNode members (counting
//    migrations to or from it), the members beyond the first maxPerNode by name;
//  * best-effort affinity: members not on the group's node (the one with most members).
// Members already migrating are left alone. Each violator gets a compliant target (the
// group's node for affinity) or is listed in still_violating with the reason.
RebalancePlan PlanRebalance(const ClusterIndex& index, const RebalanceOptions& options = {});

}  // namespace ferry::placement

// Group move: a strict-affinity group may not migrate member by member, so it moves as a
// unit to one node that fits all its members together, or the decision says why none does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "placement/cluster_index.h"
#include "placement/scoring.h"

namespace ferry::placement {

struct GroupMoveOptions {
  Weights weights;
  bool explain_nodes = true;
  std::vector<std::string> excluded_nodes;
};

struct GroupMoveDecision {
  std::string group;
  bool feasible = false;
  std::string node;  // target when feasible
  NodeId node_id = kNoId;
  ScoreBreakdown score;
  std::vector<std::string> moves;  // members that migrate, in name order
  std::string reason;              // why not, or a summary of the choice
  // One line per node: "node-4: vm db-2: memory: needs 8Gi, free 4Gi (group needs 24Gi)".
  std::vector<std::string> node_lines;
};

// Never fails: an unknown group, an anti-affinity group, a member already migrating or no
// node that fits all members is a decision with feasible == false and the reason.
GroupMoveDecision PlanGroupMove(const ClusterIndex& index, std::string_view group,
                                const GroupMoveOptions& options = {});

// Same against a plan's usage with nodes excluded by id (drain uses it).
GroupMoveDecision PlanGroupMoveWithUsage(const ClusterIndex& index, const UsageTable& usage,
                                         GroupId group, const std::vector<char>* excluded,
                                         const GroupMoveOptions& options);

}  // namespace ferry::placement

// Group move: a strict-affinity group may not migrate member by member, so it moves as a
// unit to one node that fits all its running members together, or the decision says why
// none does. A move already under way (some members migrating, all to one node) is
// completed: the remaining members follow to that node.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "placement/cluster_view.h"
#include "placement/reasons.h"
#include "placement/scoring.h"

namespace ferry::placement {

struct GroupMoveOptions {
  Weights weights;
  bool explain_nodes = true;
  std::vector<std::string> excluded_nodes;
  // The node the group leaves (the source of the member being scheduled), when known. A
  // member already on another node went first (its migration ended): the move is under way
  // to that node and the rest follow it there, never elsewhere (docs/adr/0006 §7). Members
  // on two other nodes: not feasible (kAlreadyMigrating).
  std::string leaving;
};

struct GroupMoveDecision {
  std::string group;
  bool feasible = false;
  std::string node;  // target when feasible
  NodeId node_id = kNoId;
  ScoreBreakdown score;
  std::vector<std::string> moves;  // members that migrate, in name order
  std::string reason;              // why not, or a summary of the choice
  // Not feasible: kGroupMoveRefused (no node fits all members, or an anti-affinity group;
  // the text says which member and node), kNoRunningMember, kAlreadyMigrating (members are
  // migrating to different nodes), kGroupNotFound. kNone when feasible.
  Reason code = Reason::kNone;
  // One line per node: "node-4: vm db-2: memory: needs 8Gi, free 4Gi (group needs 24Gi)".
  std::vector<std::string> node_lines;
};

// Never fails: an unknown group, an anti-affinity group, a group with no running member, or
// no node that fits all members is a decision with feasible == false, a code and the reason.
GroupMoveDecision PlanGroupMove(const ClusterView& view, std::string_view group,
                                const GroupMoveOptions& options = {});

// Same against a plan's usage with nodes excluded by id (drain uses it).
GroupMoveDecision PlanGroupMoveWithUsage(const ClusterView& view, const UsageTable& usage,
                                         GroupId group, const std::vector<char>* excluded,
                                         const GroupMoveOptions& options);

}  // namespace ferry::placement

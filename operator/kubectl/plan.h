// `kubectl ferry plan-drain` and `explain`: what the operator would decide now, computed with
// its own ClusterState (cluster_load.h), as a model (JSON) and as a table.
#pragma once

#include <string>

#include "cluster/cluster_state.h"
#include "cluster_load.h"
#include "output.h"

namespace ferry::kubectl {

// The drain plan of `node`, as the evacuation controller computes it: every VM on the node in
// the order it would move, its target (or shutdown), and what blocks the rest and why.
//   {"node", "cordoned", "allowGroupMoves", "complete",
//    "steps": [{"order", "vm", "running", "action", "target", "groupMove", "compliant",
//               "relaxed", "note"}],
//    "blockers": [{"vm", "code", "reason"}]}
// A VM that does not run is listed with running=false: the drain leaves it where it is.
StatusOr<Json> DrainPlanModel(op::ClusterState& state, const ClusterObjects& objects,
                              const std::string& node);
std::string DrainPlanTable(const Json& model);

// Every node's verdict for VM `ns/name` (a migration when the VM has a node, else its first
// placement), optionally for moving it to `to`, as the migration controller decides:
//   {"vm", "node", "requested", "decision": Scheduled|Unschedulable|TargetRejected, "target",
//    "summary", "candidates": [{"node", "verdict", "score", "reason"}]}
StatusOr<Json> ExplainModel(op::ClusterState& state, const ClusterObjects& objects,
                            const std::string& ns, const std::string& name, const std::string& to);
std::string ExplainTable(const Json& model);

}  // namespace ferry::kubectl

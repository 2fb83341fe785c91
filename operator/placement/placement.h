// The placement engine's entry points. Pure: a ClusterView (cluster_view.h, kept current
// from events, or built from a ClusterSnapshot) and a request in, a decision with its
// explanation and reason code out; equal state gives equal output.
//
//   TargetDecision d = ChooseTarget(view, {"ns/web-1", ""});
//   ReasonName(d.code);                                  // "Memory", ... when unschedulable
//   for (auto& line : ExplainNodes(view, d)) ...         // one line per node
//
// Drain, group move and rebalance plans live in drain.h, group_move.h and rebalance.h.
#pragma once

#include <string>
#include <vector>

#include "placement/cluster_view.h"
#include "placement/explain.h"
#include "placement/filters.h"
#include "placement/scoring.h"

namespace ferry::placement {

struct PlacementRequest {
  std::string vm;    // a VM of the snapshot; placed = migration, unplaced = first start
  std::string node;  // requested target; "" = the engine chooses
};

struct PlacementOptions {
  Weights weights;
  // One NodeVerdict per node in the decision. Off, a decision still carries the counts
  // per filter and an example of each, which is what the summary line needs.
  bool explain_nodes = true;
  // oVirt's second phase: when no node fits a pinned or NUMA VM, drop the NUMA shape, then
  // the pinning, and report what was dropped. Only when asked.
  bool relax_pinning = false;
  // Treat a best-effort group rule as strict: only compliant nodes (used by rebalance).
  bool compliant_only = false;
  std::vector<std::string> excluded_nodes;
};

struct NodeVerdict {
  NodeId node = kNoId;
  Rejection rejection;  // filter == kNone: the node passed and `score` is set
  ScoreBreakdown score;
};

struct TargetDecision {
  std::string vm;
  bool scheduled = false;
  std::string node;  // chosen node when scheduled
  NodeId node_id = kNoId;
  ScoreBreakdown score;
  // A best-effort group rule the chosen node breaks (marked so rebalance can fix it later).
  bool compliant = true;
  std::string compliance;
  // Constraints dropped by relaxed pinning, e.g. "numa", "dedicated cpus".
  Relaxation relaxation;
  std::vector<std::string> relaxed;
  // Unschedulable: why, in one line, with numbers. Scheduled: a one-line summary.
  std::string reason;
  // Unschedulable: the reason code (reasons.h). A per-node code means the nodes that came
  // closest to fitting were refused for it (RejectionTally::Main). kNone when scheduled.
  Reason code = Reason::kNone;
  int32_t nodes_considered = 0;
  int32_t feasible_nodes = 0;
  RejectionTally rejections;  // nodes rejected per filter, with the first of each
  Weights weights;
  std::vector<NodeVerdict> verdicts;  // when explain_nodes, in node-name order; ids valid
                                      // until the view's next update
};

// Chooses a target for one VM: a new VM (no current node) or a migration. Never fails:
// every problem (unknown VM, missing group, zero nodes, VM larger than every node) is an
// unschedulable decision whose reason says so.
TargetDecision ChooseTarget(const ClusterView& view, const PlacementRequest& request,
                            const PlacementOptions& options = {});

// Same against a plan's usage (earlier planned moves counted) with nodes excluded by id.
TargetDecision ChooseTargetWithUsage(const ClusterView& view, const UsageTable& usage, VmId vm,
                                     NodeId requested, const std::vector<char>* excluded,
                                     const PlacementOptions& options);

// Convenience for callers holding only a snapshot: builds a view first (fails on an invalid
// snapshot, e.g. duplicate names).
StatusOr<TargetDecision> ChooseTarget(ClusterSnapshot snapshot, const PlacementRequest& request,
                                      const PlacementOptions& options = {});

// "node-3: memory: needs 4Gi, free 2Gi" or "node-4: score 580 = ..." for every verdict.
std::vector<std::string> ExplainNodes(const ClusterView& view, const TargetDecision& d);

}  // namespace ferry::placement

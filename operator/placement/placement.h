// The placement engine's entry points. Pure: a ClusterIndex (built from a ClusterSnapshot)
// and a request in, a decision with its explanation out; equal input gives equal output.
//
//   auto index = ClusterIndex::Build(snapshot);          // once per snapshot
//   TargetDecision d = ChooseTarget(*index, {.vm = "ns/web-1"});
//   for (auto& line : ExplainNodes(*index, d)) ...       // one line per node
//
// Drain, group move and rebalance plans live in drain.h, group_move.h and rebalance.h.
#pragma once

#include <string>
#include <vector>

#include "placement/cluster_index.h"
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
  int32_t nodes_considered = 0;
  int32_t feasible_nodes = 0;
  RejectionTally rejections;  // nodes rejected per filter, with the first of each
  Weights weights;
  std::vector<NodeVerdict> verdicts;  // when explain_nodes, in node-name order
};

// Chooses a target for one VM: a new VM (no current node) or a migration. Never fails:
// every problem (unknown VM, missing group, zero nodes, VM larger than every node) is an
// unschedulable decision whose reason says so.
TargetDecision ChooseTarget(const ClusterIndex& index, const PlacementRequest& request,
                            const PlacementOptions& options = {});

// Same against a plan's usage (earlier planned moves counted) with nodes excluded by id.
TargetDecision ChooseTargetWithUsage(const ClusterIndex& index, const UsageTable& usage, VmId vm,
                                     NodeId requested, const std::vector<char>* excluded,
                                     const PlacementOptions& options);

// Convenience for callers holding only a snapshot: indexes it first (fails on an invalid
// snapshot, e.g. duplicate names).
StatusOr<TargetDecision> ChooseTarget(ClusterSnapshot snapshot, const PlacementRequest& request,
                                      const PlacementOptions& options = {});

// "node-3: memory: needs 4Gi, free 2Gi" or "node-4: score 580 = ..." for every verdict.
std::vector<std::string> ExplainNodes(const ClusterIndex& index, const TargetDecision& d);

}  // namespace ferry::placement

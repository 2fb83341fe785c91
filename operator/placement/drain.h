// Drain plan: every VM on a node, where it goes and in what order, or what blocks it.
// Each planned move is recorded as an in-flight migration in a working copy of the usage,
// so later steps see the capacity and group presence earlier steps took: two VMs are
// never planned onto room for one, and two anti-affinity members never onto one node.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "placement/cluster_index.h"
#include "placement/placement.h"

namespace ferry::placement {

struct DrainOptions {
  // Weights, relax_pinning, excluded_nodes (never targets, e.g. nodes about to be drained
  // next); explain_nodes is ignored (off).
  PlacementOptions placement;
  // Move strict-affinity groups as a unit (all members to one node). Off: such a group on
  // the node blocks the drain (the operator sets NodeLockBlocked on the group).
  bool allow_group_moves = false;
};

enum class DrainAction {
  kMigrate,         // live-migrate to `target`
  kShutdown,        // evictionStrategy Shutdown, or LiveMigrateIfPossible with no target
  kAlreadyLeaving,  // an in-flight migration already takes it off the node
};

struct DrainStep {
  std::string vm;
  DrainAction action = DrainAction::kMigrate;
  std::string target;      // kMigrate / kAlreadyLeaving
  std::string group_move;  // set when the step is part of moving this strict-affinity group
  bool compliant = true;   // false: the target breaks a best-effort group rule
  std::vector<std::string> relaxed;  // constraints dropped by relaxed pinning
  std::string note;                  // the decision's one-line reason
};

enum class BlockerKind {
  kStrictAffinity,    // a strict-affinity member; only a group move can take it off
  kEvictionNone,      // evictionStrategy: None
  kNoCapacity,        // no node has room (or passes the other filters)
  kNoCompliantNode,   // nodes have room but every one breaks a strict group rule
  kInvalid,           // e.g. the VM names a missing server group
  kInboundMigration,  // a migration is on its way *to* the node being drained
};
const char* BlockerKindName(BlockerKind kind);

struct DrainBlocker {
  std::string vm;
  BlockerKind kind = BlockerKind::kNoCapacity;
  std::string reason;
};

struct DrainPlan {
  std::string node;
  std::vector<DrainStep> steps;  // in the order to run them
  std::vector<DrainBlocker> blockers;
  bool complete() const { return blockers.empty(); }
};

// Plans the drain of `node`. Fails only when the node is not in the snapshot (kNotFound).
// Order: strict-affinity groups (as units) first, then the VMs hardest to place (strict
// anti-affinity members, pinned, NUMA, hugepages), then by memory, largest first, then by
// name, so scarce spots go to the VMs that need them.
StatusOr<DrainPlan> PlanDrain(const ClusterIndex& index, std::string_view node,
                              const DrainOptions& options = {});

}  // namespace ferry::placement

// Drain plan: every VM on a node, where it goes and in what order, or what blocks it.
// Each planned move is recorded as an in-flight migration in a working copy of the usage,
// so later steps see the capacity and group presence earlier steps took: two VMs are
// never planned onto room for one, and two anti-affinity members never onto one node. The
// copy evolves exactly as the view does when the steps are applied (ApplyStep).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "placement/cluster_view.h"
#include "placement/placement.h"
#include "placement/reasons.h"

namespace ferry::placement {

struct DrainOptions {
  // Weights, relax_pinning, excluded_nodes (never targets, e.g. nodes about to be drained
  // next); explain_nodes is ignored (off).
  PlacementOptions placement;
  // Move strict-affinity groups as a unit (all running members to one node). Off: such a
  // group on the node blocks the drain (the operator sets NodeLockBlocked on the group).
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
  // kShutdown of a LiveMigrateIfPossible VM: why no target was found. Otherwise kNone.
  Reason why = Reason::kNone;
};

// What keeps one VM on the node. `code` says which rule (reasons.h): a per-node code (the
// filter that refused the nodes that came closest, e.g. Memory or AntiAffinity),
// MayNotMoveAlone, GroupMoveRefused, AlreadyMigrating, EvictionStrategyNone,
// GroupNotFound or InboundMigration.
struct DrainBlocker {
  std::string vm;
  Reason code = Reason::kNone;
  std::string reason;
};

struct DrainPlan {
  std::string node;
  std::vector<DrainStep> steps;  // in the order to run them
  std::vector<DrainBlocker> blockers;
  bool complete() const { return blockers.empty(); }
};

// Plans the drain of `node`. Fails only when the node is not in the view (kNotFound).
// Order: strict-affinity groups (as units) first, then the VMs hardest to place (strict
// anti-affinity members, pinned, NUMA, hugepages), then by memory, largest first, then by
// name, so scarce spots go to the VMs that need them. A strict-affinity group with a single
// running member is not a unit: that member moves alone (ADR 5).
StatusOr<DrainPlan> PlanDrain(const ClusterView& view, std::string_view node,
                              const DrainOptions& options = {});

// Applies a kMigrate step to the view as the migration `migration` (the name the caller
// gives its VirtualMachineMigration): one UpsertMigration, so the informer's event for that
// migration is then a no-op. Other actions change nothing (a shutdown arrives as the VM's
// own update).
Status ApplyStep(ClusterView& view, const DrainStep& step, std::string_view migration);

}  // namespace ferry::placement

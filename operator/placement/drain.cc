#include "placement/drain.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "placement/group_move.h"

namespace ferry::placement {
namespace {

bool IsStrict(const ClusterIndex& index, GroupId g, GroupPolicy policy) {
  return g >= 0 && index.group(g).policy == policy && !index.group(g).best_effort;
}

// Lower sorts first: the VMs with the fewest possible targets take their spots first.
auto DifficultyKey(const ClusterIndex& index, VmId v) {
  const Vm& vm = index.vm(v);
  const bool strict_anti = IsStrict(index, index.group_of(v), GroupPolicy::kAntiAffinity);
  const bool special = vm.dedicated_cpus || vm.numa_nodes > 0 || vm.hugepage_size_bytes > 0;
  return std::make_tuple(strict_anti ? 0 : 1, special ? 0 : 1, -vm.memory_bytes, v);
}

BlockerKind Classify(const TargetDecision& d) {
  const auto& c = d.rejections.count;
  if (c[static_cast<size_t>(Filter::kAffinity)] + c[static_cast<size_t>(Filter::kAntiAffinity)] >
      0) {
    return BlockerKind::kNoCompliantNode;
  }
  return BlockerKind::kNoCapacity;
}

}  // namespace

const char* BlockerKindName(BlockerKind kind) {
  switch (kind) {
    case BlockerKind::kStrictAffinity:
      return "StrictAffinity";
    case BlockerKind::kEvictionNone:
      return "EvictionStrategyNone";
    case BlockerKind::kNoCapacity:
      return "NoCapacity";
    case BlockerKind::kNoCompliantNode:
      return "NoCompliantNode";
    case BlockerKind::kInvalid:
      return "Invalid";
    case BlockerKind::kInboundMigration:
      return "InboundMigration";
  }
  return "Unknown";
}

StatusOr<DrainPlan> PlanDrain(const ClusterIndex& index, std::string_view node,
                              const DrainOptions& options) {
  const NodeId drained = index.FindNode(node);
  if (drained == kNoId)
    return NotFoundError("node " + std::string(node) + " is not in the snapshot");
  DrainPlan plan;
  plan.node = std::string(node);
  UsageTable usage = index.usage();  // planned moves are recorded here
  std::vector<char> excluded(static_cast<size_t>(index.node_count()), 0);
  excluded[static_cast<size_t>(drained)] = 1;
  for (const std::string& name : options.placement.excluded_nodes) {
    if (const NodeId n = index.FindNode(name); n != kNoId) excluded[static_cast<size_t>(n)] = 1;
  }
  PlacementOptions placement = options.placement;
  placement.explain_nodes = false;
  placement.excluded_nodes.clear();

  for (VmId v = 0; v < index.vm_count(); ++v) {
    if (usage.migrating_to[static_cast<size_t>(v)] == drained) {
      plan.blockers.push_back({index.vm(v).name, BlockerKind::kInboundMigration,
                               "vm " + index.vm(v).name + " is migrating to " + plan.node +
                                   "; cancel it or let it finish, then plan again"});
    }
  }

  std::vector<VmId> singles;
  std::vector<GroupId> group_moves;
  for (VmId v : index.vms_on(drained)) {
    const Vm& vm = index.vm(v);
    const GroupId g = index.group_of(v);
    if (const NodeId to = usage.migrating_to[static_cast<size_t>(v)]; to != kNoId) {
      plan.steps.push_back({vm.name,
                            DrainAction::kAlreadyLeaving,
                            index.node(to).name,
                            "",
                            true,
                            {},
                            "already migrating to " + index.node(to).name});
      continue;
    }
    if (vm.eviction_strategy == EvictionStrategy::kNone) {
      plan.blockers.push_back({vm.name, BlockerKind::kEvictionNone,
                               "vm " + vm.name +
                                   " has evictionStrategy None; stop or move it "
                                   "by hand"});
      continue;
    }
    if (g == kMissingGroup) {
      plan.blockers.push_back(
          {vm.name, BlockerKind::kInvalid,
           "vm " + vm.name + " names server group " + vm.server_group + ", which does not exist"});
      continue;
    }
    if (IsStrict(index, g, GroupPolicy::kAffinity) && index.members(g).size() > 1) {
      if (!options.allow_group_moves) {
        plan.blockers.push_back(
            {vm.name, BlockerKind::kStrictAffinity,
             "vm " + vm.name + " is in strict affinity group " + index.group(g).name + " (" +
                 std::to_string(index.members(g).size()) +
                 " members); a member may not migrate alone and group moves are not allowed"});
      } else if (std::find(group_moves.begin(), group_moves.end(), g) == group_moves.end()) {
        group_moves.push_back(g);
      }
      continue;
    }
    if (vm.eviction_strategy == EvictionStrategy::kShutdown) {
      plan.steps.push_back(
          {vm.name, DrainAction::kShutdown, "", "", true, {}, "evictionStrategy Shutdown"});
      continue;
    }
    singles.push_back(v);
  }

  GroupMoveOptions group_options;
  group_options.weights = placement.weights;
  group_options.explain_nodes = false;
  for (GroupId g : group_moves) {
    const std::vector<VmId>& members = index.members(g);
    const auto none = std::find_if(members.begin(), members.end(), [&](VmId m) {
      return index.vm(m).eviction_strategy == EvictionStrategy::kNone;
    });
    GroupMoveDecision d;
    if (none != members.end()) {
      d.reason = "group " + index.group(g).name + " cannot move: member " + index.vm(*none).name +
                 " has evictionStrategy None";
    } else {
      d = PlanGroupMoveWithUsage(index, usage, g, &excluded, group_options);
    }
    if (!d.feasible) {
      for (VmId m : members) {
        if (index.location(m) != drained) continue;
        const bool is_none = none != members.end() && m == *none;
        plan.blockers.push_back({index.vm(m).name,
                                 is_none ? BlockerKind::kEvictionNone : BlockerKind::kNoCapacity,
                                 d.reason});
      }
      continue;
    }
    for (VmId m : members) {
      if (index.location(m) == d.node_id || index.location(m) == kNoId) continue;
      index.StartMigration(usage, m, d.node_id);
      plan.steps.push_back(
          {index.vm(m).name, DrainAction::kMigrate, d.node, d.group, true, {}, d.reason});
    }
  }

  std::sort(singles.begin(), singles.end(),
            [&](VmId a, VmId b) { return DifficultyKey(index, a) < DifficultyKey(index, b); });
  for (VmId v : singles) {
    const Vm& vm = index.vm(v);
    TargetDecision d = ChooseTargetWithUsage(index, usage, v, kNoId, &excluded, placement);
    if (d.scheduled) {
      index.StartMigration(usage, v, d.node_id, DemandOf(vm, d.relaxation));
      plan.steps.push_back({vm.name, DrainAction::kMigrate, d.node, "", d.compliant,
                            std::move(d.relaxed), std::move(d.reason)});
    } else if (vm.eviction_strategy == EvictionStrategy::kLiveMigrateIfPossible) {
      plan.steps.push_back({vm.name,
                            DrainAction::kShutdown,
                            "",
                            "",
                            true,
                            {},
                            "LiveMigrateIfPossible and no target: " + d.reason});
    } else {
      plan.blockers.push_back({vm.name, Classify(d), std::move(d.reason)});
    }
  }
  return plan;
}

}  // namespace ferry::placement

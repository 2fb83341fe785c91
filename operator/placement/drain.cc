#include "placement/drain.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "placement/group_move.h"

namespace ferry::placement {
namespace {

bool IsStrict(const ClusterView& view, GroupId g, GroupPolicy policy) {
  return g >= 0 && view.group(g).policy == policy && !view.group(g).best_effort;
}

// Members of a group that hold a node (Scheduled, Starting, Running, Migrating).
std::vector<VmId> RunningMembers(const ClusterView& view, GroupId g) {
  std::vector<VmId> out;
  for (VmId m : view.members(g)) {
    if (view.location(m) != kNoId) out.push_back(m);
  }
  return out;
}

// Lower sorts first: the VMs with the fewest possible targets take their spots first.
auto DifficultyKey(const ClusterView& view, VmId v) {
  const Vm& vm = view.vm(v);
  const bool strict_anti = IsStrict(view, view.group_of(v), GroupPolicy::kAntiAffinity);
  const bool special = vm.dedicated_cpus || vm.numa_nodes > 0 || vm.hugepage_size_bytes > 0;
  return std::make_tuple(strict_anti ? 0 : 1, special ? 0 : 1, -vm.memory_bytes,
                         std::string_view(vm.name));
}

}  // namespace

StatusOr<DrainPlan> PlanDrain(const ClusterView& view, std::string_view node,
                              const DrainOptions& options) {
  const NodeId drained = view.FindNode(node);
  if (drained == kNoId) return NotFoundError("node " + std::string(node) + " is not in the view");
  DrainPlan plan;
  plan.node = std::string(node);
  UsageTable usage = view.usage();  // planned moves are recorded here
  std::vector<char> excluded(static_cast<size_t>(view.node_id_limit()), 0);
  excluded[static_cast<size_t>(drained)] = 1;
  for (const std::string& name : options.placement.excluded_nodes) {
    if (const NodeId n = view.FindNode(name); n != kNoId) excluded[static_cast<size_t>(n)] = 1;
  }
  PlacementOptions placement = options.placement;
  placement.explain_nodes = false;
  placement.excluded_nodes.clear();

  for (VmId v : view.inbound(drained)) {
    plan.blockers.push_back({view.vm(v).name, Reason::kInboundMigration,
                             "vm " + view.vm(v).name + " is migrating to " + plan.node +
                                 "; cancel it or let it finish, then plan again"});
  }

  std::vector<VmId> singles;
  std::vector<GroupId> group_moves;
  for (VmId v : view.vms_on(drained)) {
    const Vm& vm = view.vm(v);
    const GroupId g = view.group_of(v);
    if (const NodeId to = usage.migrating_to[static_cast<size_t>(v)]; to != kNoId) {
      DrainStep step;
      step.vm = vm.name;
      step.action = DrainAction::kAlreadyLeaving;
      step.target = view.node(to).name;
      step.note = "already migrating to " + step.target;
      plan.steps.push_back(std::move(step));
      continue;
    }
    if (vm.eviction_strategy == EvictionStrategy::kNone) {
      plan.blockers.push_back({vm.name, Reason::kEvictionNone,
                               "vm " + vm.name +
                                   " has evictionStrategy None; stop or move it "
                                   "by hand"});
      continue;
    }
    if (g == kMissingGroup) {
      plan.blockers.push_back(
          {vm.name, Reason::kGroupNotFound,
           "vm " + vm.name + " names server group " + vm.server_group + ", which does not exist"});
      continue;
    }
    if (IsStrict(view, g, GroupPolicy::kAffinity) && RunningMembers(view, g).size() > 1) {
      if (!options.allow_group_moves) {
        plan.blockers.push_back(
            {vm.name, Reason::kMayNotMoveAlone,
             "vm " + vm.name + " is in strict affinity group " + view.group(g).name + " (" +
                 std::to_string(RunningMembers(view, g).size()) +
                 " running members); a member may not migrate alone and group moves are not "
                 "allowed"});
      } else if (std::find(group_moves.begin(), group_moves.end(), g) == group_moves.end()) {
        group_moves.push_back(g);
      }
      continue;
    }
    if (vm.eviction_strategy == EvictionStrategy::kShutdown) {
      DrainStep step;
      step.vm = vm.name;
      step.action = DrainAction::kShutdown;
      step.note = "evictionStrategy Shutdown";
      plan.steps.push_back(std::move(step));
      continue;
    }
    singles.push_back(v);
  }

  GroupMoveOptions group_options;
  group_options.weights = placement.weights;
  group_options.explain_nodes = false;
  for (GroupId g : group_moves) {
    const std::vector<VmId> running = RunningMembers(view, g);
    const auto none = std::find_if(running.begin(), running.end(), [&](VmId m) {
      return view.vm(m).eviction_strategy == EvictionStrategy::kNone;
    });
    GroupMoveDecision d;
    if (none != running.end()) {
      d.code = Reason::kGroupMoveRefused;
      d.reason = "group " + view.group(g).name + " cannot move: member " + view.vm(*none).name +
                 " has evictionStrategy None";
    } else {
      d = PlanGroupMoveWithUsage(view, usage, g, &excluded, group_options);
    }
    if (!d.feasible) {
      // Members still on the node; those already leaving are steps, not blockers.
      for (VmId m : running) {
        if (view.location(m) != drained || usage.migrating_to[static_cast<size_t>(m)] != kNoId) {
          continue;
        }
        const bool is_none = none != running.end() && m == *none;
        plan.blockers.push_back(
            {view.vm(m).name, is_none ? Reason::kEvictionNone : d.code, d.reason});
      }
      continue;
    }
    for (VmId m : running) {
      if (view.location(m) == d.node_id || usage.migrating_to[static_cast<size_t>(m)] != kNoId) {
        continue;
      }
      view.StartMigration(usage, m, d.node_id);
      DrainStep step;
      step.vm = view.vm(m).name;
      step.target = d.node;
      step.group_move = d.group;
      step.note = d.reason;
      plan.steps.push_back(std::move(step));
    }
  }

  std::sort(singles.begin(), singles.end(),
            [&](VmId a, VmId b) { return DifficultyKey(view, a) < DifficultyKey(view, b); });
  for (VmId v : singles) {
    const Vm& vm = view.vm(v);
    TargetDecision d = ChooseTargetWithUsage(view, usage, v, kNoId, &excluded, placement);
    if (d.scheduled) {
      view.StartMigration(usage, v, d.node_id, DemandOf(vm, d.relaxation));
      DrainStep step;
      step.vm = vm.name;
      step.target = d.node;
      step.compliant = d.compliant;
      step.relaxed = std::move(d.relaxed);
      step.note = std::move(d.reason);
      plan.steps.push_back(std::move(step));
    } else if (vm.eviction_strategy == EvictionStrategy::kLiveMigrateIfPossible) {
      DrainStep step;
      step.vm = vm.name;
      step.action = DrainAction::kShutdown;
      step.note = "LiveMigrateIfPossible and no target: " + d.reason;
      step.why = d.code;
      plan.steps.push_back(std::move(step));
    } else {
      plan.blockers.push_back({vm.name, d.code, std::move(d.reason)});
    }
  }
  return plan;
}

Status ApplyStep(ClusterView& view, const DrainStep& step, std::string_view migration) {
  if (step.action != DrainAction::kMigrate) return OkStatus();
  InFlightMigration m;
  m.vm = step.vm;
  if (const VmId v = view.FindVm(step.vm); v != kNoId) m.source_node = view.vm(v).node;
  m.target_node = step.target;
  m.name = std::string(migration);
  return view.UpsertMigration(m);
}

}  // namespace ferry::placement

#include "servergroup/servergroup_controller.h"

#include "kube/store.h"

namespace ferry::op::servergroup {

using controller::ReconcileResult;

bool AllowsGroupMove(const api::ServerGroup& group) {
  auto it = group.metadata.annotations.find(kAnnotationAllowGroupMove);
  return it != group.metadata.annotations.end() && it->second == "true";
}

ReconcileResult ServerGroupController::Reconcile(const std::string& key, std::stop_token stop) {
  auto [ns, name] = kube::SplitKey(key);
  kube::ObjectPtr obj = ctx_.groups.store().Get(key);
  if (!obj) {
    ctx_.metrics.ForgetGroup(ns, name);
    return ReconcileResult::Success();
  }
  auto sg = api::ServerGroup::FromJson(*obj);
  if (!sg.ok()) return ReconcileResult::TerminalError(sg.status());
  const placement::GroupStatus g = ctx_.state.DescribeGroup(key);

  api::ServerGroupStatus status = sg->status;
  status.members.clear();
  status.violations.clear();
  std::string blocked_on;
  const bool strict_affinity =
      sg->spec.policy == api::ServerGroupPolicy::kAffinity && !sg->spec.best_effort;
  int running = 0;
  for (const placement::GroupMemberStatus& m : g.members) {
    api::ServerGroupMember member;
    member.name = kube::SplitKey(m.vm).second;
    member.node = m.node;
    status.members.push_back(std::move(member));
    if (!m.compliant) status.violations.push_back(m.violation);
    if (!m.node.empty()) ++running;
  }
  for (const placement::GroupMemberStatus& m : g.members) {
    if (strict_affinity && running > 1 && !m.node.empty() && ctx_.state.NodeDraining(m.node))
      blocked_on = m.node;
  }
  status.compliant = g.compliant;
  status.observed_generation = sg->metadata.generation;
  api::Condition c;
  c.type = api::kConditionNodeLockBlocked;
  c.observed_generation = sg->metadata.generation;
  if (blocked_on.empty()) {
    c.status = api::ConditionStatus::kFalse;
    c.reason = "NoDrainBlocked";
  } else if (AllowsGroupMove(*sg)) {
    c.status = api::ConditionStatus::kFalse;
    c.reason = "GroupMoveAllowed";
    c.message = "node " + blocked_on + " is being drained; the group may move as a unit";
  } else {
    c.status = api::ConditionStatus::kTrue;
    c.reason = "StrictAffinity";
    c.message = "node " + blocked_on +
                " is being drained, but strict-affinity members may not migrate alone; annotate " +
                std::string(kAnnotationAllowGroupMove) + "=true to move the group as a unit";
  }
  api::SetCondition(&status.conditions, c, ctx_.clock.WallNow());
  ctx_.metrics.SetGroupViolations(ns, name, static_cast<int>(status.violations.size()));

  if (api::Encode(status) == api::Encode(sg->status)) return ReconcileResult::Success();
  if (stop.stop_requested()) return ReconcileResult::Error(CancelledError("stopping"));
  const bool newly_blocked = c.status == api::ConditionStatus::kTrue && [&] {
    const api::Condition* old = api::FindCondition(sg->status.conditions, c.type);
    return old == nullptr || old->status != api::ConditionStatus::kTrue;
  }();
  kube::Json current = *obj;
  current["status"] = api::Encode(status);
  auto written = ctx_.api.UpdateStatus(kube::resources::kServerGroups, current);
  if (!written.ok()) return ReconcileResult::Error(written.status());
  if (newly_blocked)
    ctx_.events.Record(*written, kube::EventType::kWarning, "NodeLockBlocked", c.message);
  return ReconcileResult::Success();
}

}  // namespace ferry::op::servergroup

#include "plan.h"

#include "api/json_fields.h"
#include "cluster/adapter.h"
#include "placement/reasons.h"

namespace ferry::kubectl {
namespace {

const char* ActionName(placement::DrainAction a) {
  switch (a) {
    case placement::DrainAction::kMigrate:
      return "Migrate";
    case placement::DrainAction::kShutdown:
      return "Shutdown";
    case placement::DrainAction::kAlreadyLeaving:
      return "AlreadyLeaving";
  }
  return "?";
}

// As the evacuation controller judges it: something to move or stop.
bool Runs(const api::VirtualMachine& vm) {
  return vm.spec.running && vm.status.phase != api::VmPhase::kStopped &&
         vm.status.phase != api::VmPhase::kFailed;
}

bool VmRuns(const ClusterObjects& objects, const std::string& key) {
  const auto slash = key.find('/');
  const api::VirtualMachine* vm = objects.FindVm(key.substr(0, slash), key.substr(slash + 1));
  return vm != nullptr && Runs(*vm);
}

const char* DecisionName(op::migration::SchedulingOutcome::Kind k) {
  using Kind = op::migration::SchedulingOutcome::Kind;
  switch (k) {
    case Kind::kScheduled:
      return "Scheduled";
    case Kind::kUnschedulable:
      return "Unschedulable";
    case Kind::kTargetRejected:
      return "TargetRejected";
    case Kind::kWait:
      return "Wait";
  }
  return "?";
}

}  // namespace

StatusOr<Json> DrainPlanModel(op::ClusterState& state, const ClusterObjects& objects,
                              const std::string& node) {
  const api::Node* n = objects.FindNode(node);
  if (n == nullptr) return NotFoundError("node " + node + " not found");
  const bool allow = AllowGroupMoves(objects);
  auto plan = state.PlanDrain(node, allow);
  if (!plan.ok()) return plan.status();
  Json m = {{"node", node},
            {"cordoned", n->spec.unschedulable},
            {"allowGroupMoves", allow},
            {"complete", plan->complete()},
            {"steps", Json::array()},
            {"blockers", Json::array()}};
  int order = 0;
  for (const placement::DrainStep& s : plan->steps) {
    Json step = {{"order", ++order},
                 {"vm", s.vm},
                 {"running", VmRuns(objects, s.vm)},
                 {"action", ActionName(s.action)},
                 {"target", s.target},
                 {"groupMove", s.group_move},
                 {"compliant", s.compliant},
                 {"relaxed", s.relaxed},
                 {"note", s.note}};
    if (s.why != placement::Reason::kNone) step["why"] = placement::ReasonName(s.why);
    m["steps"].push_back(std::move(step));
  }
  for (const placement::DrainBlocker& b : plan->blockers) {
    m["blockers"].push_back({{"vm", b.vm},
                             {"running", VmRuns(objects, b.vm)},
                             {"code", placement::ReasonName(b.code)},
                             {"reason", b.reason}});
  }
  return m;
}

std::string DrainPlanTable(const Json& m) {
  int moving = 0, stays = 0;
  Table steps({"ORDER", "VM", "ACTION", "TARGET", "NOTE"});
  for (const Json& s : m["steps"]) {
    const bool running = s.value("running", true);
    std::string action = running ? Str(s, "action") : "Stays (not running)";
    running ? ++moving : ++stays;
    std::string note = Str(s, "note");
    if (!Str(s, "groupMove").empty())
      note = "group " + Str(s, "groupMove") + " moves as a unit; " + note;
    if (!s.value("compliant", true)) note = "breaks a best-effort group rule; " + note;
    steps.AddRow({std::to_string(Int(s, "order")), Str(s, "vm"), action,
                  running && !Str(s, "target").empty() ? Str(s, "target") : "-", note});
  }
  int blocked = 0;
  Table blockers({"BLOCKED VM", "CODE", "REASON"});
  for (const Json& b : m["blockers"]) {
    if (!b.value("running", true)) continue;  // the drain does not need to move it
    ++blocked;
    blockers.AddRow({Str(b, "vm"), Str(b, "code"), Str(b, "reason")});
  }
  std::string out =
      "Drain plan for " + Str(m, "node") + (m.value("cordoned", false) ? " (cordoned)" : "") +
      ": " + std::to_string(moving) + " VM(s) to move, " + std::to_string(blocked) + " blocked" +
      (stays ? ", " + std::to_string(stays) + " not running (they stay)" : "") + "\n";
  if (!steps.empty()) out += steps.Render();
  if (!blockers.empty()) out += "\n" + blockers.Render();
  return out;
}

StatusOr<Json> ExplainModel(op::ClusterState& state, const ClusterObjects& objects,
                            const std::string& ns, const std::string& name, const std::string& to) {
  const api::VirtualMachine* vm = objects.FindVm(ns, name);
  if (vm == nullptr) return NotFoundError("virtualmachine " + ns + "/" + name + " not found");
  if (!to.empty() && objects.FindNode(to) == nullptr)
    return NotFoundError("node " + to + " not found");
  // A migration in Scheduling, as the migration controller hands it to the cluster state.
  api::VirtualMachineMigration vmm;
  vmm.metadata.namespace_ = ns;
  vmm.metadata.name = "kubectl-ferry-explain-" + name;
  vmm.metadata.creation_timestamp = api::WallTime{};
  vmm.spec.vm_name = name;
  vmm.status.phase = api::MigrationPhase::kScheduling;
  vmm.status.source_node = vm->status.node_name;
  api::EffectiveMigrationOptions opts;
  opts.target_node = to;
  vmm.status.effective_options = opts;
  const auto outcome = state.ScheduleMigration(vmm);
  Json m = {{"vm", op::VmKey(ns, name)},
            {"node", vm->status.node_name},
            {"phase", std::string(api::ToString(vm->status.phase))},
            {"requested", to},
            {"decision", DecisionName(outcome.kind)},
            {"target", outcome.target},
            {"summary", outcome.message},
            {"candidates", Json::array()}};
  if (outcome.placement) {
    for (const api::PlacementCandidate& c : outcome.placement->candidates) {
      m["candidates"].push_back({{"node", c.node},
                                 {"verdict", std::string(api::ToString(c.verdict))},
                                 {"score", c.score},
                                 {"reason", c.reason}});
    }
  }
  return m;
}

std::string ExplainTable(const Json& m) {
  const std::string vm = Str(m, "vm");
  const std::string node = Str(m, "node");
  std::string head = vm + (node.empty() ? " (not placed)" : " on " + node) + ": ";
  const std::string decision = Str(m, "decision");
  if (decision == "Scheduled") {
    head += (node.empty() ? "would start on " : "would migrate to ") + Str(m, "target");
  } else if (decision == "TargetRejected") {
    head += "refused to move to " + Str(m, "requested");
  } else {
    head += "no node fits now";
  }
  std::string out = head + "\n  " + Str(m, "summary") + "\n";
  Table t({"NODE", "VERDICT", "SCORE", "REASON"});
  for (const Json& c : m["candidates"]) {
    const std::string verdict = Str(c, "verdict");
    t.AddRow({Str(c, "node"), verdict,
              verdict == "Rejected" ? "-" : std::to_string(Int(c, "score")), Str(c, "reason")});
  }
  if (!t.empty()) out += t.Render();
  return out;
}

}  // namespace ferry::kubectl

#include "vm/vm_controller.h"

#include "api/group.h"
#include "kube/fenced_client.h"
#include "kube/store.h"
#include "vm/migratable.h"
#include "vm/vm_status.h"

namespace ferry::op::vm {
namespace {

using controller::ReconcileResult;

// Per-node lines kept in the Scheduled condition's message (the Event and `kubectl describe`
// stay readable; the summary counts every node).
constexpr size_t kMaxNodeLines = 20;

api::Condition MakeCondition(const char* type, bool ok, std::string reason, std::string message,
                             int64_t gen) {
  api::Condition c;
  c.type = type;
  c.status = ok ? api::ConditionStatus::kTrue : api::ConditionStatus::kFalse;
  c.reason = std::move(reason);
  c.message = std::move(message);
  c.observed_generation = gen;
  return c;
}

}  // namespace

VmController::VmController(Context& ctx) : ctx_(ctx) {}

std::vector<std::string> VmController::Unschedulable() const {
  std::lock_guard l(mu_);
  return {unschedulable_.begin(), unschedulable_.end()};
}

void VmController::MarkUnschedulable(const std::string& key, bool unschedulable) {
  std::lock_guard l(mu_);
  if (unschedulable) {
    unschedulable_.insert(key);
  } else {
    unschedulable_.erase(key);
  }
}

ReconcileResult VmController::Reconcile(const std::string& key, std::stop_token stop) {
  kube::ObjectPtr obj = ctx_.vms.store().Get(key);
  if (!obj) {
    MarkUnschedulable(key, false);
    written_.Forget(key);
    return ReconcileResult::Success();
  }
  // A copy our own write replaced: placing it again from there would pick a node a second
  // time (and forget the first) only to fail with 409; the write's event queues it again.
  if (written_.Stale(key, *obj)) return ReconcileResult::Success();
  auto vm = api::VirtualMachine::FromJson(*obj);
  if (!vm.ok()) return ReconcileResult::TerminalError(vm.status());
  // A VM being deleted is placed no more, but its migrations still end: their outcomes are
  // recorded (so their finalizers go: a foreground deletion waits for them) and a success
  // still flips the node (so the target's handler, which selects by the label, removes the
  // guest it now runs). docs/adr/0006 §6.
  const bool deleting = vm->metadata.IsBeingDeleted();
  std::vector<api::VirtualMachineMigration> vmms;
  for (const kube::ObjectPtr& m : ctx_.vmms.store().ByIndex(kIndexByVm, key)) {
    auto decoded = api::VirtualMachineMigration::FromJson(*m);
    if (decoded.ok()) vmms.push_back(std::move(*decoded));
  }
  const api::WallTime now = ctx_.clock.WallNow();
  VmMigrationDecision md = DecideMigrationStatus(*vm, vmms);
  api::VirtualMachineStatus status = md.status;
  std::optional<std::string> label = md.flip_to;
  std::vector<std::pair<bool, std::pair<std::string, std::string>>>
      events;  // warning, reason, message
  bool assumed = false;
  bool unschedulable = false;

  if (!deleting && vm->spec.running && status.node_name.empty()) {
    std::lock_guard lock(ctx_.state.decision_mutex());
    const auto t0 = ctx_.clock.Now();
    VmPlacement p = ctx_.state.PlaceVm(key);
    ctx_.metrics.ObservePlacement("vm",
                                  std::chrono::duration<double>(ctx_.clock.Now() - t0).count());
    if (p.scheduled) {
      ctx_.state.AssumeVmNode(key, p.node);
      assumed = true;
      status.node_name = p.node;
      status.phase = api::VmPhase::kScheduled;
      label = p.node;
      api::SetCondition(
          &status.conditions,
          MakeCondition(kConditionScheduled, true, "Placed", p.summary, vm->metadata.generation),
          now);
      events.push_back({false, {"Scheduled", "placed on " + p.node + ": " + p.summary}});
    } else {
      unschedulable = true;
      std::string message = p.summary;
      for (size_t i = 0; i < p.node_lines.size() && i < kMaxNodeLines; ++i)
        message += "\n" + p.node_lines[i];
      if (p.node_lines.size() > kMaxNodeLines) {
        message += "\n(" + std::to_string(p.node_lines.size() - kMaxNodeLines) + " more nodes)";
      }
      const api::Condition* old = api::FindCondition(status.conditions, kConditionScheduled);
      if (old == nullptr || old->message != message) {
        events.push_back({true, {"FailedScheduling", p.summary}});
        ctx_.metrics.CountUnschedulable(p.reason_code);
      }
      status.phase = api::VmPhase::kPending;
      api::SetCondition(&status.conditions,
                        MakeCondition(kConditionScheduled, false, p.reason_code, message,
                                      vm->metadata.generation),
                        now);
    }
  }
  MarkUnschedulable(key, unschedulable);
  if (md.flip_to) {
    ctx_.state.AssumeVmNode(key, *md.flip_to);
    assumed = true;
    events.push_back(
        {false, {"Migrated", "now on " + *md.flip_to + " (" + md.recorded.back() + ")"}});
  }
  if (!deleting && !status.node_name.empty()) {
    if (vm->spec.server_group.empty()) {
      api::SetCondition(&status.conditions,
                        MakeCondition(api::kConditionPlacementCompliant, true, "NoServerGroup", "",
                                      vm->metadata.generation),
                        now);
    } else {
      placement::GroupStatus g =
          ctx_.state.DescribeGroup(vm->metadata.namespace_ + "/" + vm->spec.server_group);
      bool ok = true;
      std::string why = g.found ? "" : "server group " + vm->spec.server_group + " does not exist";
      if (!g.found) ok = false;
      for (const placement::GroupMemberStatus& m : g.members) {
        if (m.vm == key && !m.compliant) {
          ok = false;
          why = m.violation;
        }
      }
      api::SetCondition(&status.conditions,
                        MakeCondition(api::kConditionPlacementCompliant, ok,
                                      ok ? "Compliant" : "Violation", why, vm->metadata.generation),
                        now);
    }
  }
  if (!deleting && !status.node_name.empty()) {
    api::VirtualMachine placed = *vm;
    placed.status.node_name = status.node_name;
    const MigratableVerdict m = DecideMigratable(placed, *ctx_.state.Hosts());
    api::SetCondition(&status.conditions,
                      MakeCondition(api::kConditionMigratable, m.migratable, m.reason, m.message,
                                    vm->metadata.generation),
                      now);
  }
  // The label follows status.nodeName, level-triggered: written after the status that moves
  // the VM, and again whenever it differs (a label write that failed is repaired).
  if (!label && !status.node_name.empty()) label = status.node_name;
  auto forget = [&] {
    if (assumed) ctx_.state.ForgetVmAssumption(key);
  };

  // status.nodeName first, then the node label: the handler selects VMs by that label and writes
  // their status as soon as it sees one, so a label written first let the handler's status write
  // race this one (409), and the retry placed the VM a second time with a stale view.
  kube::Json current = *obj;
  if (api::Encode(status) != api::Encode(vm->status)) {
    if (stop.stop_requested()) return forget(), ReconcileResult::Error(CancelledError("stopping"));
    current["status"] = api::Encode(status);
    auto written = ctx_.api.UpdateStatus(kube::resources::kVirtualMachines, current);
    if (!written.ok()) {
      // A definite refusal forgets the node; a write that may have landed (timeout, 5xx)
      // keeps it until the informer shows the VM again or kUncertainWriteTtl passes (ADR 6
      // §5): a strict anti-affinity sibling placed meanwhile must not land on the same node.
      if (assumed && kube::WriteMayHaveLanded(written.status())) {
        ctx_.state.KeepUncertainVmAssumption(key, vm->metadata.resource_version);
      } else {
        forget();
      }
      return ReconcileResult::Error(written.status());
    }
    written_.WroteOver(key, current, *written);
    current = std::move(*written);
  }
  if (label && vm->metadata.labels[api::kLabelNode] != *label) {
    if (stop.stop_requested()) return forget(), ReconcileResult::Error(CancelledError("stopping"));
    current["metadata"]["labels"][api::kLabelNode] = *label;
    auto written = ctx_.api.Update(kube::resources::kVirtualMachines, current);
    if (!written.ok()) {
      // status.nodeName is written: the placement stands, the label follows on the retry.
      return ReconcileResult::Error(written.status());
    }
    written_.WroteOver(key, current, *written);
    current = std::move(*written);
  }
  for (const auto& [warning, e] : events) {
    ctx_.events.Record(current, warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                       e.first, e.second);
  }
  if (unschedulable) {
    return ReconcileResult::RequeueAfter(
        std::chrono::duration_cast<Clock::Duration>(ctx_.options.resync_interval));
  }
  return ReconcileResult::Success();
}

}  // namespace ferry::op::vm

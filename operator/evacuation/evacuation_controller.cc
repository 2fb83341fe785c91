#include "evacuation/evacuation_controller.h"

#include "api/group.h"
#include "api/labels.h"
#include "evacuation/evacuation_plan.h"
#include "kube/owner.h"
#include "kube/store.h"
#include "kube/writes.h"
#include "servergroup/servergroup_controller.h"

namespace ferry::op::evacuation {
namespace {

using controller::ReconcileResult;

// While a drain has VMs left it is re-checked this often, besides the events that wake it.
constexpr std::chrono::seconds kDrainRecheck{5};

// A VM being deleted is not moved: its handler removes the guest. (Migrating it only ended
// VMNotFound, again and again under new names now that such outcomes are recorded.)
bool Runs(const api::VirtualMachine& vm) {
  return vm.spec.running && !vm.metadata.IsBeingDeleted() &&
         vm.status.phase != api::VmPhase::kStopped && vm.status.phase != api::VmPhase::kFailed;
}

// Asked to stop, but its guest still runs on the node.
bool Stopping(const api::VirtualMachine& vm) {
  return !vm.spec.running && (vm.status.phase == api::VmPhase::kRunning ||
                              vm.status.phase == api::VmPhase::kMigrating ||
                              vm.status.phase == api::VmPhase::kStarting);
}

std::string LastRecord(const api::VirtualMachine& vm) {
  return vm.status.migration_history.empty() ? ""
                                             : vm.status.migration_history.back().migration_name;
}

}  // namespace

EvacuationController::EvacuationController(Context& ctx)
    : ctx_(ctx), expectations_(ctx.clock, std::chrono::seconds(30)) {}

void EvacuationController::Observed(const kube::Json& vmm) {
  const kube::Json& labels = vmm["metadata"].value("labels", kube::Json::object());
  if (labels.contains(kLabelEvacuationNode))
    expectations_.CreationObserved(labels[kLabelEvacuationNode].get<std::string>());
  if (labels.contains("ferry.dev/rebalance")) expectations_.CreationObserved(kRebalanceKey);
}

Status EvacuationController::CreateMigration(const std::string& vm_key, const std::string& name,
                                             const std::string& target, const std::string& node,
                                             api::MigrationTrigger trigger,
                                             const std::string& group) {
  kube::ObjectPtr vm = ctx_.vms.store().Get(vm_key);
  if (!vm) return NotFoundError("vm " + vm_key + " left the cache");
  auto [ns, vm_name] = kube::SplitKey(vm_key);
  api::VirtualMachineMigration m;
  m.metadata.name = name;
  m.metadata.namespace_ = ns;
  if (trigger == api::MigrationTrigger::kEvacuation) {
    m.metadata.labels[kLabelEvacuationNode] = node;
  } else {
    m.metadata.labels["ferry.dev/rebalance"] = "true";
  }
  // A group name may be longer than a label value: hashed, the name in the annotation.
  if (!group.empty()) api::SetLongLabel(&m.metadata, kLabelGroupMove, kube::SplitKey(group).second);
  m.spec.vm_name = vm_name;
  m.spec.target_node = target;
  m.spec.trigger = trigger;
  m.spec.priority = ctx_.options.evacuation.priority;
  // Writable local disks can only move with the memory (storage: Copy).
  if (auto decoded = api::VirtualMachine::FromJson(*vm); decoded.ok()) {
    for (const api::Disk& d : decoded->spec.disks) {
      if (d.type == api::DiskType::kLocal && !d.network && !d.read_only)
        m.spec.storage = api::StorageMode::kCopy;
    }
  }
  kube::Json obj = m.ToJson();
  obj["apiVersion"] = api::kApiVersion;
  obj["kind"] = "VirtualMachineMigration";
  if (Status st = kube::SetControllerReference(*vm, &obj); !st.ok()) return st;
  auto created = ctx_.api.Create(kube::resources::kVirtualMachineMigrations, ns, obj);
  if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists)
    return created.status();
  return OkStatus();
}

ReconcileResult EvacuationController::Reconcile(const std::string& key, std::stop_token stop) {
  if (key == kRebalanceKey) return Rebalance(stop);
  const std::string& node = key;
  kube::ObjectPtr nobj = ctx_.nodes.store().Get(node);
  if (!nobj) {
    ctx_.metrics.ForgetEvacuation(node);
    return ReconcileResult::Success();
  }
  const kube::Json annotations = (*nobj)["metadata"].value("annotations", kube::Json::object());
  const bool annotated = annotations.contains(api::kAnnotationEvacuation);
  if (!ctx_.state.NodeDraining(node)) {
    ctx_.metrics.ForgetEvacuation(node);
    if (!annotated) return ReconcileResult::Success();
    auto r =
        ctx_.api.Patch(kube::resources::kNodes, "", node,
                       {{"metadata", {{"annotations", {{api::kAnnotationEvacuation, nullptr}}}}}});
    if (!r.ok()) return ReconcileResult::Error(r.status());
    ctx_.events.Record(*r, kube::EventType::kNormal, "EvacuationStopped",
                       "node is schedulable again; no new evacuation migrations");
    return ReconcileResult::Success();
  }

  ActionOptions opts;
  opts.max_attempts = ctx_.options.evacuation.max_attempts;
  ctx_.groups.store().ForEach([&](const kube::ObjectPtr& o) {
    auto g = api::ServerGroup::FromJson(*o);
    if (g.ok() && servergroup::AllowsGroupMove(*g))
      opts.groups_allowed_to_move.insert(g->metadata.Key());
  });
  const auto t0 = ctx_.clock.Now();
  auto plan = ctx_.state.PlanDrain(node, !opts.groups_allowed_to_move.empty());
  ctx_.metrics.ObservePlacement("drain",
                                std::chrono::duration<double>(ctx_.clock.Now() - t0).count());
  if (!plan.ok()) return ReconcileResult::Error(plan.status());

  std::map<std::string, VmFacts> facts;
  int in_flight = 0;
  std::map<std::string, api::VirtualMachine> vms;
  auto add_facts = [&](const std::string& vm_key) {
    auto vm = Cached<api::VirtualMachine>(ctx_.vms, vm_key);
    VmFacts f;
    if (!vm) {
      f.running = false;
      facts[vm_key] = f;
      return;
    }
    f.running = Runs(*vm);
    f.stopping = Stopping(*vm);
    f.eviction_strategy = vm->spec.eviction_strategy;
    f.vmm_name = MigrationName(vm->metadata.name, vm->metadata.uid, node, LastRecord(*vm));
    if (auto m = Cached<api::VirtualMachineMigration>(ctx_.vmms,
                                                      vm->metadata.namespace_ + "/" + f.vmm_name)) {
      f.vmm_phase = m->status.phase;
      if (!api::IsTerminal(m->status.phase)) ++in_flight;
    }
    f.failed_attempts = FailedAttempts(*vm, node);
    if (!vm->status.migration_history.empty())
      f.last_failure = vm->status.migration_history.back().reason;
    facts[vm_key] = f;
    vms.emplace(vm_key, std::move(*vm));
  };
  for (const placement::DrainStep& s : plan->steps) add_facts(s.vm);
  for (const placement::DrainBlocker& b : plan->blockers) add_facts(b.vm);
  opts.free_slots = std::max(0, ctx_.options.limits.outbound_per_node - in_flight);
  Actions actions = DecideActions(*plan, facts, opts);

  if (!actions.create.empty() && !expectations_.SatisfiedExpectations(node)) {
    return ReconcileResult::RequeueAfter(
        std::chrono::milliseconds(500));  // our last creates are not cached yet
  }
  // Expect the whole batch now (client-go's ExpectCreations): this also restarts the
  // expectation's clock, which RaiseExpectations would keep from the node's first batch (a
  // drain older than the time-to-live would then count creates it has not seen yet as seen).
  expectations_.ExpectCreations(node, static_cast<int>(actions.create.size()));
  int left = static_cast<int>(actions.create.size());
  for (const Create& c : actions.create) {
    if (stop.stop_requested()) {
      expectations_.LowerExpectations(node, left, 0);
      return ReconcileResult::Error(CancelledError("stopping"));
    }
    Status st =
        CreateMigration(c.vm, c.name, "", node, api::MigrationTrigger::kEvacuation, c.group);
    if (!st.ok()) {
      expectations_.LowerExpectations(node, left, 0);  // these will never appear
      return ReconcileResult::Error(st);
    }
    --left;
    ctx_.events.Record(*nobj, kube::EventType::kNormal, "Evacuating",
                       "migrating " + c.vm + (c.group.empty() ? "" : " with group " + c.group) +
                           " (" + c.name + ")");
  }
  for (const std::string& vm_key : actions.shutdown) {
    auto it = vms.find(vm_key);
    if (it == vms.end() || !it->second.spec.running) continue;
    // Only a guest whose owner chose Shutdown is ever stopped by a drain (ADR 6 §4).
    if (it->second.spec.eviction_strategy != api::EvictionStrategy::kShutdown) continue;
    auto [ns, name] = kube::SplitKey(vm_key);
    auto r = kube::MergePatchIfUnchanged(ctx_.api, kube::resources::kVirtualMachines, ns, name,
                                         it->second.metadata.resource_version,
                                         {{"spec", {{"running", false}}}});
    if (!r.ok()) return ReconcileResult::Error(r.status());
    ctx_.events.Record(*nobj, kube::EventType::kNormal, "EvacuationShutdown",
                       "stopping " + vm_key + " (evictionStrategy Shutdown)");
  }

  const std::string progress = ProgressAnnotation(actions);
  const std::string before =
      annotated ? annotations[api::kAnnotationEvacuation].get<std::string>() : "";
  if (progress != before) {
    auto r =
        ctx_.api.Patch(kube::resources::kNodes, "", node,
                       {{"metadata", {{"annotations", {{api::kAnnotationEvacuation, progress}}}}}});
    if (!r.ok()) return ReconcileResult::Error(r.status());
    if (!annotated) {
      ctx_.events.Record(*r, kube::EventType::kNormal, "EvacuationStarted",
                         std::to_string(actions.planned) + " running VMs to move or stop");
    }
    const auto old =
        before.empty() ? kube::Json::object() : kube::Json::parse(before, nullptr, false);
    const size_t old_blocked =
        old.is_object() && old.contains("blocked") ? old["blocked"].size() : 0;
    if (actions.blocked.size() > old_blocked) {
      std::string msg;
      for (const auto& [vm, reason] : actions.blocked)
        msg += (msg.empty() ? "" : "; ") + vm + ": " + reason;
      ctx_.events.Record(*r, kube::EventType::kWarning, "EvacuationBlocked", msg);
    }
    if (actions.remaining == 0) {
      ctx_.events.Record(*r, kube::EventType::kNormal, "EvacuationCompleted",
                         "no running VMs left on the node");
    }
  }
  ctx_.metrics.SetEvacuationRemaining(node, actions.remaining);
  if (actions.remaining > 0) return ReconcileResult::RequeueAfter(kDrainRecheck);
  return ReconcileResult::Success();
}

ReconcileResult EvacuationController::Rebalance(std::stop_token stop) {
  const auto every =
      std::chrono::duration_cast<Clock::Duration>(ctx_.options.evacuation.rebalance_interval);
  if (!ctx_.options.evacuation.rebalance) return ReconcileResult::Success();
  // One rebalance migration at a time: it moves a preference, never an emergency.
  bool busy = false;
  ctx_.vmms.store().ForEach([&](const kube::ObjectPtr& o) {
    auto m = api::VirtualMachineMigration::FromJson(*o);
    if (m.ok() && m->spec.trigger == api::MigrationTrigger::kRebalance &&
        !api::IsTerminal(m->status.phase))
      busy = true;
  });
  if (busy || !expectations_.SatisfiedExpectations(kRebalanceKey))
    return ReconcileResult::RequeueAfter(every);
  const auto t0 = ctx_.clock.Now();
  placement::RebalancePlan plan = ctx_.state.PlanRebalance();
  ctx_.metrics.ObservePlacement("rebalance",
                                std::chrono::duration<double>(ctx_.clock.Now() - t0).count());
  if (plan.moves.empty() || stop.stop_requested()) return ReconcileResult::RequeueAfter(every);
  const placement::RebalanceMove& mv = plan.moves.front();
  // One read of the VM for the whole decision: it may leave the cache at any moment (a second
  // read for the Event after the create dereferenced a VM deleted meanwhile).
  const kube::ObjectPtr vm_obj = ctx_.vms.store().Get(mv.vm);
  StatusOr<api::VirtualMachine> vm =
      vm_obj ? api::VirtualMachine::FromJson(*vm_obj) : NotFoundError("vm " + mv.vm);
  if (!vm.ok() || ctx_.state.NodeDraining(mv.from)) return ReconcileResult::RequeueAfter(every);
  std::string name =
      MigrationName(vm->metadata.name, vm->metadata.uid, mv.from + ">" + mv.to, LastRecord(*vm));
  name.replace(0, std::string(kNamePrefix).size(), "rebal-");
  expectations_.ExpectCreations(kRebalanceKey, 1);
  if (Status st = CreateMigration(mv.vm, name, mv.to, mv.from, api::MigrationTrigger::kRebalance);
      !st.ok()) {
    expectations_.CreationObserved(kRebalanceKey);
    return ReconcileResult::Error(st);
  }
  ctx_.events.Record(*vm_obj, kube::EventType::kNormal, "Rebalancing",
                     "moving to " + mv.to + ": " + mv.violation);
  return ReconcileResult::RequeueAfter(every);
}

}  // namespace ferry::op::evacuation

#include "cluster/cluster_state.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "api/group.h"
#include "api/labels.h"
#include "cluster/adapter.h"
#include "placement/explain.h"
#include "placement/group_move.h"

namespace ferry::op {
namespace {

using api::MigrationPhase;

bool HasDrainTaint(const api::Node& node) {
  for (const api::Taint& t : node.spec.taints) {
    if (t.key == api::kTaintDrain) return true;
  }
  return false;
}

}  // namespace

MigrationPhase ClusterState::MigrationEntry::Phase() const {
  if (api::IsTerminal(observed)) return observed;
  return std::max(observed, assumed);
}

void ClusterState::MigrationEntry::SettleAssumptions() {
  if (assumed != MigrationPhase::kUnset && (api::IsTerminal(observed) || observed >= assumed)) {
    assumed = MigrationPhase::kUnset;
    assumed_target.clear();
  }
  if (finalizer || api::IsTerminal(observed)) assumed_admitted = false;
}

ClusterState::ClusterState(Clock& clock, std::chrono::nanoseconds heartbeat_timeout,
                           MigrationLimits limits, HeartbeatJudgement judgement)
    : clock_(clock),
      heartbeat_timeout_(heartbeat_timeout),
      limits_(limits),
      judgement_(judgement),
      observations_(clock) {
  observations_.set_stale_after(std::chrono::duration_cast<Clock::Duration>(heartbeat_timeout_));
}

// ---- informer feeds ------------------------------------------------------------------------

void ClusterState::Check(const Status& st, const std::string& what) {
  if (!st.ok())
    std::fprintf(stderr, "ferry-operator: cluster view: %s: %s\n", what.c_str(),
                 st.ToString().c_str());
}

void ClusterState::SyncNode(const std::string& name) {
  auto it = nodes_.find(name);
  const NodeEntry* e = it == nodes_.end() ? nullptr : &it->second;
  const placement::Node n = NodeFromApi(name, e && e->node ? &*e->node : nullptr,
                                        e && e->hv ? &*e->hv : nullptr, e && e->alive);
  if (e && e->node) {
    Check(view_.UpsertNode(placement::NodeInfoOf(n)), "node " + name);
  } else {
    Check(view_.RemoveNode(name), "node " + name);
  }
  if (e && e->hv) {
    Check(view_.UpsertHypervisor(placement::HypervisorInfoOf(n)), "hypervisor " + name);
  } else {
    Check(view_.RemoveHypervisor(name), "hypervisor " + name);
  }
  std::optional<vm::HostFacts> facts;
  if (e && e->node && e->hv && e->alive) {
    facts.emplace();
    facts->name = name;
    facts->cpu_model = n.cpu_model;
    facts->cpu_models = n.cpu_models;
    facts->dedicated_cpus = n.dedicated_cpus;
    for (const placement::HugepagePool& p : n.hugepages)
      facts->hugepages[p.page_size_bytes] = p.total_bytes;
  }
  auto h = hosts_.find(name);
  if (facts && (h == hosts_.end() || h->second != *facts)) {
    hosts_[name] = std::move(*facts);
    ++hosts_generation_;
    hosts_cache_.reset();
  } else if (!facts && h != hosts_.end()) {
    hosts_.erase(h);
    ++hosts_generation_;
    hosts_cache_.reset();
  }
  if (e && !e->node && !e->hv) nodes_.erase(it);
}

void ClusterState::SyncVm(const std::string& key) {
  auto it = vms_.find(key);
  if (it == vms_.end()) {
    Check(view_.RemoveVm(key), "vm " + key);
  } else {
    placement::Vm v = it->second.vm;
    v.node = it->second.Node();
    Check(view_.UpsertVm(v), "vm " + key);
  }
  SyncMigrationsOf(key);
}

void ClusterState::SyncMigration(const std::string& key) {
  auto it = migrations_.find(key);
  if (it != migrations_.end() && HoldsReservation(it->second)) {
    const MigrationEntry& m = it->second;
    Check(view_.UpsertMigration({m.vm_key, m.source, m.Target(), key}), "migration " + key);
    in_view_.insert(key);
  } else if (in_view_.erase(key) > 0) {
    Check(view_.RemoveMigration(key), "migration " + key);
  }
}

void ClusterState::SyncMigrationsOf(const std::string& vm_key) {
  for (const auto& [key, m] : migrations_) {
    if (m.vm_key == vm_key) SyncMigration(key);
  }
}

void ClusterState::UpsertNode(const api::Node& node) {
  std::lock_guard l(mu_);
  nodes_[node.metadata.name].node = node;
  SyncNode(node.metadata.name);
}

void ClusterState::RemoveNode(const std::string& name) {
  std::lock_guard l(mu_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  it->second.node.reset();
  SyncNode(name);
}

void ClusterState::UpsertHypervisor(const api::Hypervisor& hv) {
  std::lock_guard l(mu_);
  NodeEntry& e = nodes_[hv.metadata.name];
  e.hv = hv;
  observations_.SeeHeartbeat(hv.metadata.name, hv.status.last_heartbeat_time);
  e.alive = Alive(hv.metadata.name, hv);
  SyncNode(hv.metadata.name);  // a heartbeat alone changes nothing: the view ignores equal state
}

void ClusterState::RemoveHypervisor(const std::string& name) {
  std::lock_guard l(mu_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  it->second.hv.reset();
  it->second.alive = false;
  observations_.ForgetNode(name);
  SyncNode(name);
}

void ClusterState::UpsertVm(const api::VirtualMachine& vm) {
  std::lock_guard l(mu_);
  const std::string key = VmKey(vm.metadata.namespace_, vm.metadata.name);
  VmEntry& e = vms_[key];
  e.vm = VmFromApi(vm);
  SettleUncertainVm(e, vm.metadata.resource_version);
  e.uid = vm.metadata.uid;
  if (e.assumed_node && *e.assumed_node == e.vm.node) e.assumed_node.reset();
  if (e.assumed_before_last && *e.assumed_before_last == e.vm.node) e.assumed_before_last.reset();
  SyncVm(key);
}

void ClusterState::RemoveVm(const std::string& key) {
  std::lock_guard l(mu_);
  vms_.erase(key);
  SyncVm(key);
}

void ClusterState::UpsertGroup(const api::ServerGroup& group) {
  std::lock_guard l(mu_);
  const std::string key = VmKey(group.metadata.namespace_, group.metadata.name);
  groups_[key] = GroupFromApi(group);
  Check(view_.UpsertGroup(groups_[key]), "group " + key);
}

void ClusterState::RemoveGroup(const std::string& key) {
  std::lock_guard l(mu_);
  groups_.erase(key);
  Check(view_.RemoveGroup(key), "group " + key);
}

void ClusterState::UpsertMigration(const api::VirtualMachineMigration& vmm) {
  std::lock_guard l(mu_);
  const std::string key = vmm.metadata.Key();
  MigrationEntry& m = migrations_[key];
  m.vm_key = VmKey(vmm.metadata.namespace_, migration::VmNameOf(vmm));
  m.vm_uid = vmm.status.vm_uid;
  m.observed = vmm.status.phase;
  m.finalizer = vmm.metadata.HasFinalizer(api::kMigrationFinalizer);
  m.deleting = vmm.metadata.IsBeingDeleted();
  const api::Condition* unknown =
      api::FindCondition(vmm.status.conditions, api::kConditionGuestLocationUnknown);
  m.location_unknown = unknown != nullptr && unknown->status == api::ConditionStatus::kTrue;
  m.source = vmm.status.source_node;
  m.target = vmm.status.target_node;
  if (vmm.status.effective_options) {
    m.requested_target = vmm.status.effective_options->target_node;
    m.priority = vmm.status.effective_options->priority;
  }
  m.created = vmm.metadata.creation_timestamp.value_or(api::WallTime{});
  observations_.SeePhase(key, vmm.metadata.uid, vmm.status.phase);
  if (m.observed == MigrationPhase::kScheduling)
    m.refused = vmm.status.reason == migration::kReasonUnschedulable;
  m.SettleAssumptions();
  SettleUncertainMigration(m, vmm.metadata.resource_version);
  SyncMigration(key);
}

void ClusterState::RemoveMigration(const std::string& key) {
  std::lock_guard l(mu_);
  migrations_.erase(key);
  observations_.ForgetMigration(key);
  SyncMigration(key);
}

// ---- facts --------------------------------------------------------------------------------

bool ClusterState::HandlerAlive(const std::string& node) const {
  std::lock_guard l(mu_);
  auto it = nodes_.find(node);
  return it != nodes_.end() && it->second.alive;
}

std::optional<api::WallTime> ClusterState::LastHeartbeat(const std::string& node) const {
  std::lock_guard l(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end() || !it->second.hv) return std::nullopt;
  return it->second.hv->status.last_heartbeat_time;
}

std::string ClusterState::TargetProblem(const std::string& node) const {
  std::lock_guard l(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end() || !it->second.node) return "the Node object is gone";
  const api::Node& n = *it->second.node;
  if (!n.IsReady()) return "the node is NotReady";
  if (n.spec.unschedulable) return "the node is cordoned";
  if (HasDrainTaint(n)) return std::string("the node is tainted ") + api::kTaintDrain;
  if (!it->second.hv) return "the node has no Hypervisor";
  return "";
}

std::string ClusterState::ActiveMigrationOf(const std::string& vm_key,
                                            const std::string& vmm_key) const {
  std::lock_guard l(mu_);
  auto v = vms_.find(vm_key);
  const std::string vm_uid = v == vms_.end() ? "" : v->second.uid;
  std::string found;
  for (const auto& [key, m] : migrations_) {
    if (key == vmm_key || m.vm_key != vm_key || !m.Admitted()) continue;
    // Admitted for an earlier VM of this name (deleted, re-created): not this VM's.
    if (!m.vm_uid.empty() && !vm_uid.empty() && m.vm_uid != vm_uid) continue;
    // Finished and recorded on the VM (the finalizer is released only after the record, and
    // the record carries the node flip): the next one may start from the VM's new node.
    if (api::IsTerminal(m.Phase()) && !m.finalizer) continue;
    if (found.empty() || key < found) found = key;
  }
  return found;
}

bool ClusterState::NodeDraining(const std::string& node) const {
  std::lock_guard l(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end() || !it->second.node) return false;
  return it->second.node->spec.unschedulable || HasDrainTaint(*it->second.node);
}

std::vector<std::string> ClusterState::DrainingNodes() const {
  std::lock_guard l(mu_);
  std::vector<std::string> out;
  for (const auto& [name, e] : nodes_) {
    if (e.node && (e.node->spec.unschedulable || HasDrainTaint(*e.node))) out.push_back(name);
  }
  return out;
}

std::vector<std::string> ClusterState::WaitingMigrations() const {
  std::lock_guard l(mu_);
  std::vector<std::string> out;
  for (const auto& [key, m] : migrations_) {
    const MigrationPhase p = m.Phase();
    if (p == MigrationPhase::kPending || p == MigrationPhase::kScheduling) out.push_back(key);
  }
  return out;
}

std::vector<std::string> ClusterState::MigrationsTouching(const std::string& node) const {
  std::lock_guard l(mu_);
  std::vector<std::string> out;
  for (const auto& [key, m] : migrations_) {
    if (api::IsTerminal(m.Phase())) continue;
    if (m.source == node || m.Target() == node) out.push_back(key);
  }
  return out;
}

std::map<MigrationPhase, int> ClusterState::PhaseCounts() const {
  std::lock_guard l(mu_);
  std::map<MigrationPhase, int> out;
  for (const auto& [key, m] : migrations_) ++out[m.Phase()];
  return out;
}

int ClusterState::GuestLocationUnknownCount() const {
  std::lock_guard l(mu_);
  int n = 0;
  for (const auto& [key, m] : migrations_) {
    const bool done = m.observed == MigrationPhase::kSucceeded ||
                      m.observed == MigrationPhase::kFailed ||
                      m.observed == MigrationPhase::kCancelled;
    if (m.location_unknown && !done) ++n;
  }
  return n;
}

uint64_t ClusterState::generation() const {
  std::lock_guard l(mu_);
  return view_.generation();
}

std::shared_ptr<const std::vector<vm::HostFacts>> ClusterState::Hosts() const {
  std::lock_guard l(mu_);
  if (!hosts_cache_) {
    auto all = std::make_shared<std::vector<vm::HostFacts>>();
    all->reserve(hosts_.size());
    for (const auto& [name, h] : hosts_) all->push_back(h);
    hosts_cache_ = std::move(all);
  }
  return hosts_cache_;
}

uint64_t ClusterState::hosts_generation() const {
  std::lock_guard l(mu_);
  return hosts_generation_;
}

// ---- placement ----------------------------------------------------------------------------

bool ClusterState::HoldsReservation(const MigrationEntry& m) const {
  const std::string target = m.Target();
  if (target.empty() || m.vm_key.empty()) return false;
  // A migration of an earlier VM of this name (deleted, re-created): the view keys migrations
  // by VM name, and counting it would make the new VM "already migrating" (never placed).
  if (auto v = vms_.find(m.vm_key);
      v != vms_.end() && !m.vm_uid.empty() && !v->second.uid.empty() && v->second.uid != m.vm_uid)
    return false;
  const MigrationPhase p = m.Phase();
  if (IsActivePhase(p)) return true;
  if (p != MigrationPhase::kSucceeded || !m.finalizer) return false;
  // Succeeded, outcome not yet recorded on the VM: the room on the target stays taken until
  // the VM is flipped there (then the VM itself counts).
  auto it = vms_.find(m.vm_key);
  return it != vms_.end() && it->second.Node() != target;
}

api::PlacementExplanation ClusterState::Explain(const placement::TargetDecision& d) const {
  api::PlacementExplanation e;
  e.selected_node = d.scheduled ? d.node : "";
  e.decided_at = clock_.WallNow();
  e.summary = d.reason;
  const placement::VmId vm = view_.FindVm(d.vm);
  for (const placement::NodeVerdict& v : d.verdicts) {
    const bool selected = d.scheduled && v.node == d.node_id;
    if (e.candidates.size() >= kMaxPlacementCandidates && !selected) continue;
    api::PlacementCandidate c;
    c.node = view_.node(v.node).name;
    if (v.rejection.rejected()) {
      c.verdict = api::PlacementVerdict::kRejected;
      if (vm != placement::kNoId)
        c.reason = placement::DescribeRejection(view_, vm, v.node, v.rejection);
    } else {
      c.verdict = selected ? api::PlacementVerdict::kSelected : api::PlacementVerdict::kEligible;
      c.score = v.score.total;
      c.reason = placement::DescribeScore(v.score, d.weights);
    }
    e.candidates.push_back(std::move(c));
  }
  if (d.verdicts.size() > e.candidates.size()) {
    e.summary += " (status lists " + std::to_string(e.candidates.size()) + " of " +
                 std::to_string(d.verdicts.size()) + " nodes)";
  }
  return e;
}

migration::SchedulingOutcome ClusterState::ScheduleMigration(
    const api::VirtualMachineMigration& vmm) {
  using Kind = migration::SchedulingOutcome::Kind;
  std::lock_guard l(mu_);
  const std::string key = vmm.metadata.Key();
  const std::string vm_key = VmKey(vmm.metadata.namespace_, migration::VmNameOf(vmm));
  const std::string requested =
      vmm.status.effective_options ? vmm.status.effective_options->target_node : "";

  std::vector<migration::QueuedMigration> waiting;
  migration::ActiveCounts active;
  bool refused_before = false;
  for (const auto& [k, m] : migrations_) {
    const MigrationPhase p = m.Phase();
    if (IsActivePhase(p)) {
      ++active.cluster;
      ++active.outbound[m.source];
      ++active.inbound[m.Target()];
      continue;
    }
    if (k == key) {
      refused_before = m.refused;
      continue;
    }
    if (p == MigrationPhase::kScheduling && m.Admitted() && !m.deleting) {
      waiting.push_back({k, m.source, m.requested_target, m.priority, m.created, m.refused});
    }
  }
  waiting.push_back({key, vmm.status.source_node, requested,
                     vmm.status.effective_options ? vmm.status.effective_options->priority : 0,
                     vmm.metadata.creation_timestamp.value_or(api::WallTime{}), refused_before});
  const migration::SlotDecision slot = migration::DecideSlot(waiting, active, limits_, key);
  migration::SchedulingOutcome out;
  if (!slot.granted) {
    out.kind = Kind::kWait;
    out.message = slot.reason;
    return out;
  }
  if (auto g = api::FullLabelValue(vmm.metadata, kLabelGroupMove)) {
    return ScheduleGroupMember(vmm, vm_key, VmKey(vmm.metadata.namespace_, *g), requested,
                               slot.full_targets);
  }
  placement::PlacementOptions opts;
  opts.excluded_nodes = slot.full_targets;
  // Never the node the migration leaves (a view that already counts the VM elsewhere must
  // not make its source a target: that ran node-a -> node-a).
  if (!vmm.status.source_node.empty()) opts.excluded_nodes.push_back(vmm.status.source_node);
  const placement::TargetDecision d = placement::ChooseTarget(view_, {vm_key, requested}, opts);
  out.placement = Explain(d);
  out.message = d.reason;
  MigrationEntry& me = migrations_[key];
  me.refused = !d.scheduled;
  if (d.scheduled) {
    out.kind = Kind::kScheduled;
    out.target = d.node;
  } else {
    out.kind = requested.empty() ? Kind::kUnschedulable : Kind::kTargetRejected;
  }
  return out;
}

migration::SchedulingOutcome ClusterState::ScheduleGroupMember(
    const api::VirtualMachineMigration& vmm, const std::string& vm_key, const std::string& group,
    const std::string& requested, const std::vector<std::string>& full_targets) {
  using Kind = migration::SchedulingOutcome::Kind;
  placement::GroupMoveOptions opts;
  opts.excluded_nodes = full_targets;
  // Members that already moved decide where the rest go (docs/adr/0006 §7).
  opts.leaving = vmm.status.source_node;
  const placement::GroupMoveDecision g = placement::PlanGroupMove(view_, group, opts);
  migration::SchedulingOutcome out;
  api::PlacementExplanation e;
  e.decided_at = clock_.WallNow();
  e.summary = g.reason;
  const bool member = std::find(g.moves.begin(), g.moves.end(), vm_key) != g.moves.end();
  const bool from_there = g.node == vmm.status.source_node;
  if (g.feasible && member && !from_there && (requested.empty() || requested == g.node)) {
    e.selected_node = g.node;
    api::PlacementCandidate c;
    c.node = g.node;
    c.verdict = api::PlacementVerdict::kSelected;
    c.score = g.score.total;
    c.reason = placement::DescribeScore(g.score, placement::Weights{});
    e.candidates.push_back(std::move(c));
    out.kind = Kind::kScheduled;
    out.target = g.node;
    out.message = g.reason;
  } else {
    if (!g.feasible) {
      // No node fits the whole group: every line is a refusal.
      for (const std::string& line : g.node_lines) {
        if (e.candidates.size() >= kMaxPlacementCandidates) break;
        const size_t colon = line.find(": ");
        api::PlacementCandidate c;
        c.node = line.substr(0, colon);
        c.reason = colon == std::string::npos ? line : line.substr(colon + 2);
        e.candidates.push_back(std::move(c));
      }
      out.message = g.reason;
    } else if (from_there) {
      out.message = "group " + group + " moves to " + g.node + ", the node vm " + vm_key +
                    " leaves: a migration never targets its source";
    } else if (!member) {
      out.message = "vm " + vm_key + " is not among the members the move of group " + group +
                    " migrates: " + g.reason;
    } else {
      out.message =
          "group " + group + " moves to " + g.node + ", not to the requested node " + requested;
    }
    out.kind = requested.empty() ? Kind::kUnschedulable : Kind::kTargetRejected;
  }
  out.placement = std::move(e);
  migrations_[vmm.metadata.Key()].refused = out.kind != Kind::kScheduled;
  return out;
}

void ClusterState::AssumeAdmitted(const api::VirtualMachineMigration& vmm) {
  std::lock_guard l(mu_);
  MigrationEntry& m = migrations_[vmm.metadata.Key()];
  m.before_last = m.Current();
  m.decision = ++decisions_;
  m.vm_key = VmKey(vmm.metadata.namespace_, vmm.spec.vm_name);
  m.vm_uid = vmm.status.vm_uid;
  m.assumed_admitted = true;
  m.assumed = std::max(m.assumed, MigrationPhase::kScheduling);
  m.source = vmm.status.source_node;
  if (vmm.status.effective_options) {
    m.requested_target = vmm.status.effective_options->target_node;
    m.priority = vmm.status.effective_options->priority;
  }
  m.created = vmm.metadata.creation_timestamp.value_or(api::WallTime{});
}

void ClusterState::AssumeScheduled(const api::VirtualMachineMigration& vmm) {
  std::lock_guard l(mu_);
  MigrationEntry& m = migrations_[vmm.metadata.Key()];
  m.before_last = m.Current();
  m.decision = ++decisions_;
  if (m.vm_key.empty()) m.vm_key = VmKey(vmm.metadata.namespace_, vmm.spec.vm_name);
  m.assumed_admitted = true;
  m.assumed = MigrationPhase::kScheduled;
  m.assumed_target = vmm.status.target_node;
  m.source = vmm.status.source_node;
  m.refused = false;
  SyncMigration(vmm.metadata.Key());
}

void ClusterState::ForgetMigrationAssumption(const std::string& vmm_key) {
  std::lock_guard l(mu_);
  auto it = migrations_.find(vmm_key);
  if (it == migrations_.end()) return;
  // Not "nothing assumed": a decision of this VMM written before (the informer has not shown
  // it yet) still holds its slot — clearing it let a third VMM past a limit of two.
  MigrationEntry& m = it->second;
  const Assumed before = std::exchange(m.before_last, Assumed{});
  m.assumed = before.phase;
  m.assumed_target = before.target;
  m.assumed_admitted = before.admitted;
  m.decision = before.decision;
  m.SettleAssumptions();
  SyncMigration(vmm_key);
}

VmPlacement ClusterState::PlaceVm(const std::string& vm_key) {
  std::lock_guard l(mu_);
  const placement::TargetDecision d = placement::ChooseTarget(view_, {vm_key, ""});
  VmPlacement p;
  p.scheduled = d.scheduled;
  p.node = d.node;
  p.summary = d.reason;
  p.compliant = d.compliant;
  p.compliance = d.compliance;
  p.node_lines = placement::ExplainNodes(view_, d);
  if (!d.scheduled) p.reason_code = placement::ReasonName(d.code);
  return p;
}

void ClusterState::AssumeVmNode(const std::string& vm_key, const std::string& node) {
  std::lock_guard l(mu_);
  auto it = vms_.find(vm_key);
  if (it == vms_.end()) return;
  it->second.assumed_before_last = it->second.assumed_node;
  it->second.assumed_node = node;
  SyncVm(vm_key);
}

void ClusterState::ForgetVmAssumption(const std::string& vm_key) {
  std::lock_guard l(mu_);
  auto it = vms_.find(vm_key);
  if (it == vms_.end() || !it->second.assumed_node) return;
  VmEntry& e = it->second;
  e.assumed_node = std::exchange(e.assumed_before_last, std::nullopt);
  if (e.assumed_node && *e.assumed_node == e.vm.node) e.assumed_node.reset();
  SyncVm(vm_key);
}

StatusOr<placement::DrainPlan> ClusterState::PlanDrain(const std::string& node,
                                                       bool allow_group_moves) {
  std::lock_guard l(mu_);
  placement::DrainOptions opts;
  opts.allow_group_moves = allow_group_moves;
  return placement::PlanDrain(view_, node, opts);
}

placement::RebalancePlan ClusterState::PlanRebalance() {
  std::lock_guard l(mu_);
  return placement::PlanRebalance(view_, {});
}

placement::GroupStatus ClusterState::DescribeGroup(const std::string& group_key) const {
  std::lock_guard l(mu_);
  return placement::DescribeGroup(view_, group_key);
}

}  // namespace ferry::op

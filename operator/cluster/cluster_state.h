// ClusterState: the operator's picture of the cluster for decisions, kept current from
// informer events (one call per object) and from the controllers' own decisions, which are
// counted at once ("assumed", as kube-scheduler does) so that two decisions never take the
// same room before the API server has echoed the first.
//
// It holds what placement needs (nodes = Node + Hypervisor, VMs, server groups, reservations
// of in-flight migrations) and the migration ledger the limits need (each VMM's phase,
// nodes, priority). A VMM's phase in the ledger only moves forward: an informer event older
// than an assumed decision never undoes it; a decision whose write failed is forgotten
// explicitly (Forget*), which undoes that decision only: an earlier decision of the same VMM
// whose write succeeded (and whose echo the informer has not delivered yet) stays counted.
//
// Thread-safe. Decisions that must be atomic with their assumption (a slot, a node) are made
// under decision_mutex(), which the controllers hold from deciding to assuming.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/core_types.h"
#include "api/hypervisor.h"
#include "api/migration.h"
#include "api/servergroup.h"
#include "api/vm.h"
#include "cluster/observations.h"
#include "core/clock.h"
#include "migration/limits.h"
#include "migration/phase_machine.h"
#include "options.h"
#include "placement/cluster_view.h"
#include "placement/drain.h"
#include "placement/group_status.h"
#include "placement/placement.h"
#include "placement/rebalance.h"
#include "vm/migratable.h"

namespace ferry::op {

// The most candidates written to a VMM's status.placement (an object must stay well under
// etcd's 1.5 MiB limit; at ~100 bytes each, 256 candidates are ~25 KiB). The summary always
// counts every node.
inline constexpr size_t kMaxPlacementCandidates = 256;

// How long an assumption whose write got no definite answer is kept when the informer shows
// nothing newer of the object (a write that landed is echoed within a second by a working
// watch). Two minutes: long enough for a watch to recover from a short API-server outage,
// short enough that a slot or a node held by a write that never landed frees up on its own;
// holding longer is the safe side (fewer decisions, never two that exclude each other).
inline constexpr std::chrono::seconds kUncertainWriteTtl{120};

// VMM label: this migration is one member's part of moving strict-affinity group <value> (a
// group of the VMM's namespace) as a unit. Such a VMM is scheduled by the group-move planner:
// the first member scheduled picks the node for all, the others follow that move under way.
// The evacuation controller sets it; anyone may (kubectl ferry, a person moving a group).
// A group name longer than a label value is written hashed with the full name in the
// annotation of the same key (api::SetLongLabel; read with api::FullLabelValue).
inline constexpr const char* kLabelGroupMove = "ferry.dev/group-move";

struct VmPlacement {
  bool scheduled = false;
  std::string node;
  std::string reason_code;  // placement reason name for metrics/conditions ("Memory", ...)
  std::string summary;      // one line
  std::vector<std::string> node_lines;  // "node-3: memory: needs 4Gi, free 2Gi", per node
  bool compliant = true;
  std::string compliance;
};

// How a handler's heartbeat is judged alive.
enum class HeartbeatJudgement {
  // By the operator's own monotonic clock: alive while the value was seen to change within
  // the timeout (Observations). The operator decides with this.
  kObserved,
  // lastHeartbeatTime against this process's wall clock: for one-shot readers (kubectl
  // ferry plan/status) that cannot watch a value change; they decide nothing.
  kHandlerWallClock,
};

class ClusterState {
 public:
  ClusterState(Clock& clock, std::chrono::nanoseconds heartbeat_timeout, MigrationLimits limits,
               HeartbeatJudgement judgement = HeartbeatJudgement::kObserved);
  // The period of RefreshHeartbeats (--heartbeat-check-interval): a gap between checkpoints
  // longer than it + 2 s is a pause of this process, after which every observation restarts.
  void SetTickInterval(std::chrono::nanoseconds interval);

  // ---- informer feeds ----
  void UpsertNode(const api::Node& node);
  void RemoveNode(const std::string& name);
  void UpsertHypervisor(const api::Hypervisor& hv);
  void RemoveHypervisor(const std::string& name);
  void UpsertVm(const api::VirtualMachine& vm);
  void RemoveVm(const std::string& key);
  void UpsertGroup(const api::ServerGroup& group);
  void RemoveGroup(const std::string& key);
  void UpsertMigration(const api::VirtualMachineMigration& vmm);
  void RemoveMigration(const std::string& key);
  // The periodic checkpoint (the operator's tick): detects a pause of this process (every
  // observation then restarts from now), then re-judges every heartbeat; returns the nodes
  // whose handler changed between alive and lost since the last call (also by an informer
  // event in between).
  std::vector<std::string> RefreshHeartbeats();

  // ---- facts ----
  bool HandlerAlive(const std::string& node) const;
  // The handler's own heartbeat time, for messages only.
  std::optional<api::WallTime> LastHeartbeat(const std::string& node) const;
  // How long this process has watched the node's heartbeat not change (monotonic).
  std::optional<std::chrono::nanoseconds> HandlerSilence(const std::string& node) const;
  // How long this process has seen `vmm` (by uid) in its current phase (monotonic; recorded
  // now when it has not yet). Phase deadlines run from here.
  std::chrono::nanoseconds ObservedPhaseAge(const api::VirtualMachineMigration& vmm) const;
  std::string TargetProblem(const std::string& node) const;
  std::string ActiveMigrationOf(const std::string& vm_key, const std::string& vmm_key) const;
  // Cordoned, or tainted ferry.dev/drain.
  bool NodeDraining(const std::string& node) const;
  std::vector<std::string> DrainingNodes() const;
  // Keys of VMMs waiting (Pending or Scheduling): reconciled again when slots or room free up.
  std::vector<std::string> WaitingMigrations() const;
  // Keys of unfinished VMMs with `node` as source or target.
  std::vector<std::string> MigrationsTouching(const std::string& node) const;
  // VMMs per phase (the ledger's view), for the migrations-by-phase metric.
  std::map<api::MigrationPhase, int> PhaseCounts() const;
  // Unfinished VMMs (by their status phase) with GuestLocationUnknown True, for the gauge.
  int GuestLocationUnknownCount() const;
  // Changes to nodes, capacity or reservations (not to migration phases alone).
  uint64_t generation() const;
  // The hardware of every node with a Node object and a live Hypervisor (ready, fresh
  // heartbeat) for Migratable, and a counter that moves when any of it changes (a node
  // joining, leaving, its handler lost or back; not on every heartbeat).
  std::shared_ptr<const std::vector<vm::HostFacts>> Hosts() const;
  uint64_t hosts_generation() const;

  // ---- decisions (call with decision_mutex() held, then assume or not) ----
  std::mutex& decision_mutex() { return decision_mu_; }

  // Limits, then placement, for an admitted VMM in Scheduling (status as admitted).
  migration::SchedulingOutcome ScheduleMigration(const api::VirtualMachineMigration& vmm);
  // Each assumption remembers what was assumed before it, for ForgetMigrationAssumption.
  // The caller reconciles one VMM at a time (its work queue's guarantee): between an
  // Assume* and its Forget no other decision of that VMM is assumed.
  void AssumeAdmitted(const api::VirtualMachineMigration& vmm_with_status);
  void AssumeScheduled(const api::VirtualMachineMigration& vmm_with_status);
  // The write of the last assumed decision of `vmm_key` failed: back to what was assumed
  // before it (an earlier decision whose write succeeded keeps its slot and reservation until
  // the informer shows it), or to what the informer said when nothing was.
  void ForgetMigrationAssumption(const std::string& vmm_key);

  // The write of the last assumed decision of `vmm_key` got no definite answer (a timeout,
  // a 5xx, a reset connection: kube::WriteMayHaveLanded): it may have landed, so the
  // assumption stays (ADR 6 §5) until the informer shows the VMM at a resourceVersion newer
  // than `written_against` — showing the decision (kept and settled as usual) or not
  // (forgotten as by ForgetMigrationAssumption) — or until kUncertainWriteTtl passes
  // (ExpireUncertainAssumptions). Only a definite refusal (409, 400/422, 403, 404) forgets at
  // once.
  void KeepUncertainMigrationAssumption(const std::string& vmm_key,
                                        const std::string& written_against);
  // The same for a VM's node (placement or flip).
  void KeepUncertainVmAssumption(const std::string& vm_key, const std::string& written_against);
  // Forgets uncertain assumptions older than kUncertainWriteTtl (the operator's tick).
  void ExpireUncertainAssumptions();

  // A node for an unplaced VM (and the per-node reasons when none fits).
  VmPlacement PlaceVm(const std::string& vm_key);
  // As for migrations: one decision per VM at a time; Forget undoes the last Assume only
  // (a node assumed and written before stays until the informer shows it).
  void AssumeVmNode(const std::string& vm_key, const std::string& node);
  void ForgetVmAssumption(const std::string& vm_key);

  StatusOr<placement::DrainPlan> PlanDrain(const std::string& node, bool allow_group_moves);
  placement::RebalancePlan PlanRebalance();
  placement::GroupStatus DescribeGroup(const std::string& group_key) const;

 private:
  struct NodeEntry {
    std::optional<api::Node> node;
    std::optional<api::Hypervisor> hv;
    bool alive = false;
    // `alive` as RefreshHeartbeats last returned it: a handler seen again by an informer
    // event (UpsertHypervisor) is reported by the next refresh too, so its migrations are
    // looked at again (a GuestLocationUnknown mark is cleared without waiting for a resync).
    bool reported_alive = false;
  };
  struct VmEntry {
    placement::Vm vm;
    std::string uid;
    std::optional<std::string> assumed_node;
    std::optional<std::string> assumed_before_last;  // restored by ForgetVmAssumption
    std::string Node() const { return assumed_node ? *assumed_node : vm.node; }
    // Set while the write of `uncertain_node` had no definite answer (see KeepUncertain*).
    std::optional<std::string> uncertain_rv;
    std::optional<std::string> uncertain_node;
    std::optional<std::string> uncertain_before;
    Clock::TimePoint uncertain_until{};
  };
  // What a decision assumed about one VMM (all unset: nothing assumed).
  struct Assumed {
    api::MigrationPhase phase = api::MigrationPhase::kUnset;
    std::string target;
    bool admitted = false;
    uint64_t decision = 0;  // which Assume* made it (0: none): equal values of two decisions differ
    friend bool operator==(const Assumed&, const Assumed&) = default;
  };
  // An assumption whose write got no definite answer.
  struct Uncertain {
    std::string written_against;  // resourceVersion the write was made against
    Assumed value;                // what the uncertain decision assumed
    Assumed before;               // what was assumed before it
    Clock::TimePoint until{};
  };
  struct MigrationEntry {
    std::string vm_key;
    std::string vm_uid;  // status.vmUID: the VM it was admitted for
    api::MigrationPhase observed = api::MigrationPhase::kUnset;
    api::MigrationPhase assumed = api::MigrationPhase::kUnset;
    bool finalizer = false;
    bool assumed_admitted = false;
    // What was assumed before the last Assume*, restored when its write fails.
    Assumed before_last;
    std::optional<Uncertain> uncertain;
    bool deleting = false;
    bool refused = false;
    bool location_unknown = false;  // condition GuestLocationUnknown True
    std::string source;
    std::string target;
    std::string assumed_target;
    std::string requested_target;
    int64_t priority = 0;
    api::WallTime created{};
    api::MigrationPhase Phase() const;
    std::string Target() const { return assumed_target.empty() ? target : assumed_target; }
    bool Admitted() const { return finalizer || assumed_admitted; }
    uint64_t decision = 0;  // the Assume* the current assumption came from
    Assumed Current() const { return {assumed, assumed_target, assumed_admitted, decision}; }
    // Drops what the informer has caught up with (or passed).
    void SettleAssumptions();
  };

  // Judges `name`'s handler alive now (mu_ held; the heartbeat already seen).
  bool Alive(const std::string& name, const api::Hypervisor& hv) const;
  // Push one object's current state into the view (mu_ held).
  void SyncNode(const std::string& name);
  void SyncVm(const std::string& key);
  void SyncMigration(const std::string& key);
  void SyncMigrationsOf(const std::string& vm_key);
  // The informer shows the object at `rv` (mu_ held): settles an uncertain write made against an
  // older version (uncertain_writes.cc).
  void SettleUncertainMigration(MigrationEntry& m, const std::string& rv);
  void SettleUncertainVm(VmEntry& e, const std::string& rv);
  void Check(const Status& st, const std::string& what);
  bool HoldsReservation(const MigrationEntry& m) const;
  api::PlacementExplanation Explain(const placement::TargetDecision& d) const;
  migration::SchedulingOutcome ScheduleGroupMember(const api::VirtualMachineMigration& vmm,
                                                   const std::string& vm_key,
                                                   const std::string& group,
                                                   const std::string& requested,
                                                   const std::vector<std::string>& full_targets);

  Clock& clock_;
  const std::chrono::nanoseconds heartbeat_timeout_;
  const MigrationLimits limits_;
  const HeartbeatJudgement judgement_;
  mutable Observations observations_;

  std::mutex decision_mu_;
  mutable std::mutex mu_;
  std::map<std::string, NodeEntry> nodes_;
  std::map<std::string, VmEntry> vms_;
  std::map<std::string, placement::ServerGroup> groups_;
  std::map<std::string, MigrationEntry> migrations_;
  std::set<std::string> in_view_;  // migrations whose reservation the view holds
  std::map<std::string, vm::HostFacts> hosts_;
  uint64_t hosts_generation_ = 0;
  uint64_t decisions_ = 0;  // Assume* calls so far (MigrationEntry::decision)
  mutable std::shared_ptr<const std::vector<vm::HostFacts>> hosts_cache_;
  placement::ClusterView view_;
};

}  // namespace ferry::op

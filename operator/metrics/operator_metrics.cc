#include "metrics/operator_metrics.h"

#include <array>

namespace ferry::op {
namespace {

// A decision is one pass over the nodes: microseconds for tens of nodes, a few milliseconds
// at thousands.
const prometheus::Histogram::BucketBoundaries kPlacementBuckets = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1};

constexpr std::array<api::MigrationPhase, 9> kPhases = {
    api::MigrationPhase::kPending,     api::MigrationPhase::kScheduling,
    api::MigrationPhase::kScheduled,   api::MigrationPhase::kPreparingTarget,
    api::MigrationPhase::kTargetReady, api::MigrationPhase::kRunning,
    api::MigrationPhase::kSucceeded,   api::MigrationPhase::kFailed,
    api::MigrationPhase::kCancelled};

// The decision kinds ObservePlacement is called with.
constexpr const char* kDecisions[] = {"vm", "migration", "drain", "rebalance"};

std::string PhaseLabel(api::MigrationPhase p) {
  std::string s(api::ToString(p));
  return s.empty() ? "Pending" : s;
}

}  // namespace

OperatorMetrics::OperatorMetrics(prometheus::Registry& registry)
    : migrations_(prometheus::BuildGauge()
                      .Name("ferry_migrations")
                      .Help("VirtualMachineMigrations by phase, as the operator sees them.")
                      .Register(registry)),
      transitions_(prometheus::BuildCounter()
                       .Name("ferry_migration_transitions_total")
                       .Help("Migration phases written by the operator, by phase.")
                       .Register(registry)),
      placement_(
          prometheus::BuildHistogram()
              .Name("ferry_placement_decision_duration_seconds")
              .Help("Time of one placement decision (limits, filters, scores), by decision kind.")
              .Register(registry)),
      unschedulable_(prometheus::BuildCounter()
                         .Name("ferry_placement_unschedulable_total")
                         .Help("Placement answers that found no node, by reason code.")
                         .Register(registry)),
      violations_(prometheus::BuildGauge()
                      .Name("ferry_servergroup_violations")
                      .Help("Members of a server group that break its rule where they are.")
                      .Register(registry)),
      evacuation_(prometheus::BuildGauge()
                      .Name("ferry_evacuation_remaining_vms")
                      .Help("Running VMs still on a node being drained.")
                      .Register(registry)),
      guest_location_unknown_(
          prometheus::BuildGauge()
              .Name("ferry_migration_guest_location_unknown")
              .Help("Unfinished migrations with condition GuestLocationUnknown=True: a handler "
                    "was lost while the migration ran and nobody can say where the guest runs.")
              .Register(registry)
              .Add({})) {
  // Counters and histograms exist at 0 for every known label value: a series born at its
  // first increment has no earlier sample, so increase() and rate() would miss that event.
  for (api::MigrationPhase p : kPhases) {
    migrations_.Add({{"phase", PhaseLabel(p)}}).Set(0);
    transitions_.Add({{"phase", PhaseLabel(p)}});
  }
  for (const char* d : kDecisions) placement_.Add({{"decision", d}}, kPlacementBuckets);
}

void OperatorMetrics::SetMigrationsByPhase(const std::map<api::MigrationPhase, int>& counts) {
  for (api::MigrationPhase p : kPhases) {
    int n = 0;
    if (auto it = counts.find(p); it != counts.end()) n += it->second;
    if (p == api::MigrationPhase::kPending) {
      if (auto it = counts.find(api::MigrationPhase::kUnset); it != counts.end()) n += it->second;
    }
    migrations_.Add({{"phase", PhaseLabel(p)}}).Set(n);
  }
}

void OperatorMetrics::CountTransition(api::MigrationPhase phase) {
  transitions_.Add({{"phase", PhaseLabel(phase)}}).Increment();
}

void OperatorMetrics::ObservePlacement(const std::string& decision, double seconds) {
  placement_.Add({{"decision", decision}}, kPlacementBuckets).Observe(seconds);
}

void OperatorMetrics::CountUnschedulable(const std::string& reason) {
  unschedulable_.Add({{"reason", reason}}).Increment();
}

void OperatorMetrics::SetGroupViolations(const std::string& ns, const std::string& group,
                                         int violations) {
  violations_.Add({{"namespace", ns}, {"servergroup", group}}).Set(violations);
}

void OperatorMetrics::ForgetGroup(const std::string& ns, const std::string& group) {
  auto& g = violations_.Add({{"namespace", ns}, {"servergroup", group}});
  violations_.Remove(&g);
}

void OperatorMetrics::SetEvacuationRemaining(const std::string& node, int vms) {
  evacuation_.Add({{"node", node}}).Set(vms);
}

void OperatorMetrics::ForgetEvacuation(const std::string& node) {
  auto& g = evacuation_.Add({{"node", node}});
  evacuation_.Remove(&g);
}

void OperatorMetrics::SetGuestLocationUnknown(int vmms) { guest_location_unknown_.Set(vmms); }

}  // namespace ferry::op

// The operator's own Prometheus families (DESIGN §6). Reconcile totals, errors and latency
// per controller and the work-queue depth come from lib/controller through the Manager; the
// leader gauge and cache sizes from the Manager.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <string>

#include "api/migration.h"

namespace ferry::op {

class OperatorMetrics {
 public:
  explicit OperatorMetrics(prometheus::Registry& registry);

  // ferry_migrations{phase}: VMMs per phase as the operator sees them.
  void SetMigrationsByPhase(const std::map<api::MigrationPhase, int>& counts);
  // ferry_migration_transitions_total{phase}: phases the operator wrote.
  void CountTransition(api::MigrationPhase phase);
  // ferry_placement_decision_duration_seconds{decision}: one placement decision
  // (decision = vm | migration | drain | rebalance).
  void ObservePlacement(const std::string& decision, double seconds);
  // ferry_placement_unschedulable_total{reason}: unschedulable answers by reason code.
  void CountUnschedulable(const std::string& reason);
  // ferry_servergroup_violations{namespace,servergroup}.
  void SetGroupViolations(const std::string& ns, const std::string& group, int violations);
  void ForgetGroup(const std::string& ns, const std::string& group);
  // ferry_evacuation_remaining_vms{node}: VMs still to leave a node being drained.
  void SetEvacuationRemaining(const std::string& node, int vms);
  void ForgetEvacuation(const std::string& node);
  // ferry_migration_guest_location_unknown: unfinished VMMs with condition
  // GuestLocationUnknown=True (ADR 6 §2: nobody can say where the guest runs; the alert
  // FerryGuestLocationUnknown fires on it).
  void SetGuestLocationUnknown(int vmms);

 private:
  prometheus::Family<prometheus::Gauge>& migrations_;
  prometheus::Family<prometheus::Counter>& transitions_;
  prometheus::Family<prometheus::Histogram>& placement_;
  prometheus::Family<prometheus::Counter>& unschedulable_;
  prometheus::Family<prometheus::Gauge>& violations_;
  prometheus::Family<prometheus::Gauge>& evacuation_;
  prometheus::Gauge& guest_location_unknown_;
};

}  // namespace ferry::op

// Auto's start: the guest's dirty rate measured before the migration, the start chosen from
// it by the pure start policy (start_policy.h), and the plan adjusted to it.
#include <cstdio>

#include "migration/migration_engine.h"
#include "migration/start_policy.h"

namespace ferry::migration {

void Migration::ChooseStart(MigrationPlan& plan) {
  StartInputs in;
  in.bandwidth_bytes_per_s = options_.bandwidth_bytes_per_s;
  in.memory_bytes = facts_.memory_bytes;
  in.allow_postcopy = plan.policy.allow_postcopy;
  in.downtime_schedule_ms = plan.policy.downtime_schedule_ms;
  bool measured_ok = true;
  if (in.bandwidth_bytes_per_s == 0) {
    // Nothing to project with: do not spend the measurement's time.
    in.not_measured = "no bandwidth cap, so no link speed to project with";
  } else if (auto rate = hv_.MeasureDirtyRate(options_.domain, options_.premeasure); rate.ok()) {
    in.dirty_rate = *rate;
  } else {
    measured_ok = false;
    in.not_measured = "measurement failed: " + rate.status().message();
  }
  StartConfig config;
  const StartDecision d = DecideStart(in, config);
  switch (d.kind) {
    case StartKind::kPostCopyFirst:
      plan.policy.postcopy_first_after = config.postcopy_window;
      break;
    case StartKind::kPreCopyRaisedDowntime:
      plan.policy.start_at_max_downtime = true;
      plan.initial_downtime_ms = d.initial_downtime_ms;
      break;
    case StartKind::kPreCopy:
    case StartKind::kReactive:
      break;
  }
  Action a{ActionKind::kStartDecision, Millis(0),
           std::string(StartKindName(d.kind)) + ": " + d.reason};
  a.dirty_rate_bytes_per_s = in.dirty_rate ? in.dirty_rate->bytes_per_s : 0;
  a.transfer_rate_bytes_per_s = in.bandwidth_bytes_per_s;
  a.remaining_bytes = in.memory_bytes;
  a.max_downtime_ms = plan.initial_downtime_ms;
  a.ok = measured_ok;
  Report(a);
}

}  // namespace ferry::migration

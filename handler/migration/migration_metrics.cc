#include "migration/migration_metrics.h"

#include "migration/migration_plan.h"

namespace ferry::migration {
namespace {

prometheus::Family<prometheus::Gauge>& G(prometheus::Registry& r, const char* name,
                                         const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

// Buckets: a quiet small guest moves in about a second, a hot one under a cap in a minute or
// more; downtime goals are tens to hundreds of ms.
const prometheus::Histogram::BucketBoundaries kDurationBuckets{1,  2,   5,   10,  20,  30,
                                                               60, 120, 300, 600, 1800};
const prometheus::Histogram::BucketBoundaries kDowntimeBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.2,
                                                               0.3,   0.5,  1,     2,    5,   30};

// Every label value the counters and histograms can take, created at 0 up front: a series
// born at its first increment has no earlier sample, so Prometheus' increase() and rate()
// miss that first migration (the first failure after a restart would not count).
constexpr const char* kModes[] = {"precopy", "postcopy", "offline"};
constexpr Outcome kOutcomes[] = {Outcome::kSucceeded,          Outcome::kFailed,
                                 Outcome::kCancelled,          Outcome::kAborted,
                                 Outcome::kPostCopyRecovering, Outcome::kDetached};
constexpr ActionKind kActions[] = {ActionKind::kSetMaxDowntime,   ActionKind::kAutoConvergeEngaged,
                                   ActionKind::kSwitchToPostCopy, ActionKind::kAbort,
                                   ActionKind::kCancel,           ActionKind::kPostCopyRecovery,
                                   ActionKind::kAttach,           ActionKind::kShutdown,
                                   ActionKind::kResume,           ActionKind::kDetach,
                                   ActionKind::kStartDecision};

}  // namespace

MigrationMetrics::MigrationMetrics(prometheus::Registry& registry)
    : total_(G(registry, "ferry_migration_data_total_bytes",
               "Bytes the running migration has to move (memory and disks).")),
      processed_(G(registry, "ferry_migration_data_processed_bytes",
                   "Bytes the running migration has moved so far.")),
      remaining_(G(registry, "ferry_migration_data_remaining_bytes",
                   "Bytes the running migration still has to move in this pass.")),
      dirty_(G(registry, "ferry_migration_dirty_rate_bytes_per_second",
               "Rate at which the guest dirties memory during the running migration.")),
      transfer_(G(registry, "ferry_migration_transfer_rate_bytes_per_second",
                  "Memory transfer rate of the running migration.")),
      iteration_(G(registry, "ferry_migration_iteration",
                   "Memory pass of the running migration (1 = first full pass).")),
      throttle_(G(registry, "ferry_migration_cpu_throttle_ratio",
                  "Auto-converge vCPU throttle of the running migration (0..1).")),
      postcopy_(G(registry, "ferry_migration_postcopy",
                  "1 when the running migration has switched to post-copy.")),
      duration_(prometheus::BuildHistogram()
                    .Name("ferry_migration_duration_seconds")
                    .Help("Total time of finished migrations, by mode used.")
                    .Register(registry)),
      downtime_(prometheus::BuildHistogram()
                    .Name("ferry_migration_downtime_seconds")
                    .Help("Guest downtime of successful migrations, by mode used.")
                    .Register(registry)),
      results_(prometheus::BuildCounter()
                   .Name("ferry_migration_results_total")
                   .Help("Finished migrations, by mode used and result.")
                   .Register(registry)),
      actions_(prometheus::BuildCounter()
                   .Name("ferry_migration_actions_total")
                   .Help("Convergence and control actions taken, by action.")
                   .Register(registry)) {
  for (const char* mode : kModes) {
    for (Outcome o : kOutcomes) results_.Add({{"mode", mode}, {"result", OutcomeName(o)}});
    duration_.Add({{"mode", mode}}, kDurationBuckets);
    downtime_.Add({{"mode", mode}}, kDowntimeBuckets);
  }
  for (ActionKind a : kActions) actions_.Add({{"action", ActionKindName(a)}});
}

std::string MigrationMetrics::OnStart(const MigrationOptions& o) {
  std::lock_guard<std::mutex> l(mu_);
  const std::string vm = o.vm_label.empty() ? o.domain : o.vm_label;
  const std::string key = o.namespace_label + "/" + vm;
  if (auto it = series_.find(key); it != series_.end()) RemoveSeries(it->second);
  const prometheus::Labels labels{{"namespace", o.namespace_label}, {"vm", vm}};
  Series s;
  s.total = &total_.Add(labels);
  s.processed = &processed_.Add(labels);
  s.remaining = &remaining_.Add(labels);
  s.dirty = &dirty_.Add(labels);
  s.transfer = &transfer_.Add(labels);
  s.iteration = &iteration_.Add(labels);
  s.throttle = &throttle_.Add(labels);
  s.postcopy = &postcopy_.Add(labels);
  series_[key] = s;
  return key;
}

void MigrationMetrics::OnSample(const std::string& key, const JobSample& sample) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = series_.find(key);
  if (it == series_.end()) return;
  Series& s = it->second;
  s.total->Set(static_cast<double>(sample.data_total));
  s.processed->Set(static_cast<double>(sample.data_processed));
  s.remaining->Set(static_cast<double>(sample.data_remaining));
  s.dirty->Set(static_cast<double>(sample.dirty_rate_bytes_per_s));
  s.transfer->Set(static_cast<double>(sample.transfer_rate_bytes_per_s));
  s.iteration->Set(static_cast<double>(sample.iteration));
  s.throttle->Set(sample.throttle_percent / 100.0);
  s.postcopy->Set(sample.postcopy ? 1 : 0);
}

void MigrationMetrics::OnAction(const Action& a) {
  std::lock_guard<std::mutex> l(mu_);
  actions_.Add({{"action", ActionKindName(a.kind)}}).Increment();
}

void MigrationMetrics::OnFinish(const std::string& key, const MigrationResult& r) {
  std::lock_guard<std::mutex> l(mu_);
  if (auto it = series_.find(key); it != series_.end()) {
    RemoveSeries(it->second);
    series_.erase(it);
  }
  const std::string mode = r.mode_used.empty() ? "unknown" : r.mode_used;
  results_.Add({{"mode", mode}, {"result", OutcomeName(r.outcome)}}).Increment();
  duration_.Add({{"mode", mode}}, kDurationBuckets)
      .Observe(static_cast<double>(r.total_time.count()) / 1000.0);
  if (r.outcome == Outcome::kSucceeded && r.downtime) {
    downtime_.Add({{"mode", mode}}, kDowntimeBuckets)
        .Observe(static_cast<double>(r.downtime->count()) / 1000.0);
  }
}

void MigrationMetrics::RemoveSeries(Series& s) {
  total_.Remove(s.total);
  processed_.Remove(s.processed);
  remaining_.Remove(s.remaining);
  dirty_.Remove(s.dirty);
  transfer_.Remove(s.transfer);
  iteration_.Remove(s.iteration);
  throttle_.Remove(s.throttle);
  postcopy_.Remove(s.postcopy);
  s = {};
}

}  // namespace ferry::migration

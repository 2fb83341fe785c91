#include "agent/migration_report.h"

#include <fmt/printf.h>

#include <algorithm>

#include "api/group.h"

namespace ferry::agent {
namespace {

using migration::JobSample;

double Remaining(const JobSample& s) {
  return static_cast<double>(s.memory_total > 0 ? s.memory_remaining : s.data_remaining);
}

}  // namespace

int64_t ProgressPercent(const JobSample& s) {
  const double total = static_cast<double>(s.memory_total > 0 ? s.memory_total : s.data_total);
  if (total <= 0) return 0;
  const double remaining = std::min(Remaining(s), total);
  const int64_t p = static_cast<int64_t>(100.0 * (total - remaining) / total);
  if (remaining > 0) return std::clamp<int64_t>(p, 0, 99);
  return 100;
}

api::MigrationProgress ProgressStatus(const JobSample& s,
                                      std::optional<std::chrono::nanoseconds> eta,
                                      std::optional<api::WallTime> post_copy_started,
                                      uint32_t current_max_downtime_ms, api::WallTime now) {
  api::MigrationProgress p;
  p.total_bytes = static_cast<int64_t>(s.data_total);
  p.processed_bytes = static_cast<int64_t>(s.data_processed);
  p.remaining_bytes = static_cast<int64_t>(s.data_remaining);
  p.dirty_rate_bytes_per_second = static_cast<int64_t>(s.dirty_rate_bytes_per_s);
  p.transfer_rate_bytes_per_second = static_cast<int64_t>(s.transfer_rate_bytes_per_s);
  p.iteration = static_cast<int64_t>(s.iteration);
  p.percent = ProgressPercent(s);
  p.post_copy_started_at = post_copy_started;
  if (current_max_downtime_ms > 0)
    p.current_max_downtime = std::chrono::milliseconds(current_max_downtime_ms);
  p.auto_converge_throttle_percent = std::clamp(s.throttle_percent, 0, 100);
  // Whole seconds, rounded up: an estimate, and what `kubectl get vmm` shows.
  if (eta) p.estimated_time_remaining = std::chrono::ceil<std::chrono::seconds>(*eta);
  p.updated_at = now;
  return p;
}

api::ConvergenceAction ConvergenceActionOf(const migration::Action& a, api::WallTime now) {
  api::ConvergenceAction c;
  c.time = now;
  c.action = migration::ActionKindName(a.kind);
  c.detail = a.reason;
  if (!a.ok) c.detail += " (not accepted)";
  return c;
}

bool IsWarning(const migration::Action& a) {
  return !a.ok || a.kind == migration::ActionKind::kAbort ||
         a.kind == migration::ActionKind::kCancel ||
         a.kind == migration::ActionKind::kPostCopyRecovery;
}

MigrationEnd Terminal(api::MigrationPhase phase, std::string reason, std::string message) {
  MigrationEnd e;
  e.terminal = true;
  e.phase = phase;
  e.reason = std::move(reason);
  e.message = std::move(message);
  return e;
}

MigrationEnd EndOf(const migration::MigrationResult& r) {
  MigrationEnd e;
  switch (r.outcome) {
    case migration::Outcome::kSucceeded: {
      e.terminal = true;
      e.phase = api::MigrationPhase::kSucceeded;
      e.reason = "Succeeded";
      e.message = fmt::sprintf("%s migration in %.1f s", r.mode_used.c_str(),
                               static_cast<double>(r.total_time.count()) / 1000.0);
      if (r.downtime) {
        e.downtime = *r.downtime;
        e.message +=
            fmt::sprintf(", downtime %lld ms", static_cast<long long>(r.downtime->count()));
      }
      e.message += fmt::sprintf(", %.1f MiB sent, %llu iterations",
                                static_cast<double>(r.bytes_sent) / 1048576.0,
                                static_cast<unsigned long long>(r.iterations));
      if (r.attached) e.message += " (re-attached after a handler restart)";
      if (r.location_seen_by == "source") e.message += "; the domain left the source";
      return e;
    }
    case migration::Outcome::kCancelled:
      e.terminal = true;
      e.phase = api::MigrationPhase::kCancelled;
      e.reason = "Cancelled";
      e.message = r.status.message().empty() ? "cancelled; the guest runs on the source"
                                             : r.status.message();
      return e;
    case migration::Outcome::kAborted:
      e.terminal = true;
      e.phase = api::MigrationPhase::kFailed;
      e.reason = api::kReasonConvergenceTimeout;
      e.message = r.status.message();
      return e;
    case migration::Outcome::kFailed:
      e.terminal = true;
      e.phase = api::MigrationPhase::kFailed;
      e.reason = kReasonMigrationFailed;
      e.message = r.status.message();
      return e;
    case migration::Outcome::kPostCopyRecovering:
      e.recovering = true;
      e.reason = api::kConditionPostCopyRecovering;
      e.message = r.status.message();
      return e;
    case migration::Outcome::kDetached:
      e.detached = true;
      return e;
  }
  return e;
}

}  // namespace ferry::agent

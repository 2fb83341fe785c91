#include "migration/convergence_policy.h"

#include <fmt/printf.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace ferry::migration {
namespace {

double MiB(std::uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }
double Secs(Millis m) { return static_cast<double>(m.count()) / 1000.0; }

// Bytes still to move in this memory pass (the whole job when memory figures are absent).
std::uint64_t Remaining(const JobSample& s) {
  return s.memory_total > 0 ? s.memory_remaining : s.data_remaining;
}

}  // namespace

const char* DecisionKindName(DecisionKind k) {
  switch (k) {
    case DecisionKind::kContinue:
      return "continue";
    case DecisionKind::kRaiseMaxDowntime:
      return "raise-max-downtime";
    case DecisionKind::kAutoConvergeEngaged:
      return "auto-converge-engaged";
    case DecisionKind::kSwitchToPostCopy:
      return "switch-to-postcopy";
    case DecisionKind::kAbort:
      return "abort";
  }
  return "?";
}

ConvergencePolicy::ConvergencePolicy(PolicyConfig config) : config_(std::move(config)) {
  if (config_.downtime_schedule_ms.empty()) config_.downtime_schedule_ms = {300};
  std::sort(config_.downtime_schedule_ms.begin(), config_.downtime_schedule_ms.end());
  // A step to the same value is no raise (found by fuzzing: a schedule with a repeated value).
  config_.downtime_schedule_ms.erase(
      std::unique(config_.downtime_schedule_ms.begin(), config_.downtime_schedule_ms.end()),
      config_.downtime_schedule_ms.end());
  if (config_.projection_samples < 1) config_.projection_samples = 1;
  if (config_.start_at_max_downtime) step_ = config_.downtime_schedule_ms.size() - 1;
}

Decision ConvergencePolicy::Switch(std::string why) {
  return {DecisionKind::kSwitchToPostCopy, 0, std::move(why)};
}

void ConvergencePolicy::OnSwitch(bool accepted, Millis at) {
  if (accepted) {
    switched_ = true;
    return;
  }
  ++switch_refusals_;
  switch_retry_at_ = at + config_.switch_retry_after;
}

void ConvergencePolicy::OnAbort(bool accepted) { abort_accepted_ = abort_accepted_ || accepted; }

std::string ConvergencePolicy::CannotSwitch(const JobSample& s, const TargetHealth& target) const {
  if (!config_.allow_postcopy) return "post-copy not allowed";
  if (switch_refusals_ >= config_.max_switch_attempts) {
    return fmt::sprintf("post-copy given up after %d refused switches", switch_refusals_);
  }
  if (switch_refusals_ > 0 && s.elapsed < switch_retry_at_) {
    return fmt::sprintf("the last post-copy switch was refused (%d so far)", switch_refusals_);
  }
  if (!link_healthy_)
    return fmt::sprintf("link unhealthy (no bytes for %.1f s)",
                        Secs(s.elapsed - last_transfer_at_));
  if (!target.alive) {
    return "target libvirtd not confirmed alive" +
           (target.detail.empty() ? std::string() : " (" + target.detail + ")");
  }
  return "";
}

Decision ConvergencePolicy::Observe(const JobSample& s, const TargetHealth& target) {
  Decision d = Decide(s, target);
  projection_ = Project(s, target);
  return d;
}

std::optional<Millis> ConvergencePolicy::Project(const JobSample& s,
                                                 const TargetHealth& target) const {
  if (!s.active || abort_accepted_) return std::nullopt;
  const double remaining = static_cast<double>(Remaining(s));
  // Beyond ~30 years the projection means nothing, and past 2^63 ms converting it to an
  // integer is undefined (found by fuzzing: a huge remaining at a few bytes per second).
  const auto ms = [](double secs) -> std::optional<Millis> {
    if (!(secs < 1e9)) return std::nullopt;
    return Millis(static_cast<std::int64_t>(secs * 1000.0));
  };
  if (s.postcopy || switched_ || s.iteration < 2) {
    // Everything left moves once at the transfer rate.
    if (s.transfer_rate_bytes_per_s == 0) return std::nullopt;
    return ms(remaining / static_cast<double>(s.transfer_rate_bytes_per_s));
  }
  if (recent_.empty()) return std::nullopt;
  double d = 0, b = 0;
  for (const auto& r : recent_) {
    d += static_cast<double>(r.dirty_rate_bytes_per_s);
    b += static_cast<double>(r.transfer_rate_bytes_per_s);
  }
  d /= static_cast<double>(recent_.size());
  b /= static_cast<double>(recent_.size());
  if (b <= 0) return std::nullopt;
  const double t_pre = d >= b ? std::numeric_limits<double>::infinity() : remaining / (b - d);
  if (CannotSwitch(s, target).empty()) {
    const double t_post = remaining / b + Secs(config_.postcopy_switch_cost);
    if (t_pre > config_.postcopy_time_advantage * t_post) return ms(t_post);
  }
  if (t_pre == std::numeric_limits<double>::infinity()) return std::nullopt;
  return ms(t_pre);
}

Decision ConvergencePolicy::Decide(const JobSample& s, const TargetHealth& target) {
  if (!s.active) return {};
  if (abort_accepted_) return {DecisionKind::kContinue, 0, "aborted; waiting for the job to end"};
  if (s.postcopy || switched_) {
    switched_ = true;
    return {DecisionKind::kContinue, 0, "post-copy in progress"};
  }
  const std::uint64_t remaining = Remaining(s);

  // Link health: bytes keep flowing.
  if (!have_prev_) first_processed_ = s.data_processed;
  if (have_prev_ && s.data_processed > first_processed_) bytes_flowed_ = true;
  if (!have_prev_ || s.data_processed > prev_processed_) last_transfer_at_ = s.elapsed;
  if (!have_prev_ || s.data_processed > prev_processed_) prev_processed_ = s.data_processed;
  have_prev_ = true;
  link_healthy_ = s.elapsed - last_transfer_at_ < config_.link_down_after;

  // Progress is judged on the dirty set at the start of each pass after the first: within a
  // pass remaining always falls (the pass drains its bitmap); what matters is whether each
  // sync leaves less behind than the previous ones.
  const bool new_pass =
      s.iteration >= 2 && (recent_.empty() || recent_.back().iteration != s.iteration);
  if (new_pass) {
    // Compared as doubles: converting low_mark_ x (1 - f) back to an integer is undefined
    // when it rounds to 2^64 (found by fuzzing).
    if (low_mark_ == 0 || static_cast<double>(remaining) < static_cast<double>(low_mark_) *
                                                               (1.0 - config_.min_progress_fraction)) {
      low_mark_ = remaining;
      last_new_low_at_ = s.elapsed;
    }
    if (floor_ == 0 || remaining < floor_) floor_ = remaining;
  }
  if (s.iteration >= 2) {
    recent_.push_back(s);
    while (recent_.size() > static_cast<std::size_t>(config_.projection_samples))
      recent_.pop_front();
  }
  const std::uint64_t dirty = s.dirty_rate_bytes_per_s;
  const std::uint64_t bps = s.transfer_rate_bytes_per_s;

  // 1. Completion timeout.
  const std::string cannot_switch = CannotSwitch(s, target);
  const bool can_switch = cannot_switch.empty();
  if (s.elapsed >= config_.completion_timeout) {
    if (can_switch) {
      return Switch(
          fmt::sprintf("completion timeout %.0f s reached with %.1f MiB remaining "
                       "(dirty %.1f MiB/s, transfer %.1f MiB/s): switching to post-copy",
                       Secs(config_.completion_timeout), MiB(remaining), MiB(dirty), MiB(bps)));
    }
    std::string why = fmt::sprintf(
        "not completed within the %.0f s completion timeout: %.1f MiB remaining, "
        "dirty %.1f MiB/s vs transfer %.1f MiB/s, iteration %llu",
        Secs(config_.completion_timeout), MiB(remaining), MiB(dirty), MiB(bps),
        static_cast<unsigned long long>(s.iteration));
    why += "; no post-copy switch: " + cannot_switch;
    return {DecisionKind::kAbort, 0, why};
  }

  // Auto-converge is QEMU's: report the first time it bites.
  if (config_.auto_converge_armed && s.throttle_percent > 0 && !throttle_reported_) {
    throttle_reported_ = true;
    return {
        DecisionKind::kAutoConvergeEngaged, 0,
        fmt::sprintf(
            "QEMU throttles the guest's vCPUs to %d %%: dirty %.1f MiB/s vs transfer %.1f MiB/s",
            s.throttle_percent, MiB(dirty), MiB(bps))};
  }

  // 2a. Post-copy first (decided before the start from the measured dirty rate).
  if (config_.postcopy_first_after.count() > 0 && config_.allow_postcopy &&
      switch_refusals_ < config_.max_switch_attempts) {
    if (s.elapsed < config_.postcopy_first_after)
      return {DecisionKind::kContinue, 0, "post-copy first: short pre-copy window"};
    if (!bytes_flowed_)
      return {DecisionKind::kContinue, 0, "post-copy first: waiting for bytes to flow"};
    if (!can_switch) {
      return {DecisionKind::kContinue, 0, "post-copy first: waiting to switch: " + cannot_switch};
    }
    return Switch(fmt::sprintf(
        "post-copy first (decided before the start): %.1f MiB sent in %.1f s of pre-copy, "
        "%.1f MiB remaining (transfer %.1f MiB/s): switching to post-copy",
        MiB(s.data_processed), Secs(s.elapsed), MiB(remaining), MiB(bps)));
  }

  if (s.iteration < 2) return {DecisionKind::kContinue, 0, "first pass"};

  // 2. Fixed post-copy: switch once the first pass is done.
  if (config_.switch_after_first_pass && config_.allow_postcopy &&
      switch_refusals_ < config_.max_switch_attempts) {
    if (!can_switch) return {DecisionKind::kContinue, 0, "waiting to switch: " + cannot_switch};
    return Switch(
        fmt::sprintf("first pass done (iteration %llu, %.1f MiB remaining): switching to post-copy",
                     static_cast<unsigned long long>(s.iteration), MiB(remaining)));
  }

  // 3. Projection: can pre-copy still win on time?
  if (can_switch && recent_.size() >= static_cast<std::size_t>(config_.projection_samples)) {
    double d = 0, b = 0;
    for (const auto& r : recent_) {
      d += static_cast<double>(r.dirty_rate_bytes_per_s);
      b += static_cast<double>(r.transfer_rate_bytes_per_s);
    }
    d /= static_cast<double>(recent_.size());
    b /= static_cast<double>(recent_.size());
    const double pending = static_cast<double>(std::max(remaining, low_mark_));
    if (b > 0) {
      const double t_post = pending / b + Secs(config_.postcopy_switch_cost);
      const double t_pre = d >= b ? std::numeric_limits<double>::infinity() : pending / (b - d);
      if (t_pre > config_.postcopy_time_advantage * t_post) {
        return Switch(fmt::sprintf(
            "pre-copy cannot win: dirty %.1f MiB/s vs transfer %.1f MiB/s, "
            "%.1f MiB pending; projected pre-copy %.1f s vs post-copy %.1f s",
            d / 1048576.0, b / 1048576.0, pending / 1048576.0, t_pre > 1e9 ? -1.0 : t_pre, t_post));
      }
    }
  }

  // 4. Stalled or diverging.
  const bool stalled = s.elapsed - last_new_low_at_ >= config_.stall_window && low_mark_ > 0;
  if (!stalled) return {DecisionKind::kContinue, 0, "converging"};
  const double needed_ms = bps > 0 ? static_cast<double>(floor_) * 1000.0 / static_cast<double>(bps)
                                   : std::numeric_limits<double>::infinity();
  const auto& sched = config_.downtime_schedule_ms;
  if (step_ + 1 < sched.size() && needed_ms <= static_cast<double>(sched.back())) {
    ++step_;
    last_new_low_at_ = s.elapsed;  // give the new value a window
    return {
        DecisionKind::kRaiseMaxDowntime, sched[step_],
        fmt::sprintf("stalled for %.1f s at %.1f MiB per pass (transfer %.1f MiB/s needs %.0f ms): "
                     "max downtime %u -> %u ms",
                     Secs(config_.stall_window), MiB(floor_), MiB(bps), needed_ms, sched[step_ - 1],
                     sched[step_])};
  }
  if (can_switch) {
    return Switch(
        fmt::sprintf("stalled at %.1f MiB per pass (dirty %.1f MiB/s, transfer %.1f MiB/s); "
                     "max downtime %u ms would need %.0f ms: switching to post-copy",
                     MiB(floor_), MiB(dirty), MiB(bps), sched[step_], needed_ms));
  }
  return {DecisionKind::kContinue, 0,
          config_.auto_converge_armed ? "stalled; relying on auto-converge until the timeout"
                                      : "stalled; no remedy left, abort at the timeout"};
}

}  // namespace ferry::migration

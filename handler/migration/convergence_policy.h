// The convergence policy: a pure decision, fed with job-stat samples every few hundred ms,
// about what to do with a running pre-copy migration (DESIGN §4, Auto mode).
//
//   1. completion timeout (completionTimeoutPerGiB × GiB) reached: switch to post-copy if
//      it can (below), else abort (the guest stays on the source) until the engine reports
//      the abort accepted;
//   2. mode PostCopy: switch as soon as the first full pass is done; Auto started post-copy
//      first (start_policy.h): switch once postcopy_first_after of job time has passed and
//      bytes were seen flowing (a link that never carried a byte is not healthy);
//   3. Auto, post-copy allowed, link healthy, past the first pass: project the time pre-copy
//      still needs (remaining / (transfer − dirty), ∞ when dirty ≥ transfer) against post-copy
//      (remaining / transfer + switch cost); switch when pre-copy is clearly slower. This is
//      what sees early that pre-copy cannot win instead of waiting a minute to find out;
//   4. remaining bytes made no new low for stall_window (stalled or diverging): raise max
//      downtime one step along the schedule if the floor of remaining bytes could then be sent
//      within it; else switch to post-copy if allowed and the link is healthy; else rely on
//      auto-converge if armed; else keep going until the timeout aborts.
// "Can switch" = post-copy allowed, the link healthy (bytes flow), the target's libvirtd
// confirmed alive by the caller's probe (a switch to a dead target loses the guest), and no
// refused switch in the last switch_retry_after; after max_switch_attempts refusals (a job
// started without VIR_MIGRATE_POSTCOPY, e.g. adopted by attach) post-copy is given up. The
// engine reports every switch and abort back (OnSwitch/OnAbort): the policy never assumes
// an action it proposed was taken.
// Auto-converge cannot be turned on mid-job through libvirt; when allowed, the engine arms it
// at start (VIR_MIGRATE_AUTO_CONVERGE) and QEMU engages it when its own trigger fires; the
// policy reports it the first time a sample shows a throttle.
// No clock and no I/O: time is the job's own elapsed time from the samples.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "migration/migration_types.h"

namespace ferry::migration {

struct PolicyConfig {
  bool allow_postcopy = true;
  bool switch_after_first_pass = false;  // Mode::kPostCopy
  bool auto_converge_armed = false;
  std::vector<std::uint32_t> downtime_schedule_ms{75, 150, 300};  // ascending, first = initial
  Millis completion_timeout{38400};                               // 150 s/GiB × 0.25 GiB
  // No new low of remaining bytes for this long (in iteration ≥ 2) = stalled.
  Millis stall_window{3000};
  // A new low must be this much lower than the last one to count as progress.
  double min_progress_fraction = 0.05;
  // No processed bytes for this long = link unhealthy (never switch to post-copy then).
  Millis link_down_after{2000};
  // Switch when pre-copy's projected time > advantage × post-copy's: 1.25 keeps Auto within
  // the 1.2× goal against the best fixed mode while leaving clearly converging guests in
  // pre-copy (which keeps the source authoritative until the end).
  double postcopy_time_advantage = 1.25;
  Millis postcopy_switch_cost{500};  // pausing, device state, first faults
  // Samples past the first pass (dirty rate known) averaged before projecting.
  int projection_samples = 2;
  // A refused post-copy switch is proposed again no sooner than this, at most this often.
  Millis switch_retry_after{3000};
  int max_switch_attempts = 3;
  // Auto decided before the start to go post-copy first (StartKind::kPostCopyFirst): > 0 =
  // switch once the job is this old, instead of waiting for the first pass to end. After
  // max_switch_attempts refusals the rules below apply as without it.
  Millis postcopy_first_after{0};
  // Start at the schedule's last (largest) downtime (StartKind::kPreCopyRaisedDowntime).
  bool start_at_max_downtime = false;
};

enum class DecisionKind {
  kContinue,
  kRaiseMaxDowntime,
  kAutoConvergeEngaged,
  kSwitchToPostCopy,
  kAbort,
};
const char* DecisionKindName(DecisionKind k);

struct Decision {
  DecisionKind kind = DecisionKind::kContinue;
  std::uint32_t max_downtime_ms = 0;  // kRaiseMaxDowntime: the new value
  std::string reason;                 // with the numbers that caused it
};

class ConvergencePolicy {
 public:
  explicit ConvergencePolicy(PolicyConfig config);

  // Feed one sample (in time order) with the target's latest health; returns what to do now.
  Decision Observe(const JobSample& s, const TargetHealth& target);

  // What became of a proposed switch / abort (libvirt accepted it or not). `at` is the job
  // time of the sample that proposed it.
  void OnSwitch(bool accepted, Millis at);
  void OnAbort(bool accepted);

  std::uint32_t current_downtime_ms() const { return config_.downtime_schedule_ms[step_]; }
  bool switched() const { return switched_; }
  bool link_healthy() const { return link_healthy_; }
  int switch_refusals() const { return switch_refusals_; }
  const PolicyConfig& config() const { return config_; }
  // The time to completion the policy projects after the last Observe(): remaining /
  // transfer in post-copy and in the first pass; afterwards pre-copy's remaining /
  // (transfer − dirty) over the projection samples, or post-copy's time (remaining / transfer
  // + the switch cost) where it wins by postcopy_time_advantage and a switch is possible.
  // nullopt before a usable sample, after an accepted abort, or when pre-copy diverges and no
  // switch is possible. Reported as the migration's ETA.
  std::optional<Millis> projected_completion() const { return projection_; }

 private:
  Decision Switch(std::string why);
  // Observe's decision; Observe then records the projection.
  Decision Decide(const JobSample& s, const TargetHealth& target);
  std::optional<Millis> Project(const JobSample& s, const TargetHealth& target) const;
  // Why a post-copy switch is not possible now ("" = it is).
  std::string CannotSwitch(const JobSample& s, const TargetHealth& target) const;

  PolicyConfig config_;
  std::size_t step_ = 0;
  bool switched_ = false;
  bool abort_accepted_ = false;
  int switch_refusals_ = 0;
  Millis switch_retry_at_{0};
  bool throttle_reported_ = false;
  bool link_healthy_ = true;
  bool have_prev_ = false;
  std::uint64_t prev_processed_ = 0;
  std::uint64_t first_processed_ = 0;  // at the first sample
  bool bytes_flowed_ = false;          // processed grew since the first sample
  Millis last_transfer_at_{0};
  std::uint64_t low_mark_ = 0;  // lowest remaining that counted as progress
  std::uint64_t floor_ = 0;     // lowest remaining seen
  Millis last_new_low_at_{0};
  std::deque<JobSample> recent_;  // past the first pass
  std::optional<Millis> projection_;
};

}  // namespace ferry::migration

// The convergence policy fed arbitrary job-stat sequences (libvirt's figures are not always
// consistent: counters jump, totals shrink, rates are zero) with arbitrary answers to its
// proposals. Properties: it never proposes a post-copy switch after one was accepted, to a
// target not confirmed alive, or when post-copy is not allowed; it never acts after the job
// ended or after an abort was accepted; every raise of the downtime goes up, along the
// schedule; every action has a reason; projections are never negative. Arithmetic faults
// (division by zero, float-to-int overflow) are the sanitizers' to report.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "migration/convergence_policy.h"

namespace {

using ferry::migration::ConvergencePolicy;
using ferry::migration::DecisionKind;
using ferry::migration::DecisionKindName;
using ferry::migration::JobSample;
using ferry::migration::Millis;
using ferry::migration::PolicyConfig;
using ferry::migration::TargetHealth;

PolicyConfig Config(FuzzedDataProvider& in) {
  PolicyConfig c;
  c.allow_postcopy = in.ConsumeBool();
  c.switch_after_first_pass = in.ConsumeBool();
  c.auto_converge_armed = in.ConsumeBool();
  c.downtime_schedule_ms.clear();
  int steps = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < steps; ++i)
    c.downtime_schedule_ms.push_back(in.ConsumeIntegralInRange<uint32_t>(1, 60000));
  c.completion_timeout = Millis(in.ConsumeIntegralInRange<int64_t>(0, 3'600'000));
  c.stall_window = Millis(in.ConsumeIntegralInRange<int64_t>(0, 60'000));
  c.min_progress_fraction = in.ConsumeFloatingPointInRange<double>(0.0, 1.0);
  c.link_down_after = Millis(in.ConsumeIntegralInRange<int64_t>(0, 60'000));
  c.postcopy_time_advantage = in.ConsumeFloatingPointInRange<double>(0.0, 10.0);
  c.postcopy_switch_cost = Millis(in.ConsumeIntegralInRange<int64_t>(0, 60'000));
  c.projection_samples = in.ConsumeIntegralInRange(0, 16);
  c.switch_retry_after = Millis(in.ConsumeIntegralInRange<int64_t>(0, 60'000));
  c.max_switch_attempts = in.ConsumeIntegralInRange(0, 5);
  return c;
}

JobSample Sample(FuzzedDataProvider& in, Millis elapsed, bool switched) {
  JobSample s;
  s.active = in.ConsumeIntegral<uint8_t>() < 250;  // the job ends now and then
  s.is_migration_out = true;
  // libvirt reports post-copy after an accepted switch; now and then it reports it anyway.
  s.postcopy = switched || in.ConsumeIntegral<uint8_t>() > 250;
  s.elapsed = elapsed;
  s.data_total = in.ConsumeIntegral<uint64_t>();
  s.data_processed = in.ConsumeIntegral<uint64_t>();
  s.data_remaining = in.ConsumeIntegral<uint64_t>();
  s.memory_total = in.ConsumeIntegral<uint64_t>();
  s.memory_processed = in.ConsumeIntegral<uint64_t>();
  s.memory_remaining = in.ConsumeIntegral<uint64_t>();
  s.disk_total = in.ConsumeIntegral<uint32_t>();
  s.disk_processed = in.ConsumeIntegral<uint32_t>();
  s.disk_remaining = in.ConsumeIntegral<uint32_t>();
  s.dirty_rate_bytes_per_s = in.ConsumeIntegral<uint64_t>();
  s.transfer_rate_bytes_per_s = in.ConsumeIntegral<uint64_t>();
  s.iteration = in.ConsumeIntegralInRange<uint64_t>(0, 50);
  s.throttle_percent = in.ConsumeIntegralInRange(0, 99);
  s.postcopy_requests = in.ConsumeIntegral<uint16_t>();
  s.postcopy_failed = in.ConsumeIntegral<uint8_t>() > 250;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  PolicyConfig config = Config(in);
  ConvergencePolicy policy(config);
  std::vector<uint32_t> schedule = policy.config().downtime_schedule_ms;
  FUZZ_CHECK(std::is_sorted(schedule.begin(), schedule.end()) && !schedule.empty(), "bad schedule");

  Millis elapsed{0};
  bool switched = false, aborted = false;
  int refusals = 0;
  for (int step = 0; step < 400 && in.remaining_bytes() > 0; ++step) {
    elapsed += Millis(in.ConsumeIntegralInRange<int64_t>(0, 5000));
    JobSample s = Sample(in, elapsed, switched);
    TargetHealth target{in.ConsumeBool(), "fuzz"};
    uint32_t downtime_before = policy.current_downtime_ms();
    auto d = policy.Observe(s, target);
    const std::string at = std::string(DecisionKindName(d.kind)) + " at " +
                           std::to_string(elapsed.count()) + " ms: " + d.reason;

    if (d.kind != DecisionKind::kContinue)
      FUZZ_CHECK(!d.reason.empty(), "an action without a reason: " + at);
    if (!s.active)
      FUZZ_CHECK(d.kind == DecisionKind::kContinue, "acted after the job ended: " + at);
    if (aborted)
      FUZZ_CHECK(d.kind == DecisionKind::kContinue, "acted after an accepted abort: " + at);
    if (auto p = policy.projected_completion())
      FUZZ_CHECK(p->count() >= 0, "negative projection: " + at);

    switch (d.kind) {
      case DecisionKind::kSwitchToPostCopy: {
        FUZZ_CHECK(!switched, "a second post-copy switch: " + at);
        FUZZ_CHECK(config.allow_postcopy, "a switch without post-copy allowed: " + at);
        FUZZ_CHECK(target.alive, "a switch to a target not confirmed alive: " + at);
        FUZZ_CHECK(refusals < config.max_switch_attempts,
                   "a switch after post-copy was given up: " + at);
        bool accepted = in.ConsumeBool();
        policy.OnSwitch(accepted, s.elapsed);
        if (accepted)
          switched = true;
        else
          ++refusals;
        break;
      }
      case DecisionKind::kAbort: {
        bool accepted = in.ConsumeBool();
        policy.OnAbort(accepted);
        aborted = aborted || accepted;
        break;
      }
      case DecisionKind::kRaiseMaxDowntime:
        FUZZ_CHECK(d.max_downtime_ms > downtime_before, "a raise that does not raise: " + at);
        FUZZ_CHECK(std::find(schedule.begin(), schedule.end(), d.max_downtime_ms) != schedule.end(),
                   "a downtime off the schedule: " + at);
        FUZZ_CHECK(policy.current_downtime_ms() == d.max_downtime_ms,
                   "the raise is not recorded: " + at);
        break;
      case DecisionKind::kAutoConvergeEngaged:
      case DecisionKind::kContinue:
        break;
    }
    if (!s.active) break;  // the engine stops following an ended job
  }
  return 0;
}

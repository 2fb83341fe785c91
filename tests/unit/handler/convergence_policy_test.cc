// Table-driven tests of the pure convergence policy on synthetic job-stat sequences. A small
// model of QEMU's pre-copy produces the samples: pass 1 sends the guest's RAM at the link
// rate, every later pass sends what the guest dirtied during the previous one (at most its
// working set), and the migration completes when a pass's dirty set fits into max downtime.
// The model reacts to the policy's decisions (raised downtime, post-copy switch, abort), and
// can refuse switches and aborts (as libvirt does) and lose the target's libvirtd.
#include "migration/convergence_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ferry::migration {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

struct Guest {
  double ram_mib = 256;
  double ws_mib = 128;
  double dirty_mib_s = 0;
  double bw_mib_s = 32;
  double link_down_at_s = -1;    // link stops carrying bytes from then on
  int throttle_from_pass = 0;    // QEMU's auto-converge starts biting at this pass (0 = never)
  double target_dead_at_s = -1;  // the target's libvirtd is dead from then on (probe says so)
  int refused_switches = 0;      // StartPostCopy refusals before one is accepted (-1 = all)
  int refused_aborts = 0;        // AbortJob refusals before one is accepted
};

struct SimRun {
  std::string end;  // "completed", "postcopy", "aborted", "running"
  double end_s = 0;
  std::vector<Decision> actions;  // everything but kContinue
  std::uint32_t final_downtime_ms = 0;
  int switch_refusals = 0;  // as the policy counted them
};

SimRun Simulate(const Guest& g, const PolicyConfig& cfg, double max_s = 200) {
  ConvergencePolicy policy(cfg);
  SimRun run;
  const double dt = 0.3;
  double t = 0, processed = 0, pass_left = g.ram_mib, pass_time = 0;
  int pass = 1;
  int switches_left_to_refuse = g.refused_switches;
  int aborts_left_to_refuse = g.refused_aborts;
  while (t < max_s) {
    t += dt;
    const bool link_up = g.link_down_at_s < 0 || t < g.link_down_at_s;
    const double sent = link_up ? std::min(pass_left, g.bw_mib_s * dt) : 0;
    processed += sent;
    pass_left -= sent;
    pass_time += dt;
    if (pass_left <= 1e-9) {  // sync: the next pass starts with what was dirtied meanwhile
      const double next = std::min(g.ws_mib, g.dirty_mib_s * pass_time);
      if (next / g.bw_mib_s * 1000.0 <= policy.current_downtime_ms()) {
        run.end = "completed";
        run.end_s = t;
        break;
      }
      ++pass;
      pass_left = next;
      pass_time = 0;
    }
    JobSample s;
    s.active = true;
    s.is_migration_out = true;
    s.elapsed = Millis(static_cast<long>(t * 1000));
    s.memory_total = s.data_total = static_cast<std::uint64_t>(g.ram_mib * kMiB);
    s.memory_processed = s.data_processed = static_cast<std::uint64_t>(processed * kMiB);
    s.memory_remaining = s.data_remaining = static_cast<std::uint64_t>(pass_left * kMiB);
    s.iteration = static_cast<std::uint64_t>(pass);
    s.dirty_rate_bytes_per_s = pass >= 2 ? static_cast<std::uint64_t>(g.dirty_mib_s * kMiB) : 0;
    s.transfer_rate_bytes_per_s = link_up ? static_cast<std::uint64_t>(g.bw_mib_s * kMiB) : 0;
    s.throttle_percent = g.throttle_from_pass > 0 && pass >= g.throttle_from_pass ? 20 : 0;
    TargetHealth target{true, "probe"};
    if (g.target_dead_at_s >= 0 && t >= g.target_dead_at_s) target = {false, "keepalive timed out"};
    const Decision d = policy.Observe(s, target);
    if (d.kind != DecisionKind::kContinue) run.actions.push_back(d);
    if (d.kind == DecisionKind::kSwitchToPostCopy) {
      const bool refused = switches_left_to_refuse != 0;
      if (switches_left_to_refuse > 0) --switches_left_to_refuse;
      policy.OnSwitch(!refused, s.elapsed);
      if (refused) continue;  // the job goes on in pre-copy
      run.end = "postcopy";
      run.end_s = t;
      break;
    }
    if (d.kind == DecisionKind::kAbort) {
      const bool refused = aborts_left_to_refuse > 0;
      if (refused) --aborts_left_to_refuse;
      policy.OnAbort(!refused);
      if (refused) continue;
      run.end = "aborted";
      run.end_s = t;
      break;
    }
  }
  if (run.end.empty()) run.end = "running";
  run.final_downtime_ms = policy.current_downtime_ms();
  run.switch_refusals = policy.switch_refusals();
  return run;
}

const TargetHealth kAlive{true, "test"};

PolicyConfig Auto(double timeout_s = 38.4) {
  PolicyConfig c;
  c.allow_postcopy = true;
  c.auto_converge_armed = true;
  c.downtime_schedule_ms = {75, 150, 300};
  c.completion_timeout = Millis(static_cast<long>(timeout_s * 1000));
  return c;
}
PolicyConfig NoPostCopy(double timeout_s = 38.4) {
  PolicyConfig c = Auto(timeout_s);
  c.allow_postcopy = false;
  return c;
}
PolicyConfig NoRemedy(double timeout_s) {
  PolicyConfig c = NoPostCopy(timeout_s);
  c.auto_converge_armed = false;
  return c;
}
PolicyConfig FixedPostCopy() {
  PolicyConfig c = Auto();
  c.switch_after_first_pass = true;
  return c;
}
// Auto after a dirty-rate measurement chose post-copy first (start_policy.h).
PolicyConfig PostCopyFirst(double timeout_s = 38.4) {
  PolicyConfig c = Auto(timeout_s);
  c.postcopy_first_after = Millis(600);
  return c;
}

int Count(const SimRun& r, DecisionKind k) {
  return static_cast<int>(std::count_if(r.actions.begin(), r.actions.end(),
                                        [k](const Decision& d) { return d.kind == k; }));
}

struct Case {
  std::string name;
  Guest guest;
  PolicyConfig config;
  std::string want_end;
  double end_after_s;              // the end must come after this time...
  double end_before_s;             // ...and before this one
  int want_downtime_raises;        // -1 = don't care
  std::string reason_contains;     // in the last action's reason
  int want_switch_proposals = -1;  // kSwitchToPostCopy decisions (-1 = don't care)
  int want_aborts = -1;            // kAbort decisions (-1 = don't care)
};

class ConvergencePolicyTest : public ::testing::TestWithParam<Case> {};

TEST_P(ConvergencePolicyTest, Sequence) {
  const Case& c = GetParam();
  const SimRun r = Simulate(c.guest, c.config);
  EXPECT_EQ(r.end, c.want_end);
  EXPECT_GT(r.end_s, c.end_after_s);
  EXPECT_LT(r.end_s, c.end_before_s);
  if (c.want_downtime_raises >= 0) {
    EXPECT_EQ(Count(r, DecisionKind::kRaiseMaxDowntime), c.want_downtime_raises);
  }
  if (!c.reason_contains.empty()) {
    ASSERT_FALSE(r.actions.empty());
    EXPECT_NE(r.actions.back().reason.find(c.reason_contains), std::string::npos)
        << r.actions.back().reason;
  }
  if (c.want_switch_proposals >= 0) {
    EXPECT_EQ(Count(r, DecisionKind::kSwitchToPostCopy), c.want_switch_proposals);
  }
  if (c.want_aborts >= 0) {
    EXPECT_EQ(Count(r, DecisionKind::kAbort), c.want_aborts);
  }
}

Guest Hot() { return {256, 128, 64, 32}; }
Guest Refusing(Guest g, int switches, int aborts = 0) {
  g.refused_switches = switches;
  g.refused_aborts = aborts;
  return g;
}
Guest TargetDiesAt(Guest g, double s) {
  g.target_dead_at_s = s;
  return g;
}
Guest LinkDownAt(Guest g, double s) {
  g.link_down_at_s = s;
  return g;
}

// First pass of a 256 MiB guest at 32 MiB/s: 8 s.
INSTANTIATE_TEST_SUITE_P(
    Sequences, ConvergencePolicyTest,
    ::testing::Values(
        // Quiet guest: done in the second pass, nothing to do.
        Case{"quiet", {256, 128, 0, 32}, Auto(), "completed", 7.9, 8.5, 0, ""},
        // 25 % of the link: pre-copy converges geometrically; the policy leaves it alone.
        Case{"converging", {256, 128, 8, 32}, Auto(), "completed", 8, 14, 0, ""},
        // Dirtying as fast as the link: remaining never shrinks. Auto sees it in the second
        // pass and switches instead of waiting out a stall window or the timeout.
        Case{"stalled_switches_early",
             {256, 64, 32, 32},
             Auto(),
             "postcopy",
             8,
             9.5,
             0,
             "pre-copy cannot win"},
        // Twice the link: diverging; same early switch.
        Case{"diverging_switches_early",
             {256, 128, 64, 32},
             Auto(),
             "postcopy",
             8,
             9.5,
             0,
             "pre-copy cannot win"},
        // Post-copy forbidden: stall, nothing helps (downtime would need 4 s), abort at the
        // timeout and not a moment before.
        Case{"postcopy_not_allowed_aborts_at_timeout",
             {256, 128, 64, 32},
             NoPostCopy(20),
             "aborted",
             19.9,
             20.5,
             0,
             "post-copy not allowed"},
        // Stalled at a small dirty set: raising max downtime along the schedule lets it finish.
        Case{"stalled_small_set_raises_downtime",
             {256, 6, 32, 32},
             NoPostCopy(60),
             "completed",
             8,
             30,
             2,
             ""},
        // Timeout reached while post-copy is allowed but never projected as better (a guest
        // on the edge): switch rather than abort.
        Case{"timeout_switches_when_allowed",
             {1024, 900, 10, 32},
             Auto(30),
             "postcopy",
             29.9,
             30.5,
             -1,
             "completion timeout"},
        // Link down mid-way: never switch to post-copy over a dead link; abort at the timeout.
        Case{"link_down_never_switches",
             {256, 128, 64, 32, 5},
             Auto(20),
             "aborted",
             19.9,
             20.5,
             0,
             "link unhealthy"},
        // Fixed post-copy: switch as soon as the first pass is done.
        Case{"fixed_postcopy_after_first_pass",
             {256, 128, 8, 32},
             FixedPostCopy(),
             "postcopy",
             8,
             8.7,
             0,
             "first pass done"},
        // No post-copy, no auto-converge, nothing helps: abort at the timeout.
        Case{"no_remedy_aborts",
             {256, 128, 64, 32},
             NoRemedy(15),
             "aborted",
             14.9,
             15.5,
             0,
             "timeout"},
        // libvirt refuses every switch (a job started without VIR_MIGRATE_POSTCOPY, e.g.
        // adopted by attach): the policy learns, proposes at most max_switch_attempts, and the
        // completion timeout still aborts.
        Case{"switch_refused_aborts_at_timeout", Refusing(Hot(), -1), Auto(20), "aborted", 19.9,
             20.5, -1, "post-copy given up after 3 refused switches", 3},
        // One refusal (e.g. during the disk copy): proposed again after switch_retry_after.
        Case{"switch_refused_once_retries", Refusing(Hot(), 1), Auto(), "postcopy", 11, 12.5, -1,
             "", 2},
        // A refused switch at the timeout: abort at the next sample, not a retry window later.
        Case{"switch_refused_at_timeout_aborts_next_sample", Refusing({1024, 900, 10, 32}, -1),
             Auto(30), "aborted", 29.9, 30.8, -1, "the last post-copy switch was refused", 1},
        // The target's libvirtd is dead (the link still carries bytes to its QEMU): never switch
        // to it; abort at the timeout.
        Case{"dead_target_never_switches", TargetDiesAt(Hot(), 5), Auto(20), "aborted", 19.9, 20.5,
             0, "target libvirtd not confirmed alive (keepalive timed out)", 0},
        // Fixed post-copy waits for a live target instead of switching blind.
        Case{"fixed_postcopy_waits_for_target", TargetDiesAt(Hot(), 1), FixedPostCopy(), "aborted",
             38, 39, 0, "target libvirtd not confirmed alive", 0},
        // Aborts libvirt refuses are proposed again, sample after sample, until one is taken.
        Case{"abort_refused_is_retried", Refusing(Hot(), 0, 2), NoRemedy(15), "aborted", 15.4, 16,
             0, "timeout", -1, 3},
        // Post-copy first: the switch comes after the window, in the first pass.
        Case{"postcopy_first_switches_after_window", Hot(), PostCopyFirst(), "postcopy", 0.5, 1.0,
             0, "post-copy first (decided before the start)", 1},
        // A link that never carried a byte is not healthy: no switch, abort at the timeout.
        Case{"postcopy_first_dead_link_never_switches", LinkDownAt(Hot(), 0.01), PostCopyFirst(20),
             "aborted", 19.9, 20.5, 0, "no post-copy switch: link unhealthy", 0},
        // Link lost inside the window: no switch either.
        Case{"postcopy_first_link_lost_in_window", LinkDownAt(Hot(), 0.4), PostCopyFirst(20),
             "aborted", 19.9, 20.5, 0, "link unhealthy", 0},
        // Target not confirmed alive: wait (never switch blind), abort at the timeout.
        Case{"postcopy_first_waits_for_target", TargetDiesAt(Hot(), 0), PostCopyFirst(20),
             "aborted", 19.9, 20.5, 0, "target libvirtd not confirmed alive", 0},
        // libvirt refuses every switch: given up after 3, the timeout still aborts.
        Case{"postcopy_first_refused_gives_up", Refusing(Hot(), -1), PostCopyFirst(20), "aborted",
             19.9, 20.5, -1, "post-copy given up after 3 refused switches", 3},
        // Started at the largest downtime: a small stalled set completes with no raise.
        Case{"raised_downtime_start_completes_without_steps",
             {256, 6, 32, 32},
             [] {
               PolicyConfig c = NoPostCopy(60);
               c.start_at_max_downtime = true;
               return c;
             }(),
             "completed",
             8,
             9,
             0,
             ""}),
    [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST(ConvergencePolicy, ReportsAutoConvergeOnceWhenThrottleAppears) {
  Guest g{256, 128, 64, 32};
  g.throttle_from_pass = 3;
  const SimRun r = Simulate(g, NoPostCopy(40));
  EXPECT_EQ(Count(r, DecisionKind::kAutoConvergeEngaged), 1);
  EXPECT_EQ(r.end, "aborted");
}

TEST(ConvergencePolicy, AutoConvergeNotReportedWhenNotArmed) {
  Guest g{256, 128, 64, 32};
  g.throttle_from_pass = 3;
  const SimRun r = Simulate(g, NoRemedy(40));
  EXPECT_EQ(Count(r, DecisionKind::kAutoConvergeEngaged), 0);
}

TEST(ConvergencePolicy, PostCopyPhaseOnlyContinues) {
  ConvergencePolicy p(Auto(1));
  JobSample s;
  s.active = true;
  s.postcopy = true;
  s.elapsed = Millis(5000);  // past the timeout: still no abort once in post-copy
  EXPECT_EQ(p.Observe(s, kAlive).kind, DecisionKind::kContinue);
  EXPECT_TRUE(p.switched());
}

TEST(ConvergencePolicy, InactiveJobIsIgnored) {
  ConvergencePolicy p(Auto(1));
  JobSample s;
  s.elapsed = Millis(5000);
  EXPECT_EQ(p.Observe(s, kAlive).kind, DecisionKind::kContinue);
}

TEST(ConvergencePolicy, EmptyScheduleFallsBackToQemuDefault) {
  PolicyConfig c;
  c.downtime_schedule_ms = {};
  ConvergencePolicy p(c);
  EXPECT_EQ(p.current_downtime_ms(), 300u);
}

TEST(ConvergencePolicy, AbortIsProposedUntilAccepted) {
  ConvergencePolicy p(NoRemedy(1));
  JobSample s;
  s.active = true;
  s.iteration = 3;
  s.elapsed = Millis(2000);
  s.data_processed = 1;
  EXPECT_EQ(p.Observe(s, kAlive).kind, DecisionKind::kAbort);
  p.OnAbort(false);
  s.elapsed = Millis(2300);
  EXPECT_EQ(p.Observe(s, kAlive).kind, DecisionKind::kAbort);
  p.OnAbort(true);
  s.elapsed = Millis(2600);
  EXPECT_EQ(p.Observe(s, kAlive).kind, DecisionKind::kContinue);
}

// A proposed switch is not a switch: until the engine says libvirt took it, the policy keeps
// judging pre-copy (the defect was a policy that went silent after proposing).
TEST(ConvergencePolicy, ProposedSwitchIsNotAssumedTaken) {
  ConvergencePolicy p(Auto(1));
  JobSample s;
  s.active = true;
  s.iteration = 3;
  s.elapsed = Millis(2000);
  s.data_processed = 1;
  EXPECT_EQ(p.Observe(s, kAlive).kind, DecisionKind::kSwitchToPostCopy);
  EXPECT_FALSE(p.switched());
  p.OnSwitch(false, s.elapsed);
  s.elapsed = Millis(2300);
  s.data_processed = 2;
  EXPECT_EQ(p.Observe(s, kAlive).kind, DecisionKind::kAbort);
}

}  // namespace
}  // namespace ferry::migration

// The policy's projection, reported as a migration's ETA (the node agent writes it as
// progress.estimatedTimeRemaining).
namespace ferry::migration {
namespace {

JobSample ProjectionSample(double ms, std::uint64_t iteration, double remaining_mib,
                           double dirty_mib_s, double bw_mib_s, bool postcopy = false) {
  JobSample s;
  s.active = true;
  s.is_migration_out = true;
  s.elapsed = Millis(static_cast<std::int64_t>(ms));
  s.iteration = iteration;
  s.memory_total = s.data_total = static_cast<std::uint64_t>(256 * kMiB);
  s.memory_remaining = s.data_remaining = static_cast<std::uint64_t>(remaining_mib * kMiB);
  s.memory_processed = s.data_processed = static_cast<std::uint64_t>(ms * kMiB);  // rising
  s.dirty_rate_bytes_per_s = static_cast<std::uint64_t>(dirty_mib_s * kMiB);
  s.transfer_rate_bytes_per_s = static_cast<std::uint64_t>(bw_mib_s * kMiB);
  s.postcopy = postcopy;
  return s;
}

TEST(ProjectedCompletion, FollowsThePhasesOfAMigration) {
  PolicyConfig cfg;
  cfg.allow_postcopy = false;
  ConvergencePolicy pre(cfg);
  const TargetHealth alive{true, "test"};
  EXPECT_FALSE(pre.projected_completion().has_value());
  // First pass: what remains moves once at the transfer rate (192 MiB at 32 MiB/s).
  (void)pre.Observe(ProjectionSample(2000, 1, 192, 0, 32), alive);
  EXPECT_EQ(pre.projected_completion(), Millis(6000));
  // Converging pre-copy: remaining / (transfer - dirty) = 16 / (32 - 16).
  (void)pre.Observe(ProjectionSample(9000, 2, 16, 16, 32), alive);
  (void)pre.Observe(ProjectionSample(9300, 2, 16, 16, 32), alive);
  EXPECT_EQ(pre.projected_completion(), Millis(1000));
  // Diverging pre-copy without post-copy: no projection.
  (void)pre.Observe(ProjectionSample(9600, 3, 64, 96, 32), alive);
  (void)pre.Observe(ProjectionSample(9900, 3, 64, 96, 32), alive);
  EXPECT_FALSE(pre.projected_completion().has_value());

  cfg.allow_postcopy = true;
  ConvergencePolicy autop(cfg);
  (void)autop.Observe(ProjectionSample(9000, 2, 64, 96, 32), alive);
  (void)autop.Observe(ProjectionSample(9300, 2, 64, 96, 32), alive);
  // Pre-copy cannot win: post-copy's time, 64 / 32 + the 0.5 s switch cost.
  EXPECT_EQ(autop.projected_completion(), Millis(2500));
  // A dead target rules the switch out: no projection for a diverging pre-copy.
  (void)autop.Observe(ProjectionSample(9600, 2, 64, 96, 32), TargetHealth{false, "dead"});
  EXPECT_FALSE(autop.projected_completion().has_value());
  // In post-copy: what remains at the transfer rate.
  (void)autop.Observe(ProjectionSample(12000, 3, 16, 0, 32, true), alive);
  EXPECT_EQ(autop.projected_completion(), Millis(500));
}

}  // namespace
}  // namespace ferry::migration

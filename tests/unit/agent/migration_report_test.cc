// How the source reports a migration: percent never above 100, the policy's ETA, actions,
// outcomes mapped to phases and reasons; the engine's options from effectiveOptions; what a
// restarted source does with a migration it finds Running.
#include "agent/migration_report.h"

#include <gtest/gtest.h>

#include "agent/engine_options.h"
#include "api/group.h"

namespace ferry::agent {
namespace {

using migration::JobSample;
using std::chrono::milliseconds;
using std::chrono::seconds;
constexpr uint64_t kMiB = 1 << 20;

JobSample Sample(uint64_t total, uint64_t processed, uint64_t remaining, uint64_t iteration,
                 uint64_t dirty = 0, uint64_t bps = 32 * kMiB, bool postcopy = false) {
  JobSample s;
  s.active = true;
  s.memory_total = s.data_total = total;
  s.memory_processed = s.data_processed = processed;
  s.memory_remaining = s.data_remaining = remaining;
  s.iteration = iteration;
  s.dirty_rate_bytes_per_s = dirty;
  s.transfer_rate_bytes_per_s = bps;
  s.postcopy = postcopy;
  return s;
}

TEST(ProgressPercent, NeverPassesAHundredInPostCopy) {
  // Post-copy re-sends pages: processed (330 MiB) passes total (256 MiB); the CLI printed 128 %.
  EXPECT_EQ(ProgressPercent(Sample(256 * kMiB, 330 * kMiB, 12 * kMiB, 3, 0, 32 * kMiB, true)), 95);
  EXPECT_EQ(ProgressPercent(Sample(256 * kMiB, 300 * kMiB, 1, 3)), 99);  // not done: below 100
  EXPECT_EQ(ProgressPercent(Sample(256 * kMiB, 300 * kMiB, 0, 3)), 100);
  EXPECT_EQ(ProgressPercent(Sample(256 * kMiB, 0, 256 * kMiB, 1)), 0);
  EXPECT_EQ(ProgressPercent(Sample(0, 0, 0, 0)), 0);
  JobSample odd = Sample(256 * kMiB, 10, 400 * kMiB, 1);  // remaining above total: clamped
  EXPECT_EQ(ProgressPercent(odd), 0);
}

TEST(ProgressStatus, CarriesTheNumbers) {
  const api::WallTime now{std::chrono::hours(5)};
  const auto p = ProgressStatus(Sample(256 * kMiB, 128 * kMiB, 128 * kMiB, 1, 8 * kMiB, 32 * kMiB),
                                seconds(4), now, 300, now);
  EXPECT_EQ(p.total_bytes, static_cast<int64_t>(256 * kMiB));
  EXPECT_EQ(p.percent, 50);
  EXPECT_EQ(p.estimated_time_remaining, seconds(4));
  EXPECT_EQ(p.current_max_downtime, milliseconds(300));
  EXPECT_EQ(p.dirty_rate_bytes_per_second, static_cast<int64_t>(8 * kMiB));
  EXPECT_EQ(p.post_copy_started_at, now);
  // The estimate is written in whole seconds, rounded up.
  EXPECT_EQ(ProgressStatus(Sample(1, 0, 1, 1), milliseconds(979), std::nullopt, 0, now)
                .estimated_time_remaining,
            seconds(1));
  EXPECT_FALSE(ProgressStatus(Sample(1, 0, 1, 1), std::nullopt, std::nullopt, 0, now)
                   .estimated_time_remaining);
}

TEST(ConvergenceActionOf, NamesAndWarnings) {
  migration::Action a;
  a.kind = migration::ActionKind::kSwitchToPostCopy;
  a.reason = "pre-copy cannot win: dirty 96.0 MiB/s vs transfer 32.0 MiB/s";
  const auto c = ConvergenceActionOf(a, api::WallTime{});
  EXPECT_EQ(c.action, "SwitchToPostCopy");
  EXPECT_EQ(c.detail, a.reason);
  EXPECT_FALSE(IsWarning(a));
  a.ok = false;
  EXPECT_TRUE(IsWarning(a));
  EXPECT_EQ(ConvergenceActionOf(a, api::WallTime{}).detail, a.reason + " (not accepted)");
  a = {};
  a.kind = migration::ActionKind::kAbort;
  EXPECT_TRUE(IsWarning(a));
}

TEST(EndOf, OutcomesToPhases) {
  migration::MigrationResult r;
  r.outcome = migration::Outcome::kSucceeded;
  r.mode_used = "postcopy";
  r.total_time = milliseconds(12300);
  r.downtime = milliseconds(45);
  r.bytes_sent = 300 * kMiB;
  r.iterations = 3;
  MigrationEnd e = EndOf(r);
  EXPECT_TRUE(e.terminal);
  EXPECT_EQ(e.phase, api::MigrationPhase::kSucceeded);
  EXPECT_EQ(e.downtime, milliseconds(45));
  EXPECT_EQ(e.message,
            "postcopy migration in 12.3 s, downtime 45 ms, 300.0 MiB sent, 3 iterations");

  r = {};
  r.outcome = migration::Outcome::kAborted;
  r.status = InvalidError("not completed within the 20 s completion timeout");
  e = EndOf(r);
  EXPECT_EQ(e.phase, api::MigrationPhase::kFailed);
  EXPECT_EQ(e.reason, api::kReasonConvergenceTimeout);

  r.outcome = migration::Outcome::kFailed;
  r.status = UnavailableError(
      "virDomainMigrateToURI3: operation failed: the destination libvirtd is down");
  e = EndOf(r);
  EXPECT_EQ(e.phase, api::MigrationPhase::kFailed);
  EXPECT_EQ(e.reason, kReasonMigrationFailed);
  EXPECT_EQ(e.message, r.status.message());

  r.outcome = migration::Outcome::kCancelled;
  EXPECT_EQ(EndOf(r).phase, api::MigrationPhase::kCancelled);

  r.outcome = migration::Outcome::kPostCopyRecovering;
  e = EndOf(r);
  EXPECT_FALSE(e.terminal);
  EXPECT_TRUE(e.recovering);

  r.outcome = migration::Outcome::kDetached;
  e = EndOf(r);
  EXPECT_FALSE(e.terminal);
  EXPECT_TRUE(e.detached);
}

api::VirtualMachineMigration Vmm() {
  api::VirtualMachineMigration m;
  m.metadata.name = "move-web";
  m.metadata.namespace_ = "prod";
  m.metadata.uid = "5f0c2b9e-1d2a-4c6b-9e61-0a3c5d7e9f11";
  m.spec.vm_name = "web";
  m.status.target_uri = "qemu+tcp://10.251.0.2/system";
  api::EffectiveMigrationOptions e;
  e.mode = api::MigrationMode::kAuto;
  e.allow_post_copy = true;
  e.allow_auto_converge = false;
  e.bandwidth = *api::Quantity::Parse("32Mi");
  e.max_downtime = milliseconds(300);
  e.downtime_schedule = {milliseconds(50), milliseconds(150), milliseconds(300)};
  e.completion_timeout_per_gib = seconds(80);
  m.status.effective_options = e;
  return m;
}

TEST(EngineOptions, ExactlyTheEffectiveOptions) {
  auto o = EngineOptions(Vmm(), "prod_web", "qemu+unix:///system?socket=/run/a.sock", seconds(60));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->domain, "prod_web");
  EXPECT_EQ(o->destination_uri, "qemu+tcp://10.251.0.2/system");
  EXPECT_EQ(o->mode, migration::Mode::kAuto);
  EXPECT_TRUE(o->allow_postcopy);
  EXPECT_FALSE(o->allow_auto_converge);
  EXPECT_EQ(o->bandwidth_bytes_per_s, 32 * kMiB);
  EXPECT_EQ(o->max_downtime_ms, 300u);
  EXPECT_EQ(o->downtime_schedule_ms, (std::vector<uint32_t>{50, 150, 300}));
  EXPECT_DOUBLE_EQ(o->completion_timeout_per_gib_s, 80.0);
  EXPECT_FALSE(o->tls);
  EXPECT_EQ(o->vm_label, "web");
  EXPECT_EQ(o->namespace_label, "prod");
  // ADR 6: the VMM's uid marks the domain; a paused source waits for the target's word.
  EXPECT_EQ(o->migration_uid, "5f0c2b9e-1d2a-4c6b-9e61-0a3c5d7e9f11");
  EXPECT_TRUE(o->hold_paused_source);
}

TEST(EngineOptions, OfflineCopyAndTls) {
  auto m = Vmm();
  m.status.effective_options->offline = true;
  m.status.effective_options->storage = api::StorageMode::kCopy;
  m.status.target_uri = "qemu+tls://node-b/system";
  auto o = EngineOptions(m, "prod_web", "qemu:///system", seconds(60));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->offline);
  EXPECT_TRUE(o->stop_running);
  EXPECT_EQ(o->shutdown_timeout, seconds(60));
  EXPECT_TRUE(o->copy_storage);
  EXPECT_TRUE(o->tls);
}

TEST(EngineOptions, RefusesWhatTheOperatorDidNotResolve) {
  auto m = Vmm();
  m.status.effective_options.reset();
  EXPECT_EQ(EngineOptions(m, "prod_web", "qemu:///system", seconds(60)).status().code(),
            StatusCode::kInvalid);
  m = Vmm();
  m.status.target_uri.clear();
  EXPECT_EQ(EngineOptions(m, "prod_web", "qemu:///system", seconds(60)).status().code(),
            StatusCode::kInvalid);
  m = Vmm();
  m.status.effective_options->max_downtime = milliseconds(0);
  EXPECT_EQ(EngineOptions(m, "prod_web", "qemu:///system", seconds(60)).status().code(),
            StatusCode::kInvalid);
}

}  // namespace
}  // namespace ferry::agent

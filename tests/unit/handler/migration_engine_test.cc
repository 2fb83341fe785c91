// The engine against a scripted FakeHypervisor: policy actions reach libvirt, cancel and its
// refusal after the switch, attach to a running job, failure semantics, offline migration,
// post-copy recovery. The engine under faults: engine_faults_test.cc.
#include "migration/migration_engine.h"

#include <gtest/gtest.h>

#include <thread>

#include "fake_hypervisor.h"

namespace ferry::migration {
namespace {

using testing::FakeHypervisor;
using testing::FakeTarget;
using testing::HotScript;
using testing::kMiB;
using testing::Opts;

TEST(MigrationEngine, AutoSwitchesHotGuestToPostCopy) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(40);
  std::vector<Action> seen;
  int progress = 0;
  MigrationCallbacks cb;
  cb.on_action = [&](const Action& a) { seen.push_back(a); };
  cb.on_progress = [&](const Progress&) { ++progress; };
  Migration m(Opts(), hv, target, RealClock::Get(), cb);
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  EXPECT_EQ(r.mode_used, "postcopy");
  EXPECT_EQ(hv.postcopy_calls, 1);
  EXPECT_EQ(hv.downtimes, (std::vector<std::uint32_t>{75}));
  EXPECT_TRUE(hv.last_plan.flags.postcopy);
  EXPECT_EQ(r.guest_location, GuestLocation::kDestination);
  EXPECT_EQ(r.downtime, Millis(42));
  EXPECT_EQ(r.total_time, Millis(4321));
  EXPECT_EQ(r.bytes_sent, 300 * kMiB);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].kind, ActionKind::kSetMaxDowntime);
  EXPECT_EQ(seen[1].kind, ActionKind::kSwitchToPostCopy);
  EXPECT_EQ(seen[1].dirty_rate_bytes_per_s, 64 * kMiB);
  EXPECT_GT(progress, 0);
  EXPECT_EQ(r.actions.size(), seen.size());
}

TEST(MigrationEngine, NoPostCopyAbortsAtTimeoutGuestStaysOnSource) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(400);
  auto o = Opts();
  o.allow_postcopy = false;
  o.completion_timeout_per_gib_s = 40;  // 0.25 GiB -> 10 s
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kAborted);
  EXPECT_EQ(r.status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(r.status.message().find("still running on the source"), std::string::npos) << r.status;
  EXPECT_EQ(hv.postcopy_calls, 0);
  EXPECT_EQ(hv.abort_calls, 1);
  EXPECT_EQ(r.guest_location, GuestLocation::kSource);
  ASSERT_FALSE(r.actions.empty());
  EXPECT_EQ(r.actions.back().kind, ActionKind::kAbort);
  EXPECT_EQ(r.actions.back().at, Millis(10200));  // first sample at or past 10 s
}

TEST(MigrationEngine, CancelBeforeSwitchAbortsJob) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(2000);
  auto o = Opts();
  o.poll_interval = Millis(5);
  Migration m(o, hv, target, RealClock::Get());
  MigrationResult r;
  std::thread t([&] { r = m.Run(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_TRUE(m.Cancel().ok());
  t.join();
  EXPECT_EQ(r.outcome, Outcome::kCancelled);
  EXPECT_EQ(r.guest_location, GuestLocation::kSource);
  EXPECT_NE(r.status.message().find("still running on the source"), std::string::npos) << r.status;
  EXPECT_EQ(hv.postcopy_calls, 0);
  EXPECT_GE(hv.abort_calls, 1);
  EXPECT_EQ(m.Cancel().code(), StatusCode::kFailedPrecondition);  // nothing left to cancel
}

TEST(MigrationEngine, CancelAfterSwitchIsRefused) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(40);
  for (int i = 0; i < 500; ++i) {  // a long post-copy phase
    JobSample s = hv.script.back();
    s.elapsed += Millis(300);
    hv.script.push_back(s);
  }
  auto o = Opts();
  o.mode = Mode::kPostCopy;
  o.poll_interval = Millis(2);
  Migration m(o, hv, target, RealClock::Get());
  MigrationResult r;
  std::thread t([&] { r = m.Run(); });
  while (!m.switched_to_postcopy()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const Status st = m.Cancel();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("post-copy"), std::string::npos);
  t.join();
  EXPECT_EQ(r.outcome, Outcome::kSucceeded);
  EXPECT_EQ(hv.abort_calls, 0);
}

TEST(MigrationEngine, AttachesToRunningJobInsteadOfStartingAnother) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.pre_existing_job = true;
  hv.script = HotScript(5);
  Migration m(Opts(), hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(hv.migrate_calls, 0);
  EXPECT_TRUE(r.attached);
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  ASSERT_FALSE(r.actions.empty());
  EXPECT_EQ(r.actions.front().kind, ActionKind::kAttach);
}

TEST(MigrationEngine, LostMigrateConnectionFollowsTheJobItStarted) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(5);
  hv.drop_migrate_connection = true;
  Migration m(Opts(), hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  EXPECT_TRUE(r.attached);
  EXPECT_EQ(hv.migrate_calls, 1);
  ASSERT_GE(r.actions.size(), 2u);
  EXPECT_EQ(r.actions[1].kind, ActionKind::kAttach);
  EXPECT_NE(r.actions[1].reason.find("connection"), std::string::npos);
}

// A hot guest whose migration stream breaks after the switch (libvirt: "job 'migration in'
// failed in post-copy phase"); the first `resume_failures` resumes fail.
void BreakAfterTheSwitch(FakeHypervisor& hv, int resume_failures) {
  hv.script = HotScript(40);
  hv.migrate_error = Status(StatusCode::kUnknown,
                            "virDomainMigrateToURI3: operation failed: job 'migration in' failed "
                            "in post-copy phase");
  hv.resume_failures = resume_failures;
}

// The guest runs on B with part of its memory on A, so going back is impossible: the engine
// resumes the migration until it completes.
TEST(MigrationEngine, BrokenPostCopyIsResumedUntilItCompletes) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  BreakAfterTheSwitch(hv, 2);
  auto o = Opts();
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  EXPECT_EQ(r.mode_used, "postcopy");
  EXPECT_EQ(r.guest_location, GuestLocation::kDestination);
  EXPECT_EQ(hv.resume_calls, 3);
  EXPECT_TRUE(hv.last_plan.flags.postcopy_resume);
  EXPECT_TRUE(hv.last_plan.flags.postcopy);
  std::vector<Action> rec;
  for (const auto& a : r.actions) {
    if (a.kind == ActionKind::kPostCopyRecovery) rec.push_back(a);
  }
  ASSERT_EQ(rec.size(), 3u);
  EXPECT_FALSE(rec[0].ok);
  EXPECT_NE(rec[0].reason.find("attempt 1:"), std::string::npos) << rec[0].reason;
  EXPECT_NE(rec[0].reason.find("Connection refused"), std::string::npos) << rec[0].reason;
  EXPECT_FALSE(rec[1].ok);
  EXPECT_TRUE(rec[2].ok);
  EXPECT_NE(rec[2].reason.find("resumed and completed"), std::string::npos) << rec[2].reason;
  // Stamped with the time since the start, the pause between attempts included.
  EXPECT_GT(rec[0].at, Millis(0));
  EXPECT_GE(rec[2].at - rec[0].at, Millis(2));  // 1 ms, then 2 ms
}

TEST(MigrationEngine, FailureReportsLibvirtReasonAndSourceLocation) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(3);
  hv.migrate_error =
      Status(StatusCode::kUnknown,
             "virDomainMigrateToURI3: operation failed: Lost connection to destination host");
  auto o = Opts();
  o.allow_postcopy = false;
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_NE(r.status.message().find("Lost connection to destination host"), std::string::npos)
      << r.status;
  EXPECT_NE(r.status.message().find("still running on the source"), std::string::npos);
  EXPECT_EQ(r.guest_location, GuestLocation::kSource);
}

TEST(MigrationEngine, OfflineRefusesRunningGuestUnlessAllowedToStopIt) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  auto o = Opts();
  o.offline = true;
  Migration refuse(o, hv, target, RealClock::Get());
  const MigrationResult r1 = refuse.Run();
  EXPECT_EQ(r1.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(hv.migrate_calls, 0);

  o.stop_running = true;
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r2 = m.Run();
  EXPECT_EQ(r2.outcome, Outcome::kSucceeded) << r2.status;
  EXPECT_EQ(r2.mode_used, "offline");
  EXPECT_TRUE(hv.last_plan.flags.offline);
  EXPECT_EQ(target.start_calls, 1);
  EXPECT_EQ(r2.target_followup, TargetFollowUp::kNone);
  EXPECT_EQ(r2.location_seen_by, "target");
  EXPECT_TRUE(r2.downtime.has_value());
  EXPECT_EQ(r2.guest_location, GuestLocation::kDestination);
  ASSERT_FALSE(r2.actions.empty());
  EXPECT_EQ(r2.actions.front().kind, ActionKind::kShutdown);
  EXPECT_EQ(m.Cancel().code(), StatusCode::kFailedPrecondition);
}

TEST(MigrationEngine, InvalidOptionsNeverTouchTheHypervisor) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  auto o = Opts();
  o.destination_uri = "";
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.status.code(), StatusCode::kInvalid);
  EXPECT_EQ(hv.migrate_calls, 0);
}

}  // namespace
}  // namespace ferry::migration

// The engine under faults: libvirt refusing the post-copy switch or the abort, a dead target,
// lost job statistics, a source left paused, post-copy that cannot be resumed for a while,
// Detach, callbacks that call back into the engine, and a node agent without a connection
// to the target. Every case here once hung, lost its policy or told an untruth.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "fake_hypervisor.h"
#include "migration/migration_engine.h"

namespace ferry::migration {
namespace {

using testing::FakeHypervisor;
using testing::FakeTarget;
using testing::HotScript;
using testing::Opts;

int Count(const MigrationResult& r, ActionKind k, std::optional<bool> ok = std::nullopt) {
  int n = 0;
  for (const auto& a : r.actions) n += a.kind == k && (!ok || a.ok == *ok) ? 1 : 0;
  return n;
}

const Action* Last(const MigrationResult& r, ActionKind k) {
  const Action* found = nullptr;
  for (const auto& a : r.actions) {
    if (a.kind == k) found = &a;
  }
  return found;
}

// A hot guest whose job takes ~120 s of job time: 400 samples 300 ms apart.
void LongHotJob(FakeHypervisor& hv) { hv.script = HotScript(400); }

// libvirt refuses the switch (a job started without VIR_MIGRATE_POSTCOPY): the policy learns,
// gives post-copy up after its attempts, and the completion timeout still aborts. Before the
// fix the policy went silent after its first proposal and the job ran to its end.
TEST(EngineFaults, RefusedSwitchLeavesTheTimeoutAbortArmed) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  LongHotJob(hv);
  hv.refuse_postcopy = -1;
  auto o = Opts();
  o.completion_timeout_per_gib_s = 80;  // 0.25 GiB -> 20 s of job time
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kAborted) << r.status;
  EXPECT_EQ(r.guest_location, GuestLocation::kSource);
  EXPECT_EQ(hv.postcopy_calls, 3);  // PolicyConfig::max_switch_attempts
  EXPECT_EQ(Count(r, ActionKind::kSwitchToPostCopy, false), 3);
  EXPECT_EQ(Count(r, ActionKind::kSwitchToPostCopy, true), 0);
  EXPECT_NE(Last(r, ActionKind::kSwitchToPostCopy)->reason.find("post-copy given up"),
            std::string::npos);
  const Action* abort = Last(r, ActionKind::kAbort);
  ASSERT_NE(abort, nullptr);
  EXPECT_GE(abort->at, Millis(20000));
  EXPECT_LT(abort->at, Millis(20700));
  EXPECT_FALSE(m.switched_to_postcopy());
}

// The target's libvirtd is dead although bytes still flow to its QEMU: no switch to it.
TEST(EngineFaults, DeadTargetNeverGetsThePostCopySwitch) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  LongHotJob(hv);
  target.set_alive(false);
  auto o = Opts();
  o.completion_timeout_per_gib_s = 40;  // 10 s
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kAborted) << r.status;
  EXPECT_EQ(hv.postcopy_calls, 0);
  EXPECT_NE(r.status.message().find("target libvirtd not confirmed alive (keepalive timed out)"),
            std::string::npos)
      << r.status;
  EXPECT_GT(target.health_calls(), 0);
}

// An abort libvirt refuses is retried (backoff) until taken.
TEST(EngineFaults, RefusedAbortIsRetried) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  LongHotJob(hv);
  hv.refuse_abort = 2;
  auto o = Opts();
  o.allow_postcopy = false;
  o.completion_timeout_per_gib_s = 40;
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kAborted) << r.status;
  EXPECT_EQ(hv.abort_calls, 3);
  EXPECT_EQ(Count(r, ActionKind::kAbort, false), 2);
  EXPECT_EQ(Count(r, ActionKind::kAbort, true), 1);
  EXPECT_EQ(r.guest_location, GuestLocation::kSource);
}

// ...with a bound: then the result says honestly the job could not be stopped (here it
// went on and completed, so the guest moved).
TEST(EngineFaults, AbortThatNeverTakesIsBoundedAndReported) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  LongHotJob(hv);
  hv.refuse_abort = -1;
  auto o = Opts();
  o.allow_postcopy = false;
  o.completion_timeout_per_gib_s = 40;
  o.abort_attempts = 4;
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(hv.abort_calls, 4);
  EXPECT_EQ(Count(r, ActionKind::kAbort, false), 4);
  EXPECT_NE(Last(r, ActionKind::kAbort)->reason.find("the job cannot be stopped"),
            std::string::npos);
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;  // the truth: it completed
  EXPECT_EQ(r.guest_location, GuestLocation::kDestination);
}

// Cancel() says so when libvirt refused the abort; a cancel pending also blocks the switch
// (it wins the tie); the policy keeps going and the engine keeps retrying within its bound.
TEST(EngineFaults, CancelReportsARefusedAbortAndBlocksTheSwitch) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  LongHotJob(hv);
  hv.refuse_abort = -1;
  auto o = Opts();
  o.poll_interval = Millis(2);
  o.abort_attempts = 3;
  Migration m(o, hv, target, RealClock::Get());
  MigrationResult r;
  std::thread t([&] { r = m.Run(); });
  while (!hv.job_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const Status st = m.Cancel();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st;
  EXPECT_NE(st.message().find("refused the abort"), std::string::npos) << st;
  t.join();
  EXPECT_EQ(hv.abort_calls, 3);
  EXPECT_EQ(hv.postcopy_calls, 0);  // a hot guest, but the cancel keeps it in pre-copy
  EXPECT_GE(Count(r, ActionKind::kSwitchToPostCopy, false), 1);
  EXPECT_NE(Last(r, ActionKind::kSwitchToPostCopy)->reason.find("a cancel is pending"),
            std::string::npos);
  EXPECT_NE(Last(r, ActionKind::kCancel)->reason.find("cannot be stopped"), std::string::npos);
}

// A callback that calls back into the engine (the agent cancels from an Event handler) must
// not deadlock: no callback runs under the engine's lock.
TEST(EngineFaults, CallbacksMayCallTheEngine) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  LongHotJob(hv);
  auto o = Opts();
  o.poll_interval = Millis(2);
  Migration* self = nullptr;
  std::atomic<int> nested{0};
  MigrationCallbacks cb;
  cb.on_action = [&](const Action& a) {
    if (a.kind == ActionKind::kCancel && nested++ == 0) (void)self->Cancel();
    (void)self->switched_to_postcopy();
  };
  Migration m(o, hv, target, RealClock::Get(), cb);
  self = &m;
  MigrationResult r;
  std::thread t([&] { r = m.Run(); });
  while (!hv.job_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(m.Cancel().ok());
  t.join();
  EXPECT_EQ(r.outcome, Outcome::kCancelled) << r.status;
  EXPECT_GE(nested.load(), 1);
}

// A failed pre-copy that left the source paused: resumed, and said so (before: "running").
TEST(EngineFaults, SourceLeftPausedIsResumed) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(3);
  hv.migrate_error = Status(StatusCode::kUnknown,
                            "virDomainMigrateToURI3: operation failed: "
                            "migration out job: unexpectedly failed");
  hv.leave_source_paused = true;
  Migration m(Opts(), hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_EQ(hv.domain_resume_calls, 1);
  EXPECT_EQ(Count(r, ActionKind::kResume, true), 1);
  EXPECT_NE(r.status.message().find("left paused on the source and has been resumed"),
            std::string::npos)
      << r.status;
  EXPECT_EQ(r.guest_location, GuestLocation::kSource);
}

// ...but a guest that was paused before the migration stays paused.
TEST(EngineFaults, GuestPausedBeforeTheMigrationStaysPaused) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(3);
  hv.paused_at_start = true;
  hv.migrate_error = Status(StatusCode::kUnknown, "virDomainMigrateToURI3: failed");
  Migration m(Opts(), hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_EQ(hv.domain_resume_calls, 0);
  EXPECT_NE(r.status.message().find("paused as it was before"), std::string::npos) << r.status;
}

// ADR 6 §2 fencing: with hold_paused_source (the node agent) a source the failed migration
// left paused is NOT resumed (the target may run the guest); the result says so and the
// caller decides on the target's word. Before: resumed at once.
TEST(EngineFaults, HeldSourceLeftPausedIsNotResumed) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  target.has_direct = false;  // the node agent: no connection to the target's libvirtd
  hv.script = HotScript(3);
  hv.migrate_error = Status(StatusCode::kUnknown,
                            "virDomainMigrateToURI3: operation failed: "
                            "migration out job: unexpectedly failed");
  hv.leave_source_paused = true;
  auto o = Opts();
  o.hold_paused_source = true;
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_EQ(hv.domain_resume_calls, 0);
  EXPECT_EQ(Count(r, ActionKind::kResume), 0);
  EXPECT_TRUE(r.source_paused);
  EXPECT_EQ(r.guest_location, GuestLocation::kUnknown);
  EXPECT_NE(r.status.message().find("PAUSED on the source and not resumed"), std::string::npos)
      << r.status;
}

// ...a source running after the failure is simply Failed (libvirt resumed it before the
// switch): nothing held.
TEST(EngineFaults, HeldSourceRunningAfterAFailureIsNotHeld) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(3);
  hv.migrate_error = Status(StatusCode::kUnknown, "virDomainMigrateToURI3: failed");
  auto o = Opts();
  o.hold_paused_source = true;
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_FALSE(r.source_paused);
  EXPECT_EQ(r.guest_location, GuestLocation::kSource);
}

// ADR 6 §1: the VMM's uid is set as the domain's migration mark before the job starts, so the
// target's incoming domain carries it. Before: no mark at all.
TEST(EngineFaults, MigrationMarkIsSetBeforeTheJobStarts) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(3);
  auto o = Opts();
  o.migration_uid = "5f0c2b9e-1d2a-4c6b-9e61-0a3c5d7e9f11";
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  EXPECT_EQ(hv.mark_at_migrate, o.migration_uid);
  EXPECT_EQ(target.IncomingMark(), o.migration_uid);
}

// A mark libvirt refuses starts nothing: a target could not tell its incoming domain apart.
TEST(EngineFaults, RefusedMigrationMarkStartsNothing) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(3);
  hv.mark_error = FailedPreconditionError("virDomainSetMetadata: operation failed");
  auto o = Opts();
  o.migration_uid = "5f0c2b9e-1d2a-4c6b-9e61-0a3c5d7e9f11";
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_EQ(hv.migrate_calls, 0);
  EXPECT_EQ(r.guest_location, GuestLocation::kSource);
  EXPECT_NE(r.status.message().find("cannot set the migration mark"), std::string::npos)
      << r.status;
}

// Attach refuses a job whose destination is not ours (the target has no incoming domain).
TEST(EngineFaults, AttachLeavesAJobToAnotherHostAlone) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.pre_existing_job = true;
  hv.script = HotScript(5);
  target.knows_incoming = false;
  Migration m(Opts(), hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status.message().find("does not go to test:///b"), std::string::npos) << r.status;
  EXPECT_EQ(hv.abort_calls, 0);
  EXPECT_EQ(hv.migrate_calls, 0);
}

// Following an adopted job whose statistics stay unavailable: ends at follow_blind_limit
// instead of looping forever.
TEST(EngineFaults, FollowingWithoutStatisticsHasADeadline) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.pre_existing_job = true;
  hv.script = HotScript(5);
  hv.stats_fail_after = 1;  // Run() sees the job, then libvirtd stops answering
  auto o = Opts();
  o.follow_blind_limit = Millis(30);
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_EQ(r.status.code(), StatusCode::kDeadlineExceeded) << r.status;
  EXPECT_NE(r.status.message().find("lost sight of the migration job"), std::string::npos)
      << r.status;
}

// A handler restarted on a broken post-copy job goes straight to recovery.
TEST(EngineFaults, RestartOnBrokenPostCopyRecovers) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.broken_postcopy = true;
  hv.resume_failures = 1;
  Migration m(Opts(), hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  EXPECT_TRUE(r.attached);
  EXPECT_EQ(r.mode_used, "postcopy");
  EXPECT_EQ(hv.resume_calls, 2);
  EXPECT_EQ(Count(r, ActionKind::kPostCopyRecovery, true), 1);
  EXPECT_EQ(r.guest_location, GuestLocation::kDestination);
}

// Recovery is not written off after a few tries: it goes on with backoff until its limit,
// then reports PostCopyRecovering (not Failed); Recover() from outside takes it up again.
TEST(EngineFaults, RecoveryOutlastsAnOutageAndIsCallableAgain) {
  FakeClock clock;
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.broken_postcopy = true;
  hv.resume_failures = -1;
  hv.clock = &clock;
  hv.resume_takes = Millis(60000);  // each failed attempt: a minute of libvirt's timeouts
  auto o = Opts();
  o.postcopy_recovery_limit = Millis(5 * 60000);
  Migration first(o, hv, target, clock);
  const MigrationResult r1 = first.Run();
  EXPECT_EQ(r1.outcome, Outcome::kPostCopyRecovering) << r1.status;
  EXPECT_EQ(r1.guest_location, GuestLocation::kSplit);
  EXPECT_EQ(hv.resume_calls, 5);  // not 5 by a count: 5 minutes of 1-minute attempts
  EXPECT_NE(r1.status.message().find("the guest stays split"), std::string::npos) << r1.status;
  EXPECT_EQ(first.Cancel().code(), StatusCode::kFailedPrecondition);

  hv.set_resume_failures(7);  // the link is back after two more attempts
  Migration again(o, hv, target, clock);
  const MigrationResult r2 = again.Recover();
  EXPECT_EQ(r2.outcome, Outcome::kSucceeded) << r2.status;
  EXPECT_EQ(hv.resume_calls, 8);
  EXPECT_EQ(r2.guest_location, GuestLocation::kDestination);
}

// Recovery does not wait for the target probe's word: the node agent's probe is the target
// AGENT's heartbeat, and with only that agent down the split guest would stay frozen. The
// engine tries the resume (libvirt refuses it while the target's libvirtd is unreachable) and
// notes what the probe said. Before the fix: no attempt while the probe said dead.
TEST(EngineFaults, RecoveryTriesWhateverTheTargetProbeSays) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.broken_postcopy = true;
  target.set_alive(false);
  auto o = Opts();
  o.postcopy_recovery_limit = Millis(60000);
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Recover();
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  EXPECT_EQ(hv.resume_calls, 1);
  EXPECT_EQ(r.guest_location, GuestLocation::kDestination);
}

// ...and while libvirt refuses (the target's libvirtd unreachable) it retries with backoff
// until its limit, saying what libvirt and the probe said.
TEST(EngineFaults, RecoveryRetriesWhileLibvirtRefuses) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.broken_postcopy = true;
  hv.resume_failures = -1;
  target.set_alive(false);
  auto o = Opts();
  o.postcopy_recovery_limit = Millis(20);
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Recover();
  EXPECT_EQ(r.outcome, Outcome::kPostCopyRecovering);
  EXPECT_GE(hv.resume_calls, 2);
  EXPECT_NE(r.status.message().find("Connection refused"), std::string::npos) << r.status;
  EXPECT_NE(r.status.message().find("keepalive timed out"), std::string::npos) << r.status;
}

// Detach (SIGTERM for a rolling update) is not Cancel: the job runs on, nothing is aborted,
// and a later engine attaches to it.
TEST(EngineFaults, DetachLeavesTheJobRunningAndANewRunAttaches) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(300);
  auto o = Opts();
  o.allow_postcopy = false;
  o.completion_timeout_per_gib_s = 1000;
  o.poll_interval = Millis(2);
  MigrationResult r;
  {
    Migration m(o, hv, target, RealClock::Get());
    std::thread t([&] { r = m.Run(); });
    while (!hv.job_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    m.Detach();
    t.join();
  }  // destroyed while its migrate call is still blocked in the fake
  EXPECT_EQ(r.outcome, Outcome::kDetached) << r.status;
  EXPECT_EQ(hv.abort_calls, 0);
  EXPECT_TRUE(hv.job_running());
  EXPECT_EQ(Count(r, ActionKind::kDetach), 1);

  hv.pre_existing_job = true;  // what a restarted handler finds
  o.poll_interval = Millis(1);
  Migration next(o, hv, target, RealClock::Get());
  const MigrationResult r2 = next.Run();
  EXPECT_TRUE(r2.attached);
  EXPECT_EQ(r2.outcome, Outcome::kSucceeded) << r2.status;
  hv.FinishJobAndWait();  // the first engine's let-go call returns
}

// Detach also ends a recovery waiting out its backoff, promptly.
TEST(EngineFaults, DetachEndsRecoveryBackoff) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.broken_postcopy = true;
  hv.resume_failures = -1;
  auto o = Opts();
  o.postcopy_recovery_pause = Millis(60000);
  o.postcopy_recovery_max_pause = Millis(60000);
  Migration m(o, hv, target, RealClock::Get());
  MigrationResult r;
  const auto t0 = std::chrono::steady_clock::now();
  std::thread t([&] { r = m.Recover(); });
  while (hv.resume_calls == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  m.Detach();
  t.join();
  EXPECT_EQ(r.outcome, Outcome::kDetached);
  EXPECT_EQ(r.guest_location, GuestLocation::kSplit);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
}

// The node agent's engine has no connection to the target: success is judged by the source
// (the domain left it), and a cold migration leaves the start to the target side.
TEST(EngineFaults, WithoutTargetAccessTheSourceJudgesAndTheTargetStarts) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  target.has_direct = false;
  hv.script = HotScript(5);
  Migration live(Opts(), hv, target, RealClock::Get());
  const MigrationResult r = live.Run();
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  EXPECT_EQ(r.guest_location, GuestLocation::kDestination);
  EXPECT_EQ(r.location_seen_by, "source");

  FakeHypervisor cold_hv;
  FakeTarget cold_target(cold_hv);
  cold_target.has_direct = false;
  cold_hv.active = false;
  auto o = Opts();
  o.offline = true;
  Migration cold(o, cold_hv, cold_target, RealClock::Get());
  const MigrationResult c = cold.Run();
  EXPECT_EQ(c.outcome, Outcome::kSucceeded) << c.status;
  EXPECT_EQ(c.target_followup, TargetFollowUp::kStart);
  EXPECT_EQ(cold_target.start_calls, 0);
}

// A followed job that completed: the source shows the guest paused for a moment before
// libvirt removes it. That is success, and the paused copy is never resumed.
TEST(EngineFaults, FollowedJobThatCompletedIsNotMistakenForAPausedFailure) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  target.has_direct = false;  // judged by the source alone
  hv.pre_existing_job = true;
  hv.script = HotScript(5);
  hv.linger_paused = 3;
  Migration m(Opts(), hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  EXPECT_EQ(hv.domain_resume_calls, 0);
  EXPECT_EQ(r.guest_location, GuestLocation::kDestination);
}

TEST(EngineFaults, DetachBeforeTheStartStartsNothing) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(5);
  Migration m(Opts(), hv, target, RealClock::Get());
  m.Detach();
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kDetached);
  EXPECT_EQ(hv.migrate_calls, 0);
}

// The agent's probe: a function it fills from the target handler's reports.
TEST(EngineFaults, FuncTargetProbeReportsWhatTheCallerKnows) {
  bool alive = false;
  FuncTargetProbe probe([&] { return TargetHealth{alive, "target handler report"}; });
  EXPECT_FALSE(probe.Health().alive);
  alive = true;
  EXPECT_TRUE(probe.Health().alive);
  EXPECT_EQ(probe.direct(), nullptr);
  FuncTargetProbe empty({});
  EXPECT_FALSE(empty.Health().alive);
}

}  // namespace
}  // namespace ferry::migration

// The engine against a scripted FakeHypervisor: policy actions reach libvirt, cancel and its
// refusal after the switch, attach to a running job, failure semantics, offline migration.
#include "migration/migration_engine.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace ferry::migration {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;

// A source/target pair whose migration job is a script: sample i is what GetJobStats returns
// on its i-th call while the job runs; the job succeeds after the last sample unless aborted.
class FakeHypervisor : public MigrationHypervisor {
 public:
  std::vector<JobSample> script;
  bool pre_existing_job = false;  // a migration job is already running (attach)
  Status migrate_error;           // returned by Migrate when set (after the script ran)
  bool drop_migrate_connection = false;  // Migrate returns Unavailable at once; the job goes on
  int resume_failures = 0;  // post-copy resumes (POSTCOPY_RESUME) that fail before one succeeds
  bool active = true;
  bool persistent = true;

  // Recorded calls.
  std::vector<std::uint32_t> downtimes;
  int postcopy_calls = 0;
  int abort_calls = 0;
  int migrate_calls = 0;
  int resume_calls = 0;
  int start_on_dest_calls = 0;
  MigrationPlan last_plan;

  StatusOr<DomainFacts> InspectDomain(const std::string&) override {
    DomainFacts f;
    f.active = active;
    f.persistent = persistent;
    f.memory_bytes = 256 * kMiB;
    return f;
  }
  StatusOr<DomainRunState> SourceState(const std::string&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (moved_) return DomainRunState::kNotFound;
    return active ? DomainRunState::kRunning : DomainRunState::kShutOff;
  }
  StatusOr<DomainRunState> DestinationState(const std::string&) override {
    std::lock_guard<std::mutex> l(mu_);
    return moved_ ? DomainRunState::kRunning : DomainRunState::kNotFound;
  }
  Status Migrate(const std::string&, const std::string&, const MigrationPlan& plan) override {
    std::unique_lock<std::mutex> l(mu_);
    ++migrate_calls;
    last_plan = plan;
    if (plan.flags.postcopy_resume) {
      if (++resume_calls <= resume_failures) {
        return FailedPreconditionError("virDomainMigrateToURI3: Requested operation is not valid: QEMU reports migration is still running");
      }
      moved_ = true;
      return OkStatus();
    }
    if (!active) {  // offline: instant
      if (!migrate_error.ok()) return migrate_error;
      return OkStatus();
    }
    job_running_ = true;
    if (drop_migrate_connection) {
      pre_existing_job = true;  // libvirtd keeps running the job without us
      return UnavailableError("virDomainMigrateToURI3: connection to libvirtd lost");
    }
    cv_.wait(l, [&] { return job_done_; });
    job_running_ = false;
    if (aborted_) return Status(StatusCode::kCancelled, "virDomainMigrateToURI3: operation aborted: migration out job: canceled by client");
    if (!migrate_error.ok()) return migrate_error;
    moved_ = true;
    return OkStatus();
  }
  StatusOr<JobSample> GetJobStats(const std::string&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (!job_running_ && !pre_existing_job) return JobSample{};
    if (calls_ >= script.size()) {
      job_done_ = true;
      if (pre_existing_job) {
        pre_existing_job = false;
        moved_ = true;
      }
      cv_.notify_all();
      return JobSample{};
    }
    JobSample s = script[calls_++];
    s.active = true;
    s.is_migration_out = true;
    s.postcopy = s.postcopy || switched_;
    return s;
  }
  Status SetMaxDowntime(const std::string&, std::uint32_t ms) override {
    std::lock_guard<std::mutex> l(mu_);
    downtimes.push_back(ms);
    return OkStatus();
  }
  Status StartPostCopy(const std::string&) override {
    std::lock_guard<std::mutex> l(mu_);
    ++postcopy_calls;
    switched_ = true;
    return OkStatus();
  }
  Status AbortJob(const std::string&) override {
    std::lock_guard<std::mutex> l(mu_);
    ++abort_calls;
    if (!job_running_) return FailedPreconditionError("no job is active on the domain");
    aborted_ = true;
    job_done_ = true;
    cv_.notify_all();
    return OkStatus();
  }
  Status Shutdown(const std::string&) override {
    active = false;
    return OkStatus();
  }
  Status Destroy(const std::string&) override {
    active = false;
    return OkStatus();
  }
  Status StartPaused(const std::string&) override { return OkStatus(); }
  std::optional<JobSample> CompletedJobStats(const std::string&) override {
    JobSample s;
    s.elapsed = Millis(4321);
    s.downtime = Millis(42);
    s.data_processed = 300 * kMiB;
    s.iteration = 3;
    return s;
  }
  Status StartOnDestination(const std::string&) override {
    std::lock_guard<std::mutex> l(mu_);
    ++start_on_dest_calls;
    moved_ = true;
    return OkStatus();
  }
  Status DestroyOnDestination(const std::string&) override { return OkStatus(); }

  bool switched() {
    std::lock_guard<std::mutex> l(mu_);
    return switched_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t calls_ = 0;
  bool job_running_ = false;
  bool job_done_ = false;
  bool aborted_ = false;
  bool switched_ = false;
  bool moved_ = false;
};

// A guest dirtying twice the link: pass 1 of 256 MiB at 32 MiB/s, then a full working set.
std::vector<JobSample> HotScript(int samples) {
  std::vector<JobSample> v;
  for (int i = 1; i <= samples; ++i) {
    JobSample s;
    s.elapsed = Millis(i * 300);
    s.data_total = s.memory_total = 256 * kMiB;
    s.data_processed = s.memory_processed = static_cast<std::uint64_t>(i) * 10 * kMiB;
    s.iteration = i <= 25 ? 1 : 2;
    s.memory_remaining = s.data_remaining = s.iteration == 1 ? 256 * kMiB - s.data_processed : 128 * kMiB;
    s.dirty_rate_bytes_per_s = s.iteration >= 2 ? 64 * kMiB : 0;
    s.transfer_rate_bytes_per_s = 32 * kMiB;
    v.push_back(s);
  }
  return v;
}

MigrationOptions Opts() {
  MigrationOptions o;
  o.domain = "vm1";
  o.source_uri = "test:///a";
  o.destination_uri = "test:///b";
  o.poll_interval = Millis(1);
  o.progress_interval = Millis(0);
  return o;
}

TEST(MigrationEngine, AutoSwitchesHotGuestToPostCopy) {
  FakeHypervisor hv;
  hv.script = HotScript(40);
  std::vector<Action> seen;
  int progress = 0;
  MigrationCallbacks cb;
  cb.on_action = [&](const Action& a) { seen.push_back(a); };
  cb.on_progress = [&](const Progress&) { ++progress; };
  Migration m(Opts(), hv, RealClock::Get(), cb);
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
  hv.script = HotScript(400);
  auto o = Opts();
  o.allow_postcopy = false;
  o.completion_timeout_per_gib_s = 40;  // 0.25 GiB -> 10 s
  Migration m(o, hv, RealClock::Get());
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
  hv.script = HotScript(2000);
  auto o = Opts();
  o.poll_interval = Millis(5);
  Migration m(o, hv, RealClock::Get());
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
  hv.script = HotScript(40);
  for (int i = 0; i < 500; ++i) {  // a long post-copy phase
    JobSample s = hv.script.back();
    s.elapsed += Millis(300);
    hv.script.push_back(s);
  }
  auto o = Opts();
  o.mode = Mode::kPostCopy;
  o.poll_interval = Millis(2);
  Migration m(o, hv, RealClock::Get());
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
  hv.pre_existing_job = true;
  hv.script = HotScript(5);
  Migration m(Opts(), hv, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(hv.migrate_calls, 0);
  EXPECT_TRUE(r.attached);
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  ASSERT_FALSE(r.actions.empty());
  EXPECT_EQ(r.actions.front().kind, ActionKind::kAttach);
}

TEST(MigrationEngine, LostMigrateConnectionFollowsTheJobItStarted) {
  FakeHypervisor hv;
  hv.script = HotScript(5);
  hv.drop_migrate_connection = true;
  Migration m(Opts(), hv, RealClock::Get());
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
  hv.migrate_error = Status(StatusCode::kUnknown, "virDomainMigrateToURI3: operation failed: job 'migration in' failed in post-copy phase");
  hv.resume_failures = resume_failures;
}

// The guest runs on B with part of its memory on A, so going back is impossible: the engine
// resumes the migration until it completes.
TEST(MigrationEngine, BrokenPostCopyIsResumedUntilItCompletes) {
  FakeHypervisor hv;
  BreakAfterTheSwitch(hv, 2);
  auto o = Opts();
  o.postcopy_recovery_pause = Millis(20);
  Migration m(o, hv, RealClock::Get());
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
  EXPECT_NE(rec[0].reason.find("attempt 1/5"), std::string::npos) << rec[0].reason;
  EXPECT_NE(rec[0].reason.find("still running"), std::string::npos) << rec[0].reason;
  EXPECT_FALSE(rec[1].ok);
  EXPECT_TRUE(rec[2].ok);
  EXPECT_NE(rec[2].reason.find("resumed and completed"), std::string::npos) << rec[2].reason;
  // Stamped with the time since the start, the pause between attempts included.
  EXPECT_GT(rec[0].at, Millis(0));
  EXPECT_GE(rec[2].at - rec[0].at, Millis(40));
}

// Every resume fails: the result says the guest is split and why.
TEST(MigrationEngine, PostCopyRecoveryGivesUpAfterItsAttempts) {
  FakeHypervisor hv;
  BreakAfterTheSwitch(hv, 100);
  auto o = Opts();
  o.postcopy_recovery_attempts = 2;
  o.postcopy_recovery_pause = Millis(10);
  Migration m(o, hv, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_EQ(r.guest_location, GuestLocation::kSplit);
  EXPECT_EQ(hv.resume_calls, 2);
  EXPECT_NE(r.status.message().find("failed in post-copy phase"), std::string::npos) << r.status;
  EXPECT_NE(r.status.message().find("post-copy recovery: "), std::string::npos) << r.status;
}

TEST(MigrationEngine, PostCopyRecoveryOptionsAreValidated) {
  FakeHypervisor hv;
  auto o = Opts();
  o.postcopy_recovery_attempts = -1;
  Migration m(o, hv, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.status.code(), StatusCode::kInvalid);
  EXPECT_NE(r.status.message().find("recovery attempts"), std::string::npos) << r.status;
  EXPECT_EQ(hv.migrate_calls, 0);
}

TEST(MigrationEngine, FailureReportsLibvirtReasonAndSourceLocation) {
  FakeHypervisor hv;
  hv.script = HotScript(3);
  hv.migrate_error = Status(StatusCode::kUnknown, "virDomainMigrateToURI3: operation failed: Lost connection to destination host");
  auto o = Opts();
  o.allow_postcopy = false;
  Migration m(o, hv, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_NE(r.status.message().find("Lost connection to destination host"), std::string::npos) << r.status;
  EXPECT_NE(r.status.message().find("still running on the source"), std::string::npos);
  EXPECT_EQ(r.guest_location, GuestLocation::kSource);
}

TEST(MigrationEngine, OfflineRefusesRunningGuestUnlessAllowedToStopIt) {
  FakeHypervisor hv;
  auto o = Opts();
  o.offline = true;
  Migration refuse(o, hv, RealClock::Get());
  const MigrationResult r1 = refuse.Run();
  EXPECT_EQ(r1.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(hv.migrate_calls, 0);

  o.stop_running = true;
  Migration m(o, hv, RealClock::Get());
  const MigrationResult r2 = m.Run();
  EXPECT_EQ(r2.outcome, Outcome::kSucceeded) << r2.status;
  EXPECT_EQ(r2.mode_used, "offline");
  EXPECT_TRUE(hv.last_plan.flags.offline);
  EXPECT_EQ(hv.start_on_dest_calls, 1);
  EXPECT_TRUE(r2.downtime.has_value());
  EXPECT_EQ(r2.guest_location, GuestLocation::kDestination);
  ASSERT_FALSE(r2.actions.empty());
  EXPECT_EQ(r2.actions.front().kind, ActionKind::kShutdown);
  EXPECT_EQ(m.Cancel().code(), StatusCode::kFailedPrecondition);
}

TEST(MigrationEngine, InvalidOptionsNeverTouchTheHypervisor) {
  FakeHypervisor hv;
  auto o = Opts();
  o.destination_uri = "";
  Migration m(o, hv, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.status.code(), StatusCode::kInvalid);
  EXPECT_EQ(hv.migrate_calls, 0);
}

}  // namespace
}  // namespace ferry::migration

// A scripted source node and target for the engine's tests. The source's migration job is a
// script: sample i is what GetJobStats returns on its i-th call while the job runs; the job
// succeeds after the last sample unless aborted or told to fail. Knobs make it misbehave the
// way libvirt can: refuse StartPostCopy or AbortJob, lose its stats, leave the source paused,
// break post-copy (source paused, post-copy failed), and a target whose libvirtd is dead.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "migration/hypervisor.h"

namespace ferry::migration::testing {

constexpr std::uint64_t kMiB = 1 << 20;

class FakeHypervisor : public MigrationHypervisor {
 public:
  std::vector<JobSample> script;
  bool pre_existing_job = false;         // a migration job is already running (attach)
  Status migrate_error;                  // returned by Migrate when set (after the script ran)
  bool drop_migrate_connection = false;  // Migrate returns Unavailable at once; the job goes on
  int resume_failures = 0;  // post-copy resumes that fail before one succeeds (-1 = all)
  bool active = true;
  bool persistent = true;
  bool paused_at_start = false;      // the guest was paused before the migration
  int refuse_postcopy = 0;           // StartPostCopy refusals before one is taken (-1 = all)
  int refuse_abort = 0;              // AbortJob refusals before one is taken (-1 = all)
  bool leave_source_paused = false;  // a failed pre-copy leaves the source paused
  bool stats_unavailable = false;    // GetJobStats fails (libvirtd unreachable)...
  int stats_fail_after = -1;         // ...or does after this many answers (-1 = never)
  bool broken_postcopy = false;      // source paused, post-copy failed: waits for a resume
  int linger_paused = 0;       // after a job completes the source shows paused this many reads
  FakeClock* clock = nullptr;  // advanced by resume_takes on every failed resume
  Millis resume_takes{0};
  // MeasureDirtyRate's answer; unset = the interface's default (not supported).
  std::optional<StatusOr<DirtyRateMeasurement>> dirty_rate;
  std::function<void()> while_measuring;  // runs inside MeasureDirtyRate (e.g. a Cancel)
  Status mark_error;                      // SetMigrationMark's answer when set

  // The migration mark of the source domain (<ferry:migration uid>), as libvirt keeps it in
  // the live domain's <metadata>; the target's incoming domain carries what it was when the
  // job started (FakeTarget::IncomingMark).
  std::string mark;
  std::string mark_at_migrate;  // the mark when the first migrate call came

  // Recorded calls.
  std::vector<std::uint32_t> downtimes;
  int postcopy_calls = 0;
  int abort_calls = 0;
  int migrate_calls = 0;
  int resume_calls = 0;         // post-copy resumes (VIR_MIGRATE_POSTCOPY_RESUME)
  int domain_resume_calls = 0;  // virDomainResume
  int measure_calls = 0;
  Millis measured_for{0};
  bool measured_during_job = false;  // MeasureDirtyRate called while a job ran (must not)
  MigrationPlan last_plan;

  StatusOr<DomainFacts> InspectDomain(const std::string&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (moved_) return NotFoundError("domain not found");
    DomainFacts f;
    f.active = active;
    f.paused = paused_at_start;
    f.persistent = persistent;
    f.memory_bytes = 256 * kMiB;
    return f;
  }
  StatusOr<DomainRunState> SourceState(const std::string&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (moved_ && linger_left_ > 0) {
      --linger_left_;
      return DomainRunState::kPaused;
    }
    if (moved_) return DomainRunState::kNotFound;
    if (broken_postcopy) return DomainRunState::kPausedPostCopyFailed;
    if (switched_ && job_running_) return DomainRunState::kPausedPostCopy;
    if (source_paused_ || paused_at_start) return DomainRunState::kPaused;
    return active ? DomainRunState::kRunning : DomainRunState::kShutOff;
  }
  Status Migrate(const std::string&, const std::string&, const MigrationPlan& plan) override {
    std::unique_lock<std::mutex> l(mu_);
    ++migrate_calls;
    if (migrate_calls == 1) mark_at_migrate = mark;
    last_plan = plan;
    if (plan.flags.postcopy_resume) {
      ++resume_calls;
      if (resume_failures < 0 || resume_calls <= resume_failures) {
        if (clock != nullptr) clock->Advance(resume_takes);
        return FailedPreconditionError(
            "virDomainMigrateToURI3: operation failed: migration failed: Unable to write to "
            "socket: Connection refused");
      }
      broken_postcopy = false;
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
    call_returned_ = true;
    cv_.notify_all();
    if (aborted_) {
      return Status(StatusCode::kCancelled,
                    "virDomainMigrateToURI3: operation aborted: migration out job: canceled by "
                    "client");
    }
    if (!migrate_error.ok()) {
      if (switched_) {
        broken_postcopy = true;
      } else if (leave_source_paused) {
        source_paused_ = true;
      }
      return migrate_error;
    }
    moved_ = true;
    return OkStatus();
  }
  StatusOr<JobSample> GetJobStats(const std::string&) override {
    std::lock_guard<std::mutex> l(mu_);
    if (stats_fail_after >= 0 && stats_answers_ >= stats_fail_after) stats_unavailable = true;
    ++stats_answers_;
    if (stats_unavailable) {
      return UnavailableError("virDomainGetJobStats: cannot recv data: Connection reset by peer");
    }
    if (broken_postcopy) {
      JobSample s;
      s.active = true;
      s.is_migration_out = true;
      s.postcopy_failed = true;
      return s;
    }
    if (!job_running_ && !pre_existing_job) return JobSample{};
    if (calls_ >= script.size()) {
      job_done_ = true;
      if (pre_existing_job) {
        pre_existing_job = false;
        job_running_ = false;
        moved_ = !aborted_;
        linger_left_ = linger_paused;
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
    if (refuse_postcopy < 0 || postcopy_calls <= refuse_postcopy) {
      return FailedPreconditionError(
          "virDomainMigrateStartPostCopy: Requested operation is not valid: switching to "
          "post-copy requires migration to be started with VIR_MIGRATE_POSTCOPY flag");
    }
    switched_ = true;
    return OkStatus();
  }
  Status AbortJob(const std::string&) override {
    std::lock_guard<std::mutex> l(mu_);
    ++abort_calls;
    if (refuse_abort < 0 || abort_calls <= refuse_abort) {
      return FailedPreconditionError(
          "virDomainAbortJob: Timed out during operation: cannot acquire state change lock");
    }
    if (!job_running_ && !pre_existing_job) {
      return FailedPreconditionError("no job is active on the domain");
    }
    aborted_ = true;
    job_done_ = true;
    if (pre_existing_job) {
      pre_existing_job = false;
      job_running_ = false;
    }
    cv_.notify_all();
    return OkStatus();
  }
  Status Resume(const std::string&) override {
    std::lock_guard<std::mutex> l(mu_);
    ++domain_resume_calls;
    source_paused_ = false;
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
  Status SetMigrationMark(const std::string&, const std::string& uid) override {
    std::lock_guard<std::mutex> l(mu_);
    if (!mark_error.ok()) return mark_error;
    mark = uid;
    return OkStatus();
  }
  StatusOr<DirtyRateMeasurement> MeasureDirtyRate(const std::string& domain,
                                                  Millis length) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      ++measure_calls;
      measured_for = length;
      measured_during_job = measured_during_job || job_running_;
    }
    if (while_measuring) while_measuring();
    if (dirty_rate.has_value()) return *dirty_rate;
    return MigrationHypervisor::MeasureDirtyRate(domain, length);
  }
  std::optional<JobSample> CompletedJobStats(const std::string&) override {
    JobSample s;
    s.elapsed = Millis(4321);
    s.downtime = Millis(42);
    s.data_processed = 300 * kMiB;
    s.iteration = 3;
    return s;
  }

  // The job ends now (as if the script ran out) and waits until our migrate call returned.
  void FinishJobAndWait() {
    std::unique_lock<std::mutex> l(mu_);
    job_done_ = true;
    cv_.notify_all();
    cv_.wait(l, [&] { return call_returned_ || !job_running_; });
  }
  bool switched() {
    std::lock_guard<std::mutex> l(mu_);
    return switched_;
  }
  bool moved() {
    std::lock_guard<std::mutex> l(mu_);
    return moved_;
  }
  bool job_running() {
    std::lock_guard<std::mutex> l(mu_);
    return job_running_;
  }
  void set_stats_unavailable(bool v) {
    std::lock_guard<std::mutex> l(mu_);
    stats_unavailable = v;
  }
  void set_resume_failures(int n) {
    std::lock_guard<std::mutex> l(mu_);
    resume_failures = n;
  }

 private:
  friend class FakeTarget;
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t calls_ = 0;
  int stats_answers_ = 0;
  int linger_left_ = 0;
  bool job_running_ = false;
  bool job_done_ = false;
  bool call_returned_ = false;
  bool aborted_ = false;
  bool switched_ = false;
  bool moved_ = false;
  bool source_paused_ = false;
};

// The target as the source knows it: a health probe, and (optionally) its libvirtd directly.
class FakeTarget : public TargetProbe, public TargetHypervisor {
 public:
  explicit FakeTarget(FakeHypervisor& source) : source_(source) {}
  bool has_direct = true;
  bool knows_incoming = true;  // an incoming domain shows while a job runs (else: elsewhere)
  int start_calls = 0;
  int destroy_calls = 0;

  void set_alive(bool v) {
    std::lock_guard<std::mutex> l(mu_);
    alive_ = v;
  }
  int health_calls() {
    std::lock_guard<std::mutex> l(mu_);
    return health_calls_;
  }

  TargetHealth Health() override {
    std::lock_guard<std::mutex> l(mu_);
    ++health_calls_;
    if (alive_) return {true, "fake keepalive"};
    return {false, "keepalive timed out"};
  }
  TargetHypervisor* direct() override { return has_direct ? this : nullptr; }
  StatusOr<DomainRunState> GuestState(const std::string&) override {
    std::lock_guard<std::mutex> l(source_.mu_);
    if (source_.moved_) return DomainRunState::kRunning;
    if ((source_.job_running_ || source_.pre_existing_job) && knows_incoming) {
      return DomainRunState::kPaused;
    }
    return DomainRunState::kNotFound;
  }
  // The mark of the incoming (or arrived) domain: the source's when the job started; "" when
  // there is no such domain.
  std::string IncomingMark() {
    std::lock_guard<std::mutex> l(source_.mu_);
    if (source_.migrate_calls == 0) return "";
    return source_.mark_at_migrate;
  }
  Status StartGuest(const std::string&) override {
    ++start_calls;
    std::lock_guard<std::mutex> l(source_.mu_);
    source_.moved_ = true;
    return OkStatus();
  }
  Status DestroyGuest(const std::string&) override {
    ++destroy_calls;
    return OkStatus();
  }
  std::optional<JobSample> CompletedJobStats(const std::string&) override { return std::nullopt; }

 private:
  FakeHypervisor& source_;
  std::mutex mu_;
  bool alive_ = true;
  int health_calls_ = 0;
};

// A guest dirtying twice the link: pass 1 of 256 MiB at 32 MiB/s, then a full working set.
inline std::vector<JobSample> HotScript(int samples) {
  std::vector<JobSample> v;
  for (int i = 1; i <= samples; ++i) {
    JobSample s;
    s.elapsed = Millis(i * 300);
    s.data_total = s.memory_total = 256 * kMiB;
    s.data_processed = s.memory_processed = static_cast<std::uint64_t>(i) * 10 * kMiB;
    s.iteration = i <= 25 ? 1 : 2;
    s.memory_remaining = s.data_remaining =
        s.iteration == 1 ? 256 * kMiB - s.data_processed : 128 * kMiB;
    s.dirty_rate_bytes_per_s = s.iteration >= 2 ? 64 * kMiB : 0;
    s.transfer_rate_bytes_per_s = 32 * kMiB;
    v.push_back(s);
  }
  return v;
}

inline MigrationOptions Opts() {
  MigrationOptions o;
  o.domain = "vm1";
  o.source_uri = "test:///a";
  o.destination_uri = "test:///b";
  o.poll_interval = Millis(1);
  o.progress_interval = Millis(0);
  o.postcopy_recovery_pause = Millis(1);
  o.postcopy_recovery_max_pause = Millis(4);
  o.premeasure = Millis(0);  // Auto as before the measurement (start_test.cc turns it on)
  return o;
}

}  // namespace ferry::migration::testing

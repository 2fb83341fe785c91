// A MigrationHypervisor that follows but never starts: it forwards everything to this node's
// libvirtd except a migrate call that is not a post-copy resume, which it refuses. A source
// handler that re-attaches after a restart runs the engine over it, so a job that ended in
// the instant between the handler's look and the engine's cannot be started a second time.
#pragma once

#include "migration/hypervisor.h"

namespace ferry::agent {

class AttachOnlyHypervisor final : public migration::MigrationHypervisor {
 public:
  explicit AttachOnlyHypervisor(migration::MigrationHypervisor& inner) : inner_(inner) {}

  StatusOr<migration::DomainFacts> InspectDomain(const std::string& d) override {
    return inner_.InspectDomain(d);
  }
  StatusOr<migration::DomainRunState> SourceState(const std::string& d) override {
    return inner_.SourceState(d);
  }
  Status Migrate(const std::string& d, const std::string& uri,
                 const migration::MigrationPlan& plan) override {
    if (!plan.flags.postcopy_resume) {
      return FailedPreconditionError(
          "re-attaching after a handler restart: no migration job to follow, and a new one is "
          "never started (the first one ended while the handler was away)");
    }
    return inner_.Migrate(d, uri, plan);
  }
  StatusOr<migration::JobSample> GetJobStats(const std::string& d) override {
    return inner_.GetJobStats(d);
  }
  Status SetMaxDowntime(const std::string& d, std::uint32_t ms) override {
    return inner_.SetMaxDowntime(d, ms);
  }
  Status StartPostCopy(const std::string& d) override { return inner_.StartPostCopy(d); }
  Status AbortJob(const std::string& d) override { return inner_.AbortJob(d); }
  Status Resume(const std::string& d) override { return inner_.Resume(d); }
  Status Shutdown(const std::string& d) override { return inner_.Shutdown(d); }
  Status Destroy(const std::string& d) override { return inner_.Destroy(d); }
  Status StartPaused(const std::string& d) override { return inner_.StartPaused(d); }
  Status SetMigrationMark(const std::string& d, const std::string& uid) override {
    return inner_.SetMigrationMark(d, uid);
  }
  std::optional<migration::JobSample> CompletedJobStats(const std::string& d) override {
    return inner_.CompletedJobStats(d);
  }
  // No new job is started here, so there is nothing to measure for (and no 2 s to spend).
  StatusOr<migration::DirtyRateMeasurement> MeasureDirtyRate(const std::string&,
                                                             migration::Millis) override {
    return FailedPreconditionError(
        "re-attaching after a handler restart: no new migration is started, nothing to measure");
  }

 private:
  migration::MigrationHypervisor& inner_;
};

}  // namespace ferry::agent

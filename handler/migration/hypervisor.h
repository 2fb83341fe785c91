// What the migration engine needs from the nodes.
//
//   MigrationHypervisor  this node's libvirtd (the source): two connections, one blocked in
//                        the migrate call, one for stats and control. Required.
//   TargetProbe          what the source knows about the target: whether its libvirtd is alive
//                        (the post-copy switch needs that) and, only where this process has
//                        one, a direct TargetHypervisor. The node agent has no connection to
//                        another node (the target handler reports through the API server) and
//                        fills the probe from those reports: FuncTargetProbe. The
//                        `ferry-handler migrate` command line keeps a keepalive'd connection
//                        to the target's libvirtd and implements both.
// LibvirtHypervisor / LibvirtTarget (handler/libvirt) implement them; tests use fakes. Every
// method is safe to call from any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "core/status.h"
#include "migration/migration_plan.h"
#include "migration/migration_types.h"
#include "migration/start_policy.h"

namespace ferry::migration {

enum class DomainRunState {
  kNotFound,
  kRunning,
  kPaused,
  kPausedPostCopy,
  kPausedPostCopyFailed,
  kShutOff,
  kOther
};
const char* DomainRunStateName(DomainRunState s);

class MigrationHypervisor {
 public:
  virtual ~MigrationHypervisor() = default;

  virtual StatusOr<DomainFacts> InspectDomain(const std::string& domain) = 0;
  virtual StatusOr<DomainRunState> SourceState(const std::string& domain) = 0;
  // Runs the migration (or a post-copy resume, plan.flags.postcopy_resume) until libvirt
  // returns. Blocks; the engine calls it on its own thread.
  virtual Status Migrate(const std::string& domain, const std::string& destination_uri,
                         const MigrationPlan& plan) = 0;
  // The running job (sample.active false when there is none). Must not queue behind Migrate.
  virtual StatusOr<JobSample> GetJobStats(const std::string& domain) = 0;
  virtual Status SetMaxDowntime(const std::string& domain, std::uint32_t ms) = 0;
  virtual Status StartPostCopy(const std::string& domain) = 0;
  virtual Status AbortJob(const std::string& domain) = 0;
  virtual Status Resume(const std::string& domain) = 0;    // a paused guest runs again
  virtual Status Shutdown(const std::string& domain) = 0;  // graceful (ACPI)
  virtual Status Destroy(const std::string& domain) = 0;   // hard stop
  virtual Status StartPaused(const std::string& domain) = 0;
  // Sets the migration mark (migration_mark.h: <ferry:migration uid=".."/> in <metadata>) on
  // the live domain and, when it is persistent, its definition, replacing an older mark.
  virtual Status SetMigrationMark(const std::string& domain, const std::string& migration_uid) = 0;

  // Statistics of the finished job as the source saw it (after post-copy only its
  // JOB_COMPLETED event has them). nullopt when the source has none.
  virtual std::optional<JobSample> CompletedJobStats(const std::string& domain) = 0;

  // Measures how fast the running guest dirties its memory, over `length`, without migrating
  // it (QEMU's calc-dirty-rate). Blocks about `length`. The default: not supported (the
  // engine then starts Auto without a measurement and says so).
  virtual StatusOr<DirtyRateMeasurement> MeasureDirtyRate(const std::string& domain,
                                                          Millis length) {
    (void)domain;
    (void)length;
    return FailedPreconditionError("dirty-rate measurement not supported by this hypervisor");
  }
};

// The target's libvirtd, reached directly from this process (command line only).
class TargetHypervisor {
 public:
  virtual ~TargetHypervisor() = default;
  virtual StatusOr<DomainRunState> GuestState(const std::string& domain) = 0;
  virtual Status StartGuest(const std::string& domain) = 0;
  virtual Status DestroyGuest(const std::string& domain) = 0;
  virtual std::optional<JobSample> CompletedJobStats(const std::string& domain) = 0;
};

class TargetProbe {
 public:
  virtual ~TargetProbe() = default;
  // The latest known liveness of the target's libvirtd. Called at every poll (and before a
  // post-copy switch): must answer quickly from what it already knows.
  virtual TargetHealth Health() = 0;
  // Direct access to the target's libvirtd, where this process has it; else null, and the
  // engine judges by the source and leaves the target's part to the target side.
  virtual TargetHypervisor* direct() { return nullptr; }
};

// A probe filled by the caller, e.g. the node agent from the target handler's VMM status and
// the target's Hypervisor heartbeat.
class FuncTargetProbe final : public TargetProbe {
 public:
  explicit FuncTargetProbe(std::function<TargetHealth()> health) : health_(std::move(health)) {}
  TargetHealth Health() override {
    if (!health_) return {false, "no target health source"};
    return health_();
  }

 private:
  std::function<TargetHealth()> health_;
};

}  // namespace ferry::migration

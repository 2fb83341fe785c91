// What the migration engine needs from the hypervisor: the source node's libvirtd (two
// connections: one blocked in the migrate call, one for stats and control) and a client
// connection to the target's. LibvirtHypervisor (handler/libvirt) implements it; tests use
// FakeHypervisor. Every method is safe to call from any thread.
#pragma once

#include <optional>
#include <string>

#include "core/status.h"
#include "migration/migration_plan.h"
#include "migration/migration_types.h"

namespace ferry::migration {

enum class DomainRunState { kNotFound, kRunning, kPaused, kPausedPostCopy, kPausedPostCopyFailed, kShutOff, kOther };
const char* DomainRunStateName(DomainRunState s);

class MigrationHypervisor {
 public:
  virtual ~MigrationHypervisor() = default;

  // Source side.
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
  virtual Status Shutdown(const std::string& domain) = 0;  // graceful (ACPI)
  virtual Status Destroy(const std::string& domain) = 0;   // hard stop
  virtual Status StartPaused(const std::string& domain) = 0;

  // Statistics of the finished job: from the destination, the source, or the source's
  // JOB_COMPLETED event (after post-copy only the event has them).
  virtual std::optional<JobSample> CompletedJobStats(const std::string& domain) = 0;

  // Destination side.
  virtual StatusOr<DomainRunState> DestinationState(const std::string& domain) = 0;
  virtual Status StartOnDestination(const std::string& domain) = 0;
  virtual Status DestroyOnDestination(const std::string& domain) = 0;
};

}  // namespace ferry::migration

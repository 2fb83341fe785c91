#include "agent/engine_options.h"

#include <chrono>

namespace ferry::agent {
namespace {

std::uint32_t Ms(std::chrono::nanoseconds d) {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace

migration::Mode EngineMode(api::MigrationMode m) {
  switch (m) {
    case api::MigrationMode::kPreCopy:
      return migration::Mode::kPreCopy;
    case api::MigrationMode::kPostCopy:
      return migration::Mode::kPostCopy;
    case api::MigrationMode::kAuto:
      return migration::Mode::kAuto;
  }
  return migration::Mode::kAuto;
}

StatusOr<migration::MigrationOptions> EngineOptions(const api::VirtualMachineMigration& vmm,
                                                    const std::string& domain_name,
                                                    const std::string& source_uri,
                                                    migration::Millis shutdown_timeout) {
  if (!vmm.status.effective_options) {
    return InvalidError("status.effectiveOptions is missing (the operator writes it at admission)");
  }
  if (vmm.status.target_uri.empty()) return InvalidError("status.targetURI is empty");
  const auto& e = *vmm.status.effective_options;
  migration::MigrationOptions o;
  o.domain = domain_name;
  o.source_uri = source_uri;
  o.destination_uri = vmm.status.target_uri;
  o.mode = EngineMode(e.mode);
  o.offline = e.offline;
  o.stop_running = e.offline;  // a cold migration of a running guest stops it first
  o.shutdown_timeout = shutdown_timeout;
  o.copy_storage = e.storage == api::StorageMode::kCopy;
  o.allow_postcopy = e.allow_post_copy || e.mode == api::MigrationMode::kPostCopy;
  o.allow_auto_converge = e.allow_auto_converge;
  o.tls = vmm.status.target_uri.rfind("qemu+tls://", 0) == 0;
  if (e.bandwidth) {
    if (e.bandwidth->Sign() < 0) return InvalidError("effectiveOptions.bandwidth is negative");
    o.bandwidth_bytes_per_s = static_cast<std::uint64_t>(e.bandwidth->Value());
  }
  if (e.max_downtime) o.max_downtime_ms = Ms(*e.max_downtime);
  for (const auto& step : e.downtime_schedule) o.downtime_schedule_ms.push_back(Ms(step));
  if (e.completion_timeout_per_gib) {
    o.completion_timeout_per_gib_s =
        std::chrono::duration<double>(*e.completion_timeout_per_gib).count();
  }
  // ADR 6: the VMM's uid marks the domain before the job starts, and a source left paused by
  // a job that ended without success waits for the target's word (migration_runner.h).
  o.migration_uid = vmm.metadata.uid;
  o.hold_paused_source = true;
  o.namespace_label = vmm.metadata.namespace_;
  o.vm_label = vmm.spec.vm_name;
  FERRY_RETURN_IF_ERROR(migration::ValidateOptions(o));
  return o;
}

}  // namespace ferry::agent

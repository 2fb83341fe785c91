#include "migration/migration_plan.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace ferry::migration {
namespace {

// QEMU's auto-converge defaults are 20 % then +10 % per pass; in the lab a guest dirtying
// 3× the link needed 99 % to converge, so the defaults are kept: a bigger initial
// throttle slows every guest that trips the trigger, converging or not.
constexpr int kAutoConvergeInitial = 20;
constexpr int kAutoConvergeIncrement = 10;
// Multifd has no benefit beyond this many channels on one link and costs a thread each.
constexpr std::uint32_t kMaxParallelConnections = 32;

bool StartsWith(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

}  // namespace

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kAuto:
      return "auto";
    case Mode::kPreCopy:
      return "precopy";
    case Mode::kPostCopy:
      return "postcopy";
  }
  return "?";
}

std::optional<Mode> ParseMode(const std::string& s) {
  if (s == "auto" || s == "Auto") return Mode::kAuto;
  if (s == "precopy" || s == "PreCopy") return Mode::kPreCopy;
  if (s == "postcopy" || s == "PostCopy") return Mode::kPostCopy;
  return std::nullopt;
}

std::uint64_t BandwidthMiBPerSecond(std::uint64_t bytes_per_s) {
  constexpr std::uint64_t kMiB = 1024 * 1024;
  if (bytes_per_s == 0) return 0;
  return std::max<std::uint64_t>(1, (bytes_per_s + kMiB / 2) / kMiB);
}

Status ValidateOptions(const MigrationOptions& o) {
  if (o.domain.empty()) return InvalidError("domain name is empty");
  if (o.source_uri.empty()) return InvalidError("source URI is empty");
  if (o.destination_uri.empty()) return InvalidError("destination URI is empty");
  if (o.destination_uri == o.source_uri) {
    return InvalidError("destination URI equals the source URI: " + o.source_uri);
  }
  if (!o.migrate_uri.empty() && !StartsWith(o.migrate_uri, "tcp://") &&
      !StartsWith(o.migrate_uri, "rdma://")) {
    return InvalidError("migrate URI must be tcp://host[:port] (or rdma://): " + o.migrate_uri);
  }
  if (o.mode == Mode::kPostCopy && !o.allow_postcopy) {
    return InvalidError("mode postcopy contradicts --no-postcopy");
  }
  if (o.max_downtime_ms == 0) return InvalidError("max downtime must be > 0 ms");
  if (!(o.completion_timeout_per_gib_s > 0) || !std::isfinite(o.completion_timeout_per_gib_s)) {
    return InvalidError("completion timeout per GiB must be a positive number of seconds");
  }
  if (o.parallel_connections > kMaxParallelConnections) {
    return InvalidError("parallel connections must be <= " +
                        std::to_string(kMaxParallelConnections));
  }
  if (o.poll_interval.count() <= 0) return InvalidError("poll interval must be > 0");
  if (o.premeasure.count() < 0) return InvalidError("dirty-rate measurement length must be >= 0");
  if (o.abort_attempts < 1) return InvalidError("abort attempts must be >= 1");
  if (o.follow_blind_limit.count() <= 0) return InvalidError("follow blind limit must be > 0");
  if (o.postcopy_recovery_pause.count() <= 0)
    return InvalidError("post-copy recovery pause must be > 0");
  if (o.postcopy_recovery_max_pause.count() < 0 || o.postcopy_recovery_limit.count() < 0) {
    return InvalidError("post-copy recovery pause and limit must be >= 0");
  }
  if (o.tls && !StartsWith(o.destination_uri, "qemu+tls://")) {
    return InvalidError(
        "TLS migration needs the daemons' connection over TLS too (qemu+tls://...), got " +
        o.destination_uri);
  }
  for (std::size_t i = 0; i < o.downtime_schedule_ms.size(); ++i) {
    if (o.downtime_schedule_ms[i] == 0)
      return InvalidError("downtime schedule steps must be > 0 ms");
    if (i > 0 && o.downtime_schedule_ms[i] <= o.downtime_schedule_ms[i - 1]) {
      return InvalidError("downtime schedule must be strictly ascending");
    }
  }
  if (!o.downtime_schedule_ms.empty() && o.downtime_schedule_ms.back() > o.max_downtime_ms) {
    return InvalidError("downtime schedule exceeds the max downtime of " +
                        std::to_string(o.max_downtime_ms) + " ms");
  }
  return OkStatus();
}

std::vector<std::uint32_t> DowntimeSchedule(const MigrationOptions& o) {
  if (!o.downtime_schedule_ms.empty()) return o.downtime_schedule_ms;
  // Quarter, half, full: a quiet guest finishes on the first step with a short pause; a
  // stalled one gets two chances before the policy moves on.
  std::vector<std::uint32_t> s;
  for (std::uint32_t v : {o.max_downtime_ms / 4, o.max_downtime_ms / 2, o.max_downtime_ms}) {
    if (v > 0 && (s.empty() || v > s.back())) s.push_back(v);
  }
  return s;
}

StatusOr<MigrationPlan> BuildPlan(const MigrationOptions& o, const DomainFacts& facts) {
  FERRY_RETURN_IF_ERROR(ValidateOptions(o));
  MigrationPlan p;
  p.flags.peer2peer = true;
  p.flags.persist_dest = true;
  p.flags.undefine_source = facts.persistent;  // a transient domain has nothing to undefine
  p.migrate_uri = o.migrate_uri;
  p.bandwidth_mib_per_s = BandwidthMiBPerSecond(o.bandwidth_bytes_per_s);
  if (o.bandwidth_bytes_per_s > 0 &&
      p.bandwidth_mib_per_s * 1024 * 1024 != o.bandwidth_bytes_per_s) {
    p.notes.push_back("bandwidth " + std::to_string(o.bandwidth_bytes_per_s) + " B/s rounded to " +
                      std::to_string(p.bandwidth_mib_per_s) +
                      " MiB/s (libvirt's unit; never 0 = unlimited)");
  }

  if (o.offline) {
    if (!facts.persistent) {
      return FailedPreconditionError("offline migration needs a persistent (defined) domain; '" +
                                     o.domain + "' is transient");
    }
    p.flags.offline = true;
    p.flags.undefine_source = true;
    if (o.copy_storage && !facts.local_disk_targets.empty()) {
      // libvirt refuses OFFLINE with NON_SHARED_DISK; the engine starts the guest paused
      // and migrates it non-live instead (its vCPUs never run on the source).
      p.flags.offline = false;
      p.flags.non_shared_disk = true;
      p.flags.tls = o.tls;  // the disks cross over NBD
      p.migrate_disks = facts.local_disk_targets;
      p.notes.push_back("offline with local disks: copied through a paused, never-run guest");
    }
    p.policy.allow_postcopy = false;
    return p;
  }

  if (!facts.active) {
    return FailedPreconditionError("domain '" + o.domain +
                                   "' is not running; use offline (cold) migration");
  }
  p.flags.live = true;
  p.flags.tls = o.tls;
  const bool postcopy = o.allow_postcopy && (o.mode == Mode::kAuto || o.mode == Mode::kPostCopy);
  p.flags.postcopy = postcopy;
  p.flags.auto_converge = o.allow_auto_converge && o.mode != Mode::kPostCopy;
  if (p.flags.auto_converge) {
    p.auto_converge_initial = kAutoConvergeInitial;
    p.auto_converge_increment = kAutoConvergeIncrement;
  }
  if (o.copy_storage) {
    if (facts.local_disk_targets.empty()) {
      p.notes.push_back("--copy-storage: the domain has no local disks; nothing to copy");
    } else {
      p.flags.non_shared_disk = true;
      p.migrate_disks = facts.local_disk_targets;
    }
  }
  if (o.parallel_connections > 1) {
    if (postcopy) {
      // Multifd together with post-copy needs QEMU/libvirt newer than the ones Ferry targets
      // (libvirt 9.0); keep them apart rather than fail at start.
      p.notes.push_back("parallel connections ignored: not supported together with post-copy");
    } else {
      p.flags.parallel = true;
      p.parallel_connections = o.parallel_connections;
    }
  }
  const auto schedule = DowntimeSchedule(o);
  p.initial_downtime_ms = schedule.front();
  p.policy.allow_postcopy = postcopy;
  p.policy.switch_after_first_pass = o.mode == Mode::kPostCopy;
  p.policy.auto_converge_armed = p.flags.auto_converge;
  p.policy.downtime_schedule_ms = schedule;
  // Like KubeVirt, the timeout scales with everything that must cross: RAM, plus the local
  // disks when they are copied.
  std::uint64_t bytes = facts.memory_bytes;
  if (p.flags.non_shared_disk) bytes += facts.local_disk_bytes;
  const double gib = static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0);
  p.policy.completion_timeout = Millis(static_cast<std::int64_t>(
      std::llround(std::max(gib, 1.0 / 1024.0) * o.completion_timeout_per_gib_s * 1000.0)));
  return p;
}

}  // namespace ferry::migration

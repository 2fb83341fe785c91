// Migration options (what the caller asks for) and the plan built from them (which libvirt
// flags and parameters to use, and how the convergence policy is configured). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "migration/convergence_policy.h"
#include "migration/migration_types.h"

namespace ferry::migration {

struct MigrationOptions {
  std::string domain;
  std::string source_uri;       // this node's libvirtd (client URI)
  std::string destination_uri;  // the target's libvirtd as the source daemon reaches it (P2P)
  std::string migrate_uri;      // optional data-stream address (tcp://host[:port])
  Mode mode = Mode::kAuto;
  bool offline = false;       // cold migration
  bool stop_running = false;  // offline: shut a running guest down first (else refuse)
  bool copy_storage = false;  // copy local disks (VIR_MIGRATE_NON_SHARED_DISK)
  bool allow_postcopy = true;
  bool allow_auto_converge = true;
  // Encrypt the migration stream with QEMU's TLS (VIR_MIGRATE_TLS); the daemons' own
  // connection must then be TLS too (destination_uri qemu+tls://). The caller decides (on by
  // default where the node has certificates: see migration/tls.h).
  bool tls = false;
  // Bytes per second; 0 = unlimited. libvirt takes MiB/s: see BandwidthMiBPerSecond.
  std::uint64_t bandwidth_bytes_per_s = 0;
  std::uint32_t max_downtime_ms = 300;              // QEMU's default; the schedule ends here
  std::vector<std::uint32_t> downtime_schedule_ms;  // ascending; empty = derived
  std::uint32_t parallel_connections = 0;           // > 1: multifd (pre-copy only)
  // Auto only: measure the guest's dirty rate this long before starting and choose the start
  // from it (start_policy.h); 0 = do not measure (the convergence policy alone decides).
  // libvirt measures whole seconds. 2 s: QEMU samples 512 pages per GiB, and in the lab 1 s
  // read a 8 MiB/s guest as 6-16 MiB/s, 2 s as 6-10.
  Millis premeasure{2000};
  // KubeVirt's default; counts guest RAM plus, with copy_storage, the local disks.
  double completion_timeout_per_gib_s = 150;
  Millis poll_interval{300};
  Millis progress_interval{1000};
  Millis shutdown_timeout{30000};
  // An abort (policy timeout or Cancel) libvirt refuses is retried at most this many times,
  // the pause doubling from poll_interval; then the result says the job could not be stopped.
  int abort_attempts = 5;
  // While following a job, no usable job sample (lasting Unavailable / FailedPrecondition
  // errors) for this long ends the run with Failed "lost sight of the job" instead of
  // looping; a post-copy job that broke goes to recovery as soon as the source reports it.
  Millis follow_blind_limit{60000};
  // A post-copy migration whose connection breaks leaves the guest split between the nodes:
  // it is resumed (VIR_MIGRATE_POSTCOPY_RESUME) again and again, the pause doubling from
  // postcopy_recovery_pause up to postcopy_recovery_max_pause, while the outage lasts. After
  // postcopy_recovery_limit (counted from the first attempt of this run) the run ends with
  // Outcome::kPostCopyRecovering, never Failed: the caller calls Recover() again.
  Millis postcopy_recovery_pause{2000};
  Millis postcopy_recovery_max_pause{30000};
  Millis postcopy_recovery_limit{600000};
  // The VirtualMachineMigration's uid: set as the domain's migration mark
  // (migration_mark.h) before the job starts, so the target's incoming domain carries it.
  // "" = no mark (the command line).
  std::string migration_uid;
  // The caller fences (ADR 6 §2, the node agent): a source that a migration ending without
  // success left paused is NOT resumed here (the target may already run the guest); the
  // result says so (MigrationResult::source_paused) and the caller resumes or destroys it
  // once the target has reported. Off: resumed unless the target's libvirtd, read directly,
  // shows the guest running (the command line).
  bool hold_paused_source = false;
  // Metrics labels.
  std::string namespace_label;
  std::string vm_label;  // "" = domain
};

// libvirt's bandwidth is in MiB/s and 0 means unlimited: a cap below 1 MiB/s must not become
// 0. Rounds to the nearest MiB/s, at least 1 for any nonzero cap.
std::uint64_t BandwidthMiBPerSecond(std::uint64_t bytes_per_s);

// Validates options; returns a clear error for bad input.
Status ValidateOptions(const MigrationOptions& o);

// What we know about the domain before migrating it.
struct DomainFacts {
  bool active = false;
  bool paused = false;  // active but paused (by someone else) before the migration started
  bool persistent = false;
  std::uint64_t memory_bytes = 0;
  std::vector<std::string> local_disk_targets;  // e.g. "vda": disks that need copying
  std::uint64_t local_disk_bytes = 0;           // their capacity, summed
};

// Flags, independent of libvirt's numbering (the adapter maps them).
struct MigrationFlags {
  bool live = false;
  bool peer2peer = false;
  bool persist_dest = false;
  bool undefine_source = false;
  bool offline = false;
  bool postcopy = false;
  bool postcopy_resume = false;
  bool auto_converge = false;
  bool non_shared_disk = false;
  bool parallel = false;
  bool tls = false;
  friend bool operator==(const MigrationFlags&, const MigrationFlags&) = default;
};

struct MigrationPlan {
  MigrationFlags flags;
  std::uint64_t bandwidth_mib_per_s = 0;   // 0 = not set
  std::uint32_t parallel_connections = 0;  // 0 = not set
  std::vector<std::string> migrate_disks;  // VIR_MIGRATE_PARAM_MIGRATE_DISKS
  std::string migrate_uri;
  int auto_converge_initial = 0;    // percent; 0 = not set
  int auto_converge_increment = 0;  // percent; 0 = not set
  std::uint32_t initial_downtime_ms = 0;
  PolicyConfig policy;
  std::vector<std::string> notes;  // adjustments made, for the log
};

// Ascending downtime steps ending at max_downtime_ms (explicit schedule wins).
std::vector<std::uint32_t> DowntimeSchedule(const MigrationOptions& o);

// Builds the live (or offline) plan. Bad combinations are errors, not silent fixes.
StatusOr<MigrationPlan> BuildPlan(const MigrationOptions& o, const DomainFacts& facts);

}  // namespace ferry::migration

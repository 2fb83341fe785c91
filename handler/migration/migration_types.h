// Value types shared by the migration engine, its policy and the hypervisor adapter.
// Nothing here knows about libvirt: the adapter (handler/libvirt) translates to and from them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace ferry::migration {

using Millis = std::chrono::milliseconds;

// How a live migration is driven (DESIGN §4).
enum class Mode {
  kAuto,      // pre-copy; the convergence policy may raise downtime, rely on auto-converge,
              // switch to post-copy or abort
  kPreCopy,   // pre-copy only (downtime schedule, auto-converge if allowed, abort at timeout)
  kPostCopy,  // pre-copy's first pass, then post-copy
};
const char* ModeName(Mode m);
std::optional<Mode> ParseMode(const std::string& s);

// One sample of a running (or completed) migration job, as libvirt's job stats report it.
struct JobSample {
  bool active = false;            // a job is running on the domain
  bool is_migration_out = false;  // ...and it is an outgoing migration
  bool postcopy = false;          // the domain is in the post-copy phase
  Millis elapsed{0};              // time since the job started (libvirt's clock)
  std::uint64_t data_total = 0;   // memory + disk
  std::uint64_t data_processed = 0;
  std::uint64_t data_remaining = 0;
  std::uint64_t memory_total = 0;
  std::uint64_t memory_processed = 0;
  std::uint64_t memory_remaining = 0;
  std::uint64_t disk_total = 0;
  std::uint64_t disk_processed = 0;
  std::uint64_t disk_remaining = 0;
  std::uint64_t dirty_rate_bytes_per_s = 0;     // pages/s × page size
  std::uint64_t transfer_rate_bytes_per_s = 0;  // memory_bps
  std::uint64_t iteration = 0;                  // memory pass, 1 = first full pass
  int throttle_percent = 0;                     // auto-converge CPU throttle
  std::uint64_t postcopy_requests = 0;
  // The source domain is paused because its post-copy migration broke (libvirt keeps the job
  // for a VIR_MIGRATE_POSTCOPY_RESUME; no bytes move until then).
  bool postcopy_failed = false;
  std::optional<Millis> downtime;  // completed jobs only
};

// What the source knows about the target's libvirtd (see TargetProbe in hypervisor.h).
struct TargetHealth {
  bool alive = false;
  std::string detail;  // where the knowledge comes from, or why it is not alive
};

// What the caller sees at most about once a second.
struct Progress {
  JobSample sample;
  double percent = 0;  // processed / total of the data
  // Time to completion as the convergence policy projects it (see
  // ConvergencePolicy::projected_completion); nullopt when it projects none.
  std::optional<Millis> eta;
};

// A convergence or control action taken during a migration (becomes a Kubernetes Event).
enum class ActionKind {
  kSetMaxDowntime,       // initial value or a step along the schedule
  kAutoConvergeEngaged,  // QEMU started throttling the guest's vCPUs
  kSwitchToPostCopy,
  kAbort,             // the policy gave up (completion timeout)
  kCancel,            // the caller cancelled
  kPostCopyRecovery,  // a broken post-copy was resumed (or the attempt failed)
  kAttach,            // an already running migration job was found and adopted
  kShutdown,          // cold migration: the guest was stopped
  kResume,            // a source guest left paused by a failed migration was resumed
  kDetach,            // the engine stopped following; the libvirt job was left running
  // Auto: how the migration starts, from the dirty rate measured before it (or why it was not
  // measured); dirty_rate / transfer_rate / remaining carry the measured rate, the link's cap
  // and the guest's size; ok false when the measurement failed.
  kStartDecision,
};
const char* ActionKindName(ActionKind k);

struct Action {
  ActionKind kind = ActionKind::kSetMaxDowntime;
  Millis at{
      0};  // job time (libvirt's elapsed) when taken; cancel and recovery: time since the start
  std::string reason;  // human-readable, with the numbers that caused it
  std::uint64_t remaining_bytes = 0;
  std::uint64_t dirty_rate_bytes_per_s = 0;
  std::uint64_t transfer_rate_bytes_per_s = 0;
  std::uint64_t iteration = 0;
  std::uint32_t max_downtime_ms = 0;  // kSetMaxDowntime
  bool ok = true;                     // whether libvirt accepted it
};

enum class Outcome {
  kSucceeded,
  kFailed,     // before the switch: the guest is on the source (see guest_location)
  kCancelled,  // Cancel() before the switch: the guest is on the source
  kAborted,    // the policy gave up at the completion timeout: the guest is on the source
  // Post-copy broke and could not be resumed within postcopy_recovery_limit: the guest runs on
  // the destination with part of its memory still on the source. Neither Failed nor
  // Succeeded: nothing may be destroyed on either node; call Migration::Recover() again.
  kPostCopyRecovering,
  // Detach() (e.g. SIGTERM for a rolling update): the engine stopped following; the libvirt
  // job runs on. A new engine's Run() attaches to it (or Recover() if it broke meanwhile).
  kDetached,
};
const char* OutcomeName(Outcome o);

// What the target side must still do after an offline migration when the engine has no
// direct access to the target's libvirtd (the node agent: the target handler does it).
enum class TargetFollowUp {
  kNone,
  kStart,           // the definition arrived stopped: start it
  kDestroyAndStart  // a paused, never-run copy arrived (disks copied): destroy it, then start
};
const char* TargetFollowUpName(TargetFollowUp f);

enum class GuestLocation { kUnknown, kSource, kDestination, kSplit };
const char* GuestLocationName(GuestLocation g);

struct MigrationResult {
  Outcome outcome = Outcome::kFailed;
  Status status;          // OK on success; otherwise the reason (libvirt's message included)
  std::string mode_used;  // "precopy", "postcopy" or "offline"
  Millis total_time{0};   // libvirt's job time when known, else wall time
  Millis wall_time{0};
  std::optional<Millis> downtime;
  std::uint64_t bytes_sent = 0;
  std::uint64_t memory_bytes = 0;  // guest RAM
  std::uint64_t iterations = 0;
  bool attached = false;  // adopted a job started by someone else
  bool tls = false;       // the migration was asked for over TLS (VIR_MIGRATE_TLS)
  GuestLocation guest_location = GuestLocation::kUnknown;
  // Where guest_location comes from: "target" (the target's libvirtd, read directly),
  // "source" (inferred from the source: the domain left it), or "" (unknown).
  std::string location_seen_by;
  TargetFollowUp target_followup = TargetFollowUp::kNone;
  // hold_paused_source: the migration ended without success and left the source paused (not
  // paused before it); nothing resumed it. The caller decides with the target's word.
  bool source_paused = false;
  std::vector<Action> actions;
};

}  // namespace ferry::migration

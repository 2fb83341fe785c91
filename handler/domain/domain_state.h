// A domain's state, why it is in it, and lifecycle event types: libvirt's virDomainState,
// its per-state reasons and VIR_DOMAIN_EVENT_* mapped to Ferry's enums by the adapter
// (handler/libvirt/libvirt_node.cc), so the agent's decisions never see libvirt's numbers.
#pragma once

namespace ferry::domain {

enum class DomainState {
  kUnknown,
  kRunning,
  kBlocked,  // running, waiting on a resource
  kPaused,
  kShuttingDown,  // being shut down
  kShutOff,
  kCrashed,    // crashed and left in place (on_crash=preserve)
  kSuspended,  // power-management suspend
};
const char* DomainStateName(DomainState s);
// Running, blocked, paused, shutting down or suspended: QEMU runs.
bool IsActive(DomainState s);

// libvirt's reasons of all states, merged (names as `virsh domstate --reason` prints them).
enum class DomainReason {
  kUnknown,
  kBooted,           // running: a normal start-up
  kMigrated,         // running: arrived by migration / shut off: left by migration
  kRestored,         // running: from a saved image
  kUnpaused,         // running: resumed
  kMigrationCancel,  // running: a failed or cancelled outgoing migration returned control
  kPostCopy,         // running (target) or paused (source): post-copy in progress
  kUser,             // paused by a user
  kMigration,        // paused: a migration in progress (incoming, or the source's final stop)
  kIoError,          // paused on a disk error
  kWatchdog,
  kStartingUp,      // paused: the domain is being started (e.g. started paused)
  kPostCopyFailed,  // paused: a post-copy migration broke
  kShutdown,        // shut off (or shutting down) from inside the guest or by an ACPI request
  kDestroyed,       // shut off: destroyed
  kCrashed,         // shut off or crashed: the guest crashed
  kFailed,          // shut off: QEMU failed (could not start, or died)
  kSaved,
  kFromSnapshot,
  kPanicked,  // crashed: guest panic
};
const char* DomainReasonName(DomainReason r);

// VIR_DOMAIN_EVENT_* (lifecycle events).
enum class DomainEventType {
  kUnknown,
  kDefined,
  kUndefined,
  kStarted,
  kSuspended,
  kResumed,
  kStopped,
  kShutdown,
  kPmSuspended,
  kCrashed,
};
const char* DomainEventTypeName(DomainEventType t);

}  // namespace ferry::domain

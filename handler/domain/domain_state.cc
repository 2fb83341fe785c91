#include "domain/domain_state.h"

namespace ferry::domain {

const char* DomainStateName(DomainState s) {
  switch (s) {
    case DomainState::kUnknown:
      return "unknown";
    case DomainState::kRunning:
      return "running";
    case DomainState::kBlocked:
      return "blocked";
    case DomainState::kPaused:
      return "paused";
    case DomainState::kShuttingDown:
      return "shutting-down";
    case DomainState::kShutOff:
      return "shut-off";
    case DomainState::kCrashed:
      return "crashed";
    case DomainState::kSuspended:
      return "pm-suspended";
  }
  return "unknown";
}

bool IsActive(DomainState s) {
  switch (s) {
    case DomainState::kRunning:
    case DomainState::kBlocked:
    case DomainState::kPaused:
    case DomainState::kShuttingDown:
    case DomainState::kSuspended:
      return true;
    case DomainState::kUnknown:
    case DomainState::kShutOff:
    case DomainState::kCrashed:
      return false;
  }
  return false;
}

const char* DomainReasonName(DomainReason r) {
  switch (r) {
    case DomainReason::kUnknown:
      return "unknown";
    case DomainReason::kBooted:
      return "booted";
    case DomainReason::kMigrated:
      return "migrated";
    case DomainReason::kRestored:
      return "restored";
    case DomainReason::kUnpaused:
      return "unpaused";
    case DomainReason::kMigrationCancel:
      return "migration-canceled";
    case DomainReason::kPostCopy:
      return "post-copy";
    case DomainReason::kUser:
      return "user";
    case DomainReason::kMigration:
      return "migrating";
    case DomainReason::kIoError:
      return "I/O error";
    case DomainReason::kWatchdog:
      return "watchdog";
    case DomainReason::kStartingUp:
      return "starting up";
    case DomainReason::kPostCopyFailed:
      return "post-copy failed";
    case DomainReason::kShutdown:
      return "shutdown";
    case DomainReason::kDestroyed:
      return "destroyed";
    case DomainReason::kCrashed:
      return "crashed";
    case DomainReason::kFailed:
      return "failed";
    case DomainReason::kSaved:
      return "saved";
    case DomainReason::kFromSnapshot:
      return "from snapshot";
    case DomainReason::kPanicked:
      return "panicked";
  }
  return "unknown";
}

const char* DomainEventTypeName(DomainEventType t) {
  switch (t) {
    case DomainEventType::kUnknown:
      return "Unknown";
    case DomainEventType::kDefined:
      return "Defined";
    case DomainEventType::kUndefined:
      return "Undefined";
    case DomainEventType::kStarted:
      return "Started";
    case DomainEventType::kSuspended:
      return "Suspended";
    case DomainEventType::kResumed:
      return "Resumed";
    case DomainEventType::kStopped:
      return "Stopped";
    case DomainEventType::kShutdown:
      return "Shutdown";
    case DomainEventType::kPmSuspended:
      return "PMSuspended";
    case DomainEventType::kCrashed:
      return "Crashed";
  }
  return "Unknown";
}

}  // namespace ferry::domain

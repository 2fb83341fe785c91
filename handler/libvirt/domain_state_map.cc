#include "libvirt/domain_state_map.h"

#include <libvirt/libvirt.h>

namespace ferry::libvirt {

using domain::DomainEventType;
using domain::DomainReason;
using domain::DomainState;

MappedState MapDomainState(int state, int reason) {
  switch (state) {
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED: {
      MappedState m{state == VIR_DOMAIN_RUNNING ? DomainState::kRunning : DomainState::kBlocked,
                    DomainReason::kUnknown};
      switch (reason) {
        case VIR_DOMAIN_RUNNING_BOOTED:
          m.reason = DomainReason::kBooted;
          break;
        case VIR_DOMAIN_RUNNING_MIGRATED:
          m.reason = DomainReason::kMigrated;
          break;
        case VIR_DOMAIN_RUNNING_RESTORED:
          m.reason = DomainReason::kRestored;
          break;
        case VIR_DOMAIN_RUNNING_FROM_SNAPSHOT:
          m.reason = DomainReason::kFromSnapshot;
          break;
        case VIR_DOMAIN_RUNNING_UNPAUSED:
          m.reason = DomainReason::kUnpaused;
          break;
        case VIR_DOMAIN_RUNNING_MIGRATION_CANCELED:
          m.reason = DomainReason::kMigrationCancel;
          break;
        case VIR_DOMAIN_RUNNING_POSTCOPY:
          m.reason = DomainReason::kPostCopy;
          break;
        case VIR_DOMAIN_RUNNING_POSTCOPY_FAILED:
          m.reason = DomainReason::kPostCopyFailed;
          break;
        default:
          break;
      }
      return m;
    }
    case VIR_DOMAIN_PAUSED: {
      MappedState m{DomainState::kPaused, DomainReason::kUnknown};
      switch (reason) {
        case VIR_DOMAIN_PAUSED_USER:
          m.reason = DomainReason::kUser;
          break;
        case VIR_DOMAIN_PAUSED_MIGRATION:
          m.reason = DomainReason::kMigration;
          break;
        case VIR_DOMAIN_PAUSED_SAVE:
          m.reason = DomainReason::kSaved;
          break;
        case VIR_DOMAIN_PAUSED_IOERROR:
          m.reason = DomainReason::kIoError;
          break;
        case VIR_DOMAIN_PAUSED_WATCHDOG:
          m.reason = DomainReason::kWatchdog;
          break;
        case VIR_DOMAIN_PAUSED_FROM_SNAPSHOT:
          m.reason = DomainReason::kFromSnapshot;
          break;
        case VIR_DOMAIN_PAUSED_SHUTTING_DOWN:
          m.reason = DomainReason::kShutdown;
          break;
        case VIR_DOMAIN_PAUSED_CRASHED:
          m.reason = DomainReason::kCrashed;
          break;
        case VIR_DOMAIN_PAUSED_STARTING_UP:
          m.reason = DomainReason::kStartingUp;
          break;
        case VIR_DOMAIN_PAUSED_POSTCOPY:
          m.reason = DomainReason::kPostCopy;
          break;
        case VIR_DOMAIN_PAUSED_POSTCOPY_FAILED:
          m.reason = DomainReason::kPostCopyFailed;
          break;
        default:
          break;
      }
      return m;
    }
    case VIR_DOMAIN_SHUTDOWN:
      return {DomainState::kShuttingDown, DomainReason::kShutdown};
    case VIR_DOMAIN_SHUTOFF: {
      MappedState m{DomainState::kShutOff, DomainReason::kUnknown};
      switch (reason) {
        case VIR_DOMAIN_SHUTOFF_SHUTDOWN:
          m.reason = DomainReason::kShutdown;
          break;
        case VIR_DOMAIN_SHUTOFF_DESTROYED:
          m.reason = DomainReason::kDestroyed;
          break;
        case VIR_DOMAIN_SHUTOFF_CRASHED:
          m.reason = DomainReason::kCrashed;
          break;
        case VIR_DOMAIN_SHUTOFF_MIGRATED:
          m.reason = DomainReason::kMigrated;
          break;
        case VIR_DOMAIN_SHUTOFF_SAVED:
          m.reason = DomainReason::kSaved;
          break;
        case VIR_DOMAIN_SHUTOFF_FAILED:
          m.reason = DomainReason::kFailed;
          break;
        case VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT:
          m.reason = DomainReason::kFromSnapshot;
          break;
        default:
          break;
      }
      return m;
    }
    case VIR_DOMAIN_CRASHED:
      return {DomainState::kCrashed, reason == VIR_DOMAIN_CRASHED_PANICKED
                                         ? DomainReason::kPanicked
                                         : DomainReason::kCrashed};
    case VIR_DOMAIN_PMSUSPENDED:
      return {DomainState::kSuspended, DomainReason::kUnknown};
    default:
      return {};
  }
}

MappedEvent MapLifecycleEvent(int event, int detail) {
  switch (event) {
    case VIR_DOMAIN_EVENT_DEFINED:
      return {DomainEventType::kDefined, DomainReason::kUnknown};
    case VIR_DOMAIN_EVENT_UNDEFINED:
      return {DomainEventType::kUndefined, DomainReason::kUnknown};
    case VIR_DOMAIN_EVENT_STARTED: {
      MappedEvent e{DomainEventType::kStarted, DomainReason::kUnknown};
      if (detail == VIR_DOMAIN_EVENT_STARTED_BOOTED) e.detail = DomainReason::kBooted;
      if (detail == VIR_DOMAIN_EVENT_STARTED_MIGRATED) e.detail = DomainReason::kMigrated;
      if (detail == VIR_DOMAIN_EVENT_STARTED_RESTORED) e.detail = DomainReason::kRestored;
      return e;
    }
    case VIR_DOMAIN_EVENT_SUSPENDED: {
      MappedEvent e{DomainEventType::kSuspended, DomainReason::kUnknown};
      switch (detail) {
        case VIR_DOMAIN_EVENT_SUSPENDED_PAUSED:
          e.detail = DomainReason::kUser;
          break;
        case VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED:
          e.detail = DomainReason::kMigration;
          break;
        case VIR_DOMAIN_EVENT_SUSPENDED_IOERROR:
          e.detail = DomainReason::kIoError;
          break;
        case VIR_DOMAIN_EVENT_SUSPENDED_WATCHDOG:
          e.detail = DomainReason::kWatchdog;
          break;
        case VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY:
          e.detail = DomainReason::kPostCopy;
          break;
        case VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED:
          e.detail = DomainReason::kPostCopyFailed;
          break;
        default:
          break;
      }
      return e;
    }
    case VIR_DOMAIN_EVENT_RESUMED: {
      MappedEvent e{DomainEventType::kResumed, DomainReason::kUnknown};
      if (detail == VIR_DOMAIN_EVENT_RESUMED_UNPAUSED) e.detail = DomainReason::kUnpaused;
      if (detail == VIR_DOMAIN_EVENT_RESUMED_MIGRATED) e.detail = DomainReason::kMigrated;
      if (detail == VIR_DOMAIN_EVENT_RESUMED_POSTCOPY) e.detail = DomainReason::kPostCopy;
      return e;
    }
    case VIR_DOMAIN_EVENT_STOPPED: {
      MappedEvent e{DomainEventType::kStopped, DomainReason::kUnknown};
      switch (detail) {
        case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
          e.detail = DomainReason::kShutdown;
          break;
        case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
          e.detail = DomainReason::kDestroyed;
          break;
        case VIR_DOMAIN_EVENT_STOPPED_CRASHED:
          e.detail = DomainReason::kCrashed;
          break;
        case VIR_DOMAIN_EVENT_STOPPED_MIGRATED:
          e.detail = DomainReason::kMigrated;
          break;
        case VIR_DOMAIN_EVENT_STOPPED_SAVED:
          e.detail = DomainReason::kSaved;
          break;
        case VIR_DOMAIN_EVENT_STOPPED_FAILED:
          e.detail = DomainReason::kFailed;
          break;
        default:
          break;
      }
      return e;
    }
    case VIR_DOMAIN_EVENT_SHUTDOWN:
      return {DomainEventType::kShutdown, DomainReason::kShutdown};
    case VIR_DOMAIN_EVENT_PMSUSPENDED:
      return {DomainEventType::kPmSuspended, DomainReason::kUnknown};
    case VIR_DOMAIN_EVENT_CRASHED:
      return {DomainEventType::kCrashed, detail == VIR_DOMAIN_EVENT_CRASHED_PANICKED
                                             ? DomainReason::kPanicked
                                             : DomainReason::kCrashed};
    default:
      return {};
  }
}

}  // namespace ferry::libvirt

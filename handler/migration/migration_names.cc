// Printable names of the engine's value types (logs, JSON, metrics labels).
#include "migration/hypervisor.h"
#include "migration/migration_types.h"

namespace ferry::migration {

const char* ActionKindName(ActionKind k) {
  switch (k) {
    case ActionKind::kSetMaxDowntime:
      return "SetMaxDowntime";
    case ActionKind::kAutoConvergeEngaged:
      return "AutoConvergeEngaged";
    case ActionKind::kSwitchToPostCopy:
      return "SwitchToPostCopy";
    case ActionKind::kAbort:
      return "Abort";
    case ActionKind::kCancel:
      return "Cancel";
    case ActionKind::kPostCopyRecovery:
      return "PostCopyRecovery";
    case ActionKind::kAttach:
      return "Attach";
    case ActionKind::kShutdown:
      return "Shutdown";
    case ActionKind::kResume:
      return "Resume";
    case ActionKind::kDetach:
      return "Detach";
    case ActionKind::kStartDecision:
      return "StartDecision";
  }
  return "?";
}

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kSucceeded:
      return "Succeeded";
    case Outcome::kFailed:
      return "Failed";
    case Outcome::kCancelled:
      return "Cancelled";
    case Outcome::kAborted:
      return "Aborted";
    case Outcome::kPostCopyRecovering:
      return "PostCopyRecovering";
    case Outcome::kDetached:
      return "Detached";
  }
  return "?";
}

const char* TargetFollowUpName(TargetFollowUp f) {
  switch (f) {
    case TargetFollowUp::kNone:
      return "none";
    case TargetFollowUp::kStart:
      return "start";
    case TargetFollowUp::kDestroyAndStart:
      return "destroy-and-start";
  }
  return "?";
}

const char* GuestLocationName(GuestLocation g) {
  switch (g) {
    case GuestLocation::kUnknown:
      return "unknown";
    case GuestLocation::kSource:
      return "source";
    case GuestLocation::kDestination:
      return "destination";
    case GuestLocation::kSplit:
      return "split (post-copy failed)";
  }
  return "?";
}

const char* DomainRunStateName(DomainRunState s) {
  switch (s) {
    case DomainRunState::kNotFound:
      return "not-found";
    case DomainRunState::kRunning:
      return "running";
    case DomainRunState::kPaused:
      return "paused";
    case DomainRunState::kPausedPostCopy:
      return "paused(post-copy)";
    case DomainRunState::kPausedPostCopyFailed:
      return "paused(post-copy failed)";
    case DomainRunState::kShutOff:
      return "shut-off";
    case DomainRunState::kOther:
      return "other";
  }
  return "?";
}

}  // namespace ferry::migration

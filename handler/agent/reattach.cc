#include "agent/reattach.h"

namespace ferry::agent {

using domain::DomainReason;
using domain::DomainState;

const char* ReattachActionName(ReattachAction a) {
  switch (a) {
    case ReattachAction::kAttach:
      return "attach";
    case ReattachAction::kSucceeded:
      return "succeeded";
    case ReattachAction::kFailed:
      return "failed";
    case ReattachAction::kVmGone:
      return "vm-gone";
    case ReattachAction::kHoldPaused:
      return "hold-paused";
    case ReattachAction::kRetry:
      return "retry";
  }
  return "?";
}

ReattachDecision DecideReattach(const std::optional<domain::DomainInfo>& d, VmRead vm) {
  if (!d) {
    if (vm == VmRead::kUnknown) {
      return {ReattachAction::kRetry,
              "the domain left the source, and the VM could not be read (an API error is not a "
              "deletion): decided again later",
              false};
    }
    if (vm == VmRead::kGone)
      return {ReattachAction::kVmGone, "the VM was deleted during the migration", false};
    return {ReattachAction::kSucceeded,
            "the migration completed while the source handler was away (judged by the source: "
            "the domain left it)",
            false};
  }
  if (d->migration_out) return {ReattachAction::kAttach, "an outgoing migration job runs", false};
  if (d->state == DomainState::kPaused &&
      (d->reason == DomainReason::kPostCopyFailed || d->reason == DomainReason::kPostCopy)) {
    return {ReattachAction::kAttach, "the source is paused in post-copy: recovering", false};
  }
  const std::string state = std::string(domain::DomainStateName(d->state)) + " (" +
                            domain::DomainReasonName(d->reason) + ")";
  if (d->state == DomainState::kPaused) {
    const bool by_migration =
        d->reason == DomainReason::kMigration || d->reason == DomainReason::kUnknown;
    return {ReattachAction::kHoldPaused,
            "the migration ended while the source handler was away and left the guest paused "
            "on the source (" +
                state + "); the target may run it: held until the target reports its domain",
            by_migration};
  }
  return {ReattachAction::kFailed,
          "the migration ended while the source handler was away; the guest is on the source (" +
              state + ")",
          false};
}

}  // namespace ferry::agent

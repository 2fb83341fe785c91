// What a source handler does with a VMM it finds Running with no engine of its own following
// it (it restarted mid-migration). Pure: the source domain as libvirt reports it now and what
// a GET of the VM answered in, the decision out. A handler never starts a migration a second
// time: either the libvirt job is still there and the engine attaches to it (or resumes a
// broken post-copy), or the job ended while the handler was away and its outcome is judged
// from libvirt and the target's word (ADR 6 §2-3):
//   * the domain left the source: Succeeded (a persistent source is undefined only by a
//     migration that completed);
//   * the domain is paused (not by post-copy): the target may run the guest, so it is held
//     (SourcePaused) until the target's TargetDomain says Absent/Removed (resume, Failed) or
//     Running (destroy the paused copy, Succeeded) — never resumed blindly;
//   * the domain runs (libvirt resumed it before the switch) or is shut off: Failed;
//   * the VM could not be read (an API error, not a 404): nothing is decided, retried later.
#pragma once

#include <optional>
#include <string>

#include "domain/node_hypervisor.h"

namespace ferry::agent {

enum class ReattachAction {
  kAttach,      // follow the running job (or recover a broken post-copy) with the engine
  kSucceeded,   // the domain left the source while the handler was away
  kFailed,      // the job ended without moving the guest; it runs (or is off) on the source
  kVmGone,      // the VM was deleted meanwhile: Failed
  kHoldPaused,  // the source is paused: SourcePaused, wait for the target's word
  kRetry,       // the VM could not be read: decide again later
};
const char* ReattachActionName(ReattachAction a);

// What a GET of the VM answered: it exists (with the uid the source domain carries), it is
// gone (404, being deleted, or another uid: re-created under the same name), or the read
// failed (timeout, 5xx, 403, ...): never taken for a deletion (ADR 6 §3).
enum class VmRead { kExists, kGone, kUnknown };

struct ReattachDecision {
  ReattachAction action = ReattachAction::kAttach;
  std::string message;
  // kHoldPaused: the migration paused the guest (not a person), so it is resumed if the
  // target has no copy.
  bool resume_if_absent = false;
};

ReattachDecision DecideReattach(const std::optional<domain::DomainInfo>& source_domain, VmRead vm);

}  // namespace ferry::agent

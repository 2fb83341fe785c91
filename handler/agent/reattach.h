// What a source handler does with a VMM it finds Running with no engine of its own following
// it (it restarted mid-migration). Pure: the source domain as libvirt reports it now in, the
// decision out. A handler never starts a migration a second time: either the libvirt job is
// still there and the engine attaches to it (or resumes a broken post-copy), or the job ended
// while the handler was away and its outcome is judged from the source (the domain left it:
// Succeeded, since a persistent source is undefined only by a migration that completed; the
// domain is still here: Failed, the guest is on the source).
#pragma once

#include <optional>
#include <string>

#include "domain/node_hypervisor.h"

namespace ferry::agent {

enum class ReattachAction {
  kAttach,     // follow the running job (or recover a broken post-copy) with the engine
  kSucceeded,  // the domain left the source while the handler was away
  kFailed,     // the job ended without moving the guest
  kVmGone,     // the VM was deleted meanwhile: Failed
};
const char* ReattachActionName(ReattachAction a);

struct ReattachDecision {
  ReattachAction action = ReattachAction::kAttach;
  std::string message;
  // The source guest sits paused by the failed migration: resume it.
  bool resume_source = false;
};

ReattachDecision DecideReattach(const std::optional<domain::DomainInfo>& source_domain,
                                bool vm_exists);

}  // namespace ferry::agent

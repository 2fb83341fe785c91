// Fencing (docs/adr/0006-one-copy-of-every-guest.md §1-3, §9): what each handler does at the
// end of a migration that only both sides together can judge. Pure: the VMM's phase and
// conditions and what this node's libvirt shows in; the step out. The target's word is the
// VMM condition TargetDomain (target handler only), about the domain on its node whose Ferry
// mark carries this VMM's uid:
//
//   False/Absent    no such domain (a namesake without the mark is left alone and reported)
//   False/Removed   it never ran and the target removed it
//   True/Incoming   paused, waiting for memory
//   True/Running    the guest runs there
//
// Target (DecideTargetFencing), whenever the VMM is Failed/Cancelled or has SourcePaused or
// GuestLocationUnknown True:
//   never-ran domain, VMM terminal or SourcePaused, post-copy never started, VM not here
//                                  → destroy + undefine it, Removed
//   never-ran domain otherwise     → Incoming (the job may still run)
//   a domain that runs (or ran)    → Running; never touched; after a terminal VMM a Warning
//                                    (it may be the only copy); under GuestLocationUnknown
//                                    alone, pre-copy, phase Running → Succeeded TargetRunsGuest
//   none with the mark             → Absent (Removed stays Removed)
//   disk images created for the migration are deleted only when the VMM is terminal and no
//   domain with its mark is kept (and, in the controller, no domain on the node uses them).
//   A terminal VMM whose word is already False is not looked at again (a restarted handler
//   never cleans twice).
// Source (DecideSourceFencing), with its domain left paused by a job that ended without
// success (SourcePaused True): Absent/Removed → resume (unless paused before) and write the
// job's own failure; Running → destroy + undefine the paused copy, Succeeded; otherwise wait.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/group.h"
#include "api/migration.h"
#include "domain/node_hypervisor.h"

namespace ferry::agent {

// The condition `type` of the VMM is present with status True.
bool ConditionTrue(const api::VirtualMachineMigration& m, const char* type);
// An open (not terminal) migration with GuestLocationUnknown or SourcePaused True: where the
// guest runs is not known, so nothing may start it anywhere (ADR 6 §2).
bool OutcomeUnknown(const api::VirtualMachineMigration& m);
// The migration switched to post-copy (postCopyStartedAt, or PostCopyRecovering was ever set).
bool PostCopyStarted(const api::VirtualMachineMigration& m);
// The domain is this migration's: its mark names the VMM's uid.
bool CarriesMark(const std::optional<domain::DomainInfo>& d, const std::string& vmm_uid);
// Shut off, or paused as an incoming migration (or while starting): its guest never ran here.
bool NeverRan(const domain::DomainInfo& d);

enum class TargetWord { kAbsent, kRemoved, kIncoming, kRunning };
const char* TargetWordReason(TargetWord w);  // the condition's reason (group.h)
bool TargetWordStatus(TargetWord w);         // the condition's status (True: a domain is here)
// The word a TargetDomain condition carries; nullopt when there is none (or it is unknown).
std::optional<TargetWord> WordOf(const api::VirtualMachineMigration& m);

struct TargetInputsForFencing {
  api::VirtualMachineMigration vmm;
  // This node's domain of the VM's name; nullopt when there is none.
  std::optional<domain::DomainInfo> domain;
  // The VM's node label is this node (its domain is the VM's own, never cleaned up here).
  bool vm_here = false;
};

struct TargetFencing {
  bool concerned = false;      // terminal, SourcePaused or GuestLocationUnknown
  bool remove_domain = false;  // destroy + undefine (never ran), then word Removed
  bool warn_kept = false;      // a running domain kept after a terminal VMM (Event)
  bool namesake = false;       // a domain of the VM's name without this VMM's mark: reported
  bool delete_images = false;  // the images created for the migration may go
  bool write_succeeded = false;
  std::optional<TargetWord> word;  // the TargetDomain condition to hold (written if it differs)
  std::string message;             // the condition's message
};

TargetFencing DecideTargetFencing(const TargetInputsForFencing& in);

// Of `images`, those no domain on the node uses (ADR 6 §9: no image is deleted while a domain
// that uses it is kept).
std::vector<std::string> ImagesFreeToDelete(const std::vector<std::string>& images,
                                            const std::vector<domain::DomainInfo>& domains);

enum class SourceStep {
  kWait,               // no word yet, or Incoming: the target removes its paused domain
  kResumeAndFail,      // Absent/Removed: the source has the only copy
  kDestroyAndSucceed,  // Running: the target has the guest; the paused source copy goes
};
const char* SourceStepName(SourceStep s);

struct SourceFencing {
  SourceStep step = SourceStep::kWait;
  std::string message;
};

SourceFencing DecideSourceFencing(const api::VirtualMachineMigration& vmm);

}  // namespace ferry::agent

// The target side of a migration: for each VirtualMachineMigration labelled
// ferry.dev/target-node=<this node>:
//   Scheduled        → PreparingTarget (written with the resourceVersion read: a concurrent
//                      Cancelled from the operator wins and is followed)
//   PreparingTarget  → the local checks (target_checks.h) on the VM (read by a direct GET:
//                      it is not on this node yet), local disk images created for a storage
//                      copy, then TargetReady with targetURI; or Failed with the reason
//   Failed/Cancelled, or Running with SourcePaused / GuestLocationUnknown True
//                    → the target's word (fencing.h, ADR 6): only a domain whose Ferry mark
//                      names this VMM's uid is looked at. One that never ran here (paused
//                      incoming, or shut off) is destroyed and undefined when the VMM ended or
//                      the source is paused (never after post-copy started, never when the
//                      VM's node is this one); a running one is kept and reported (Event; it
//                      shows as an orphan) because it may be the only copy. The word is the
//                      condition TargetDomain (Absent / Removed / Incoming / Running), the
//                      durable record of the clean-up: a terminal VMM whose word is False is
//                      never looked at again, also after a restart. Under
//                      GuestLocationUnknown, a domain of this VMM that runs after pre-copy
//                      ends the migration Succeeded (TargetRunsGuest). Disk images this agent
//                      created for the migration are deleted once it ended, only if no domain
//                      with its mark is kept and no domain on the node uses them.
#pragma once

#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "agent/agent_context.h"
#include "agent/target_checks.h"
#include "api/migration.h"
#include "controller/controller.h"

namespace ferry::agent {

// Reasons of a Failed VMM written by the target handler.
inline constexpr const char* kReasonTargetCheckFailed = "TargetCheckFailed";
inline constexpr const char* kReasonTargetPrepareFailed = "TargetPrepareFailed";

class TargetController {
 public:
  explicit TargetController(AgentContext& ctx) : ctx_(ctx) {}
  controller::ReconcileResult Reconcile(const std::string& key, std::stop_token stop);

 private:
  controller::ReconcileResult Prepare(const api::VirtualMachineMigration& vmm,
                                      std::stop_token stop);
  // Writes `phase` (TargetReady with the URI, or Failed with reason/message) if the VMM is
  // still PreparingTarget.
  Status Finish(const api::VirtualMachineMigration& vmm, api::MigrationPhase phase,
                const std::string& reason, const std::string& message, std::stop_token stop);
  // The target's word and clean-up (see above); an error (libvirtd unreachable) is retried.
  // `again` is set when the VMM is still open (the word may change).
  Status Fence(const api::VirtualMachineMigration& vmm, const kube::Json& obj, bool* again,
               std::stop_token stop);
  // Deletes the images created for `key` that no domain on the node uses.
  void DeleteCreatedImages(const std::string& key);
  StatusOr<TargetInputs> Gather(const api::VirtualMachineMigration& vmm,
                                const api::VirtualMachine& vm);

  AgentContext& ctx_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> created_;  // VMM key → images created
};

}  // namespace ferry::agent

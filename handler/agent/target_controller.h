// The target side of a migration: for each VirtualMachineMigration labelled
// ferry.dev/target-node=<this node>:
//   Scheduled        → PreparingTarget (written with the resourceVersion read: a concurrent
//                      Cancelled from the operator wins and is followed)
//   PreparingTarget  → the local checks (target_checks.h) on the VM (read by a direct GET:
//                      it is not on this node yet), local disk images created for a storage
//                      copy, then TargetReady with targetURI; or Failed with the reason
//   Failed/Cancelled → clean-up: a half-arrived domain that never ran here (paused incoming,
//                      or shut off) is destroyed and undefined unless the VM's node is this
//                      one; a running one is kept and reported (Event; it shows as an orphan)
//                      because it may be the only copy; disk images this agent created for
//                      the migration are deleted.
#pragma once

#include <map>
#include <mutex>
#include <set>
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
  // Once per VMM; an error (libvirtd unreachable) is retried.
  Status CleanUp(const api::VirtualMachineMigration& vmm, const kube::Json& obj);
  StatusOr<TargetInputs> Gather(const api::VirtualMachineMigration& vmm,
                                const api::VirtualMachine& vm);

  AgentContext& ctx_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> created_;  // VMM key → images created
  std::set<std::string> cleaned_;                            // VMM keys cleaned up
};

}  // namespace ferry::agent

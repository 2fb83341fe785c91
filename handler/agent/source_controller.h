// The source side of a migration: for each VirtualMachineMigration labelled
// ferry.dev/source-node=<this node>:
//   TargetReady  → a MigrationRunner starts the engine (it writes Running first); a VMM
//                  deleted at TargetReady is Cancelled here, before anything starts
//   Running      → without a runner in this process (the handler restarted): a runner that
//                  re-attaches to the libvirt job, or judges the outcome from the source
//   being deleted while a runner runs → Cancel (refused after the post-copy switch)
// Runners live until the VMM is terminal; DetachAll() leaves every libvirt job running when
// the agent stops.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>

#include "agent/agent_context.h"
#include "agent/migration_runner.h"
#include "controller/controller.h"

namespace ferry::agent {

class SourceController {
 public:
  explicit SourceController(AgentContext& ctx) : ctx_(ctx) {}
  ~SourceController();

  controller::ReconcileResult Reconcile(const std::string& key, std::stop_token stop);
  // Stops following every migration (the agent is stopping) and waits for the runners.
  void DetachAll();
  // Migrations this node runs as the source now.
  int Running() const;

 private:
  AgentContext& ctx_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<MigrationRunner>> runners_;
  bool detached_ = false;
};

}  // namespace ferry::agent

// The VM controller: initial placement of running VMs without a node (status.nodeName, label
// ferry.dev/node, phase Scheduled, condition Scheduled, an Event; when no node fits, phase
// Pending with the per-node reasons in the condition and a Warning Event, retried when the
// cluster changes), and the migration bookkeeping of docs/adr/0004: activeMigration, the
// last 10 outcomes, the node flip after a success, and PlacementCompliant.
#pragma once

#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "cluster/written_versions.h"
#include "context.h"
#include "controller/controller.h"

namespace ferry::op::vm {

class VmController {
 public:
  explicit VmController(Context& ctx);
  controller::ReconcileResult Reconcile(const std::string& key, std::stop_token stop);
  // Running VMs that found no node last time (to retry when the cluster changes).
  std::vector<std::string> Unschedulable() const;

 private:
  void MarkUnschedulable(const std::string& key, bool unschedulable);

  Context& ctx_;
  mutable std::mutex mu_;
  std::set<std::string> unschedulable_;
  WrittenVersions written_;
};

}  // namespace ferry::op::vm

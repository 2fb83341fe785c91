// The evacuation controller (key: a node name). While a node is cordoned or tainted
// ferry.dev/drain it empties it: PlanDrain decides, each running VM gets an evacuation VMM
// (trigger Evacuation, deterministic name, owner reference to the VM; at most the node's free
// outbound slots at a time) or is stopped per its evictionStrategy; what cannot leave is
// reported. Progress: the Node annotation ferry.dev/evacuation, Node Events, and
// ferry_evacuation_remaining_vms. Uncordon stops creating migrations (those in flight run on).
// With --rebalance, best-effort violators are moved back one at a time when a compliant node
// frees up (key "rebalance").
#pragma once

#include <stop_token>
#include <string>

#include "context.h"
#include "controller/controller.h"
#include "controller/expectations.h"

namespace ferry::op::evacuation {

inline constexpr const char* kRebalanceKey = "rebalance";

class EvacuationController {
 public:
  explicit EvacuationController(Context& ctx);
  controller::ReconcileResult Reconcile(const std::string& key, std::stop_token stop);
  // Informer hook: an evacuation VMM appeared in the cache.
  void Observed(const kube::Json& vmm);

 private:
  controller::ReconcileResult Rebalance(std::stop_token stop);
  Status CreateMigration(const std::string& vm_key, const std::string& name,
                         const std::string& target, const std::string& node,
                         api::MigrationTrigger trigger, const std::string& group = "");

  Context& ctx_;
  controller::Expectations expectations_;
};

}  // namespace ferry::op::evacuation

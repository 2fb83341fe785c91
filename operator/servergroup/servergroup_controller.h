// The server-group controller: status.members (VM → node), compliant, violations (the
// placement engine's one definition, ADR 5), and the condition NodeLockBlocked while a
// strict-affinity group has a running member on a node being drained and may not be moved as
// a unit (the annotation below allows it).
#pragma once

#include <stop_token>
#include <string>

#include "context.h"
#include "controller/controller.h"

namespace ferry::op::servergroup {

// ServerGroup annotation: "true" lets a drain move this strict-affinity group as a unit (all
// running members to one node). Without it such a group blocks the drain of its node.
inline constexpr const char* kAnnotationAllowGroupMove = "ferry.dev/allow-group-move";

bool AllowsGroupMove(const api::ServerGroup& group);

class ServerGroupController {
 public:
  explicit ServerGroupController(Context& ctx) : ctx_(ctx) {}
  controller::ReconcileResult Reconcile(const std::string& key, std::stop_token stop);

 private:
  Context& ctx_;
};

}  // namespace ferry::op::servergroup

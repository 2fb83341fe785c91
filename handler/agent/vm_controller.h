// The VM lifecycle controller: for each VirtualMachine labelled ferry.dev/node=<this node>,
// observes this node's domain of it and the VM's migrations, asks DecideVm (vm_decision.h)
// what to do, does it (finalizer, define, start, shutdown, destroy, undefine), and writes the
// handler-owned status (phase, domainUUID, firstBoot, the Domain condition) when it differs.
// Triggered by the VM informer, the VMM informers of this node and libvirt's lifecycle
// events; a VM that leaves the informer (moved to another node, or deleted after its
// finalizer was removed) is forgotten, never destroyed for that reason.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "agent/agent_context.h"
#include "agent/vm_decision.h"
#include "api/vm.h"
#include "controller/controller.h"

namespace ferry::agent {

class VmController {
 public:
  explicit VmController(AgentContext& ctx) : ctx_(ctx) {}

  controller::ReconcileResult Reconcile(const std::string& key, std::stop_token stop);

  // The key of the VM a Ferry domain name belongs to ("ns_name" -> "ns/name").
  static std::optional<std::string> KeyOfDomain(const std::string& domain);

 private:
  VmContext Observe(const api::VirtualMachine& vm, const std::optional<domain::DomainInfo>& dom);
  // Performs the decision's action; a failure comes back as the condition to report.
  Status Perform(const api::VirtualMachine& vm, const kube::Json& obj, VmDecision& d,
                 std::stop_token stop);
  Status Define(const api::VirtualMachine& vm);
  // A local disk (with a size) whose image does not exist yet is created blank.
  Status CreateMissingLocalDisks(const api::VirtualMachine& vm);
  void Event(const kube::Json& obj, bool warning, const std::string& reason,
             const std::string& msg);

  AgentContext& ctx_;
  std::mutex mu_;
  // When this agent first asked a guest to shut down (spec running: false), by VM key.
  std::map<std::string, Clock::TimePoint> shutdown_asked_;
};

}  // namespace ferry::agent

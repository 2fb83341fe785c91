// The node side in the simulation: one ferry-handler per node, as a PROTOCOL MODEL of what
// docs/adr/0004 and docs/adr/0006 let a handler write, over the node's FakeLibvirt. Its
// informers, queues and API writes are the real ones (a manager::Manager with
// controller::Controllers, stepped like the operator's); its reconcile functions are a model
// of handler/agent's, kept small and literal so that a violation found with it points at the
// operator or at the protocol, not at the model. Replacing the model by the real agent
// controllers (with a fake NodeHypervisor and a stepped migration runner) is the next step:
// docs/simulation.md says what that needs.
//
// What it models, per node:
//   vm      adds the domain finalizer, defines and starts the domain of a VM placed here,
//           reports Running/Stopped, never defines a domain again that vanished (DomainMissing)
//           nor while a migration of the VM is open; destroys the domain and releases the
//           finalizer when the VM is deleted
//   target  Scheduled → TargetReady (local checks: no domain of that name without this VMM's
//           mark); for a terminal VMM or one whose guest's location is asked for: removes a
//           paused incoming domain carrying the VMM's uid and reports TargetDomain
//   source  TargetReady → Running and starts the libvirt job; follows it to Succeeded, Failed
//           or Cancelled; a paused source waits for the target's word (SourcePaused);
//           re-attaches after a restart from what libvirt shows
//   report  the Hypervisor heartbeat every 10 s (ready while libvirtd answers)
#pragma once

#include <functional>
#include <random>
#include <string>

#include "fake_libvirt.h"
#include "sim_process.h"

namespace ferry::sim {

struct AgentKnobs {
  // Draws how a migration job ends (from the simulation's seed).
  std::function<Job(Job)> draw_job;
};

class SimAgent final : public SimProcess {
 public:
  SimAgent(std::string node, SimApiServer& server, const SimTime& time, FakeLibvirt& libvirt,
           AgentKnobs knobs);
  ~SimAgent() override;
  const std::string& node() const { return node_; }

 protected:
  void Build(manager::Manager& mgr) override;

 private:
  controller::ReconcileResult ReconcileVm(const std::string& key);
  controller::ReconcileResult ReconcileTarget(const std::string& key);
  controller::ReconcileResult ReconcileSource(const std::string& key);
  controller::ReconcileResult Report();

  std::string node_;
  FakeLibvirt& libvirt_;
  AgentKnobs knobs_;
  kube::Informer* vms_ = nullptr;
  kube::Informer* source_ = nullptr;
  kube::Informer* target_ = nullptr;
};

}  // namespace ferry::sim

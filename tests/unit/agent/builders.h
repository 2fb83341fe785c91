// Test builders for the node agent's unit tests: VMs, domains and migrations as the agent
// sees them.
#pragma once

#include <string>

#include "api/group.h"
#include "api/migration.h"
#include "api/vm.h"
#include "domain/node_hypervisor.h"

namespace ferry::agent::testing {

inline api::Quantity Q(const std::string& s) { return *api::Quantity::Parse(s); }

// A kernel-booted VM "ns/name" with uid "uid-name", 1 vCPU, 128Mi, running, with finalizer.
inline api::VirtualMachine Vm(const std::string& name = "web", const std::string& ns = "prod") {
  api::VirtualMachine vm;
  vm.metadata.name = name;
  vm.metadata.namespace_ = ns;
  vm.metadata.uid = "0b9e3c1a-0000-4000-8000-0000000000" + std::to_string(name.size() % 10) + "1";
  vm.metadata.generation = 1;
  vm.metadata.labels[api::kLabelNode] = "node-a";
  vm.metadata.finalizers = {api::kDomainFinalizer};
  vm.spec.running = true;
  vm.spec.cpus = 1;
  vm.spec.memory = Q("128Mi");
  api::KernelBoot kb;
  kb.kernel = "/images/vmlinuz";
  kb.initrd = "/images/initrd.gz";
  kb.cmdline = "console=ttyS0";
  vm.spec.kernel_boot = kb;
  vm.status.phase = api::VmPhase::kScheduled;
  vm.status.node_name = "node-a";
  return vm;
}

// The domain the agent would have defined for `vm`, in `state`.
inline domain::DomainInfo DomainOf(const api::VirtualMachine& vm, domain::DomainState state,
                                   domain::DomainReason reason, const std::string& hash = "h1") {
  domain::DomainInfo d;
  d.name = vm.metadata.namespace_ + "_" + vm.metadata.name;
  d.uuid = vm.metadata.uid;
  d.state = state;
  d.reason = reason;
  d.persistent = true;
  d.vcpus = static_cast<int>(vm.spec.cpus);
  d.memory_bytes = static_cast<uint64_t>(vm.spec.memory.Value());
  d.mark = domain::FerryMark{vm.metadata.namespace_, vm.metadata.name, vm.metadata.uid, hash, ""};
  return d;
}

inline api::Condition DomainCondition(const std::string& reason, int64_t observed_generation,
                                      bool ok = false) {
  api::Condition c;
  c.type = api::kConditionDomain;
  c.status = ok ? api::ConditionStatus::kTrue : api::ConditionStatus::kFalse;
  c.reason = reason;
  c.observed_generation = observed_generation;
  return c;
}

}  // namespace ferry::agent::testing

// Chooses the host CPUs of a VM with dedicatedCpus, and the host NUMA cell of each guest
// NUMA node. Pure: host topology, the node's dedicated CPU set and the CPUs already pinned by
// other domains in; a DomainPlacement out.
//
// Each guest NUMA node (one when numaNodes is unset) takes its vCPUs from one host cell: the
// cell with the most free dedicated CPUs that fits them (lowest id on a tie), so a guest node
// never straddles host cells; within a cell the lowest free CPU ids are taken. Without
// dedicatedCpus nothing is pinned and memory is not bound.
#pragma once

#include <vector>

#include "api/vm.h"
#include "core/status.h"
#include "domain/domain_builder.h"
#include "domain/node_hypervisor.h"

namespace ferry::domain {

// FailedPrecondition (with the numbers) when the free dedicated CPUs do not fit the VM.
StatusOr<DomainPlacement> PlaceDomain(const api::VirtualMachineSpec& spec,
                                      const std::vector<HostCell>& cells,
                                      const std::vector<int>& dedicated_cpus,
                                      const std::vector<int>& pinned_elsewhere);

}  // namespace ferry::domain

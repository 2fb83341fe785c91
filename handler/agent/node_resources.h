// What the node has, what Ferry may give to guests, and what the domains use (Hypervisor
// status capacity / allocatable / used), computed from the host's facts, the node's flags and
// the domains libvirt reports. Pure; shared by the Hypervisor reporter and the target checks.
//
//   capacity.cpus            online host CPUs
//   capacity.dedicatedCpus   host CPUs in --dedicated-cpus
//   capacity.memory          host memory not reserved as huge pages
//   capacity.hugepages[sz]   huge pages of size sz, all cells, in bytes
//   allocatable.cpus         (capacity − reserved − dedicated) × --cpu-allocation-ratio
//   allocatable.memory       capacity − --reserved-memory
//   used                     by active domains (running, paused, ...): unpinned vCPUs,
//                            pinned host CPUs, normal memory, huge page memory by size
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/hypervisor.h"
#include "domain/node_hypervisor.h"

namespace ferry::agent {

struct NodeLimits {
  std::vector<int> reserved_cpus;
  int64_t reserved_memory_bytes = 0;
  std::vector<int> dedicated_cpus;
  double cpu_allocation_ratio = 1.0;
};

struct NodeResources {
  api::HypervisorResources capacity;
  api::HypervisorResources allocatable;
  api::HypervisorResources used;
};

// "2Mi", "1Gi": a page size as the API names it.
std::string PageSizeName(uint64_t bytes);

NodeResources ComputeResources(const domain::HostFacts& host,
                               const std::vector<domain::DomainInfo>& domains,
                               const NodeLimits& limits);

// The host's NUMA cells as the Hypervisor reports them.
std::vector<api::HypervisorNumaCell> NumaCells(const domain::HostFacts& host);

}  // namespace ferry::agent

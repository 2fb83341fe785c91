// The VM condition Migratable (docs/adr/0004 gives it to the operator): can this VM be
// live-migrated at all, judged from its spec and the hardware of the other hosts — not from
// the moment (free room, cordons, readiness and limits are the scheduler's business when a
// migration is asked for). Pure.
//
// False, with the first reason that holds, in this order:
//   LocalDiskNotCopyable  a writable local disk has no size, or is a block device: a target
//                         cannot prepare it, so storage: Copy cannot move it
//   NoOtherHost           no other node has a Node object and a live Hypervisor (a handler
//                         that answers; a node whose handler is lost cannot receive anything)
//   CpuModelUnavailable   host-passthrough: no other host has the identical CPU model;
//                         a named model: no other host offers it
//   NoDedicatedCpus       pinned vCPUs: no other host has that many dedicated CPUs
//   NoHugepages           hugepages: no other host has a pool of that page size big enough
//   NoCompatibleHost      each rule is met by some host, but no single host meets them all
// True: reason Migratable (and, with local disks, that they move with storage: Copy).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/vm.h"

namespace ferry::op::vm {

inline constexpr const char* kReasonMigratable = "Migratable";
inline constexpr const char* kReasonLocalDiskNotCopyable = "LocalDiskNotCopyable";
inline constexpr const char* kReasonNoOtherHost = "NoOtherHost";
inline constexpr const char* kReasonCpuModelUnavailable = "CpuModelUnavailable";
inline constexpr const char* kReasonNoDedicatedCpus = "NoDedicatedCpus";
inline constexpr const char* kReasonNoHugepages = "NoHugepages";
inline constexpr const char* kReasonNoCompatibleHost = "NoCompatibleHost";

// What a host offers, as far as migratability goes (from its Hypervisor's allocatable).
struct HostFacts {
  std::string name;
  std::string cpu_model;                // host CPU model
  std::vector<std::string> cpu_models;  // named guest models it can run
  int64_t dedicated_cpus = 0;
  std::map<int64_t, int64_t> hugepages;  // page size bytes → allocatable bytes
  friend bool operator==(const HostFacts&, const HostFacts&) = default;
};

struct MigratableVerdict {
  bool migratable = false;
  std::string reason;
  std::string message;
};

// `hosts`: every node with a Node object and a live Hypervisor, the VM's own node included
// (it is skipped, and its CPU model is what host-passthrough needs elsewhere).
MigratableVerdict DecideMigratable(const api::VirtualMachine& vm,
                                   const std::vector<HostFacts>& hosts);

}  // namespace ferry::op::vm

// Reason codes: why a node was refused, why a VM could not be placed, why a drain is blocked.
//
// A small fixed set with stable names (ReasonName), meant for Prometheus label values,
// Kubernetes condition reasons and `kubectl ferry explain`. Every refusal carries one beside
// its human text. docs/placement.md lists them all. Names never change once released; new
// codes are added at the end of their block.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ferry::placement {

enum class Reason : uint8_t {
  kNone = 0,  // no refusal: the node passed, the VM was placed

  // Per node, in the order the filters run (the first that refuses is reported).
  kExcluded,            // the caller excluded the node (the node being drained)
  kCurrentNode,         // the VM already runs there
  kNodeNotReady,        // the Node's Ready condition is not True, or there is no Node object
  kHypervisorNotReady,  // no Hypervisor object, or it is not ready / its heartbeat is stale
  kCordoned,            // spec.unschedulable
  kTaint,               // a NoSchedule/NoExecute taint the VM does not tolerate
  kNodeSelector,        // a nodeSelector label missing or different
  kCpuModel,            // host-passthrough to another host model; a named model not offered
  kVersion,             // target libvirt/QEMU older than the guest may go
  kCpu,                 // not enough free CPU (VMs and in-flight reservations counted)
  kMemory,              // not enough free memory
  kDedicatedCpus,       // not enough free CPUs in the pinnable pool
  kHugepages,           // not enough free hugepages of the VM's page size
  kNuma,                // not enough NUMA cells with room for an even share
  kAffinity,            // strict affinity: the group is on another node
  kAntiAffinity,        // strict anti-affinity: maxPerNode members already count here

  // Per decision or plan entry.
  kVmNotFound,        // the VM is not in the view
  kNodeNotFound,      // the requested or drained node is not in the view
  kGroupNotFound,     // the VM names a server group that does not exist
  kNoNodes,           // the cluster has no nodes
  kAlreadyMigrating,  // the VM already has a migration in flight (it is already leaving)
  kMayNotMoveAlone,   // a strict-affinity member with other running members; a group move only
  kGroupMoveRefused,  // a group move is not possible (which member and node: in the text)
  kNoRunningMember,   // a group move of a group none of whose members runs: nothing to move
  kEvictionNone,      // evictionStrategy None: the drain may not move or stop it
  kInboundMigration,  // a migration is on its way *to* the node being drained
};

// Per-node codes are the ones below this value (arrays indexed by them use it as size).
inline constexpr int kNodeReasonCount = static_cast<int>(Reason::kAntiAffinity) + 1;
inline constexpr int kReasonCount = static_cast<int>(Reason::kInboundMigration) + 1;

inline bool IsNodeReason(Reason r) {
  return r != Reason::kNone && static_cast<int>(r) < kNodeReasonCount;
}
inline bool IsGroupReason(Reason r) { return r == Reason::kAffinity || r == Reason::kAntiAffinity; }
inline bool IsCapacityReason(Reason r) {
  return r == Reason::kCpu || r == Reason::kMemory || r == Reason::kDedicatedCpus ||
         r == Reason::kHugepages || r == Reason::kNuma;
}

// Stable CamelCase name: "Memory", "AntiAffinity", "MayNotMoveAlone". "None" for kNone.
const char* ReasonName(Reason r);
// The inverse of ReasonName; nullopt for an unknown name.
std::optional<Reason> ParseReason(std::string_view name);
// The short lower-case label that starts a human sentence: "memory", "anti-affinity".
const char* ReasonLabel(Reason r);

}  // namespace ferry::placement

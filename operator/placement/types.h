// Input types of the placement engine: plain structs describing the cluster.
//
// The engine is pure: no Kubernetes, libvirt, JSON or I/O types appear here. The operator's
// controllers translate API objects into these structs (quantities already parsed into
// integers), feed them to a ClusterView (cluster_view.h), and translate decisions back into
// status.
//
// Units: memory and hugepages in bytes; shared CPU in millicores (spec.cpus × 1000);
// dedicated (pinnable) CPUs as whole CPU counts; versions in libvirt's encoding
// (major × 1,000,000 + minor × 1,000 + micro, e.g. 9000000 for 9.0.0).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ferry::placement {

enum class TaintEffect { kNoSchedule, kPreferNoSchedule, kNoExecute };

struct Taint {
  std::string key;
  std::string value;
  TaintEffect effect = TaintEffect::kNoSchedule;
  friend bool operator==(const Taint&, const Taint&) = default;
};

// Kubernetes toleration semantics: `exists` ignores the value; an empty key with `exists`
// tolerates every taint; an empty `effect` matches every effect, a set one only that effect.
// Build one with Equal or Exists: an effect is matched only when one is named.
struct Toleration {
  std::string key;
  std::string value;
  bool exists = false;
  std::optional<TaintEffect> effect;  // nullopt: every effect (Kubernetes' empty effect)

  // operator: Equal. Tolerates key=value taints (of `effect` only, when given).
  static Toleration Equal(std::string key, std::string value,
                          std::optional<TaintEffect> effect = std::nullopt) {
    return {std::move(key), std::move(value), false, effect};
  }
  // operator: Exists. Tolerates every value of `key` (every key when empty).
  static Toleration Exists(std::string key = "", std::optional<TaintEffect> effect = std::nullopt) {
    return {std::move(key), "", true, effect};
  }
  friend bool operator==(const Toleration&, const Toleration&) = default;
};

struct NumaCell {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  friend bool operator==(const NumaCell&, const NumaCell&) = default;
};

struct HugepagePool {
  int64_t page_size_bytes = 0;  // e.g. 2Mi or 1Gi
  int64_t total_bytes = 0;      // allocatable; the engine subtracts the VMs using it
  friend bool operator==(const HugepagePool&, const HugepagePool&) = default;
};

// libvirt and QEMU versions of a node (libvirt's integer encoding).
struct HypervisorVersion {
  int64_t libvirt = 0;
  int64_t qemu = 0;
  friend bool operator==(const HypervisorVersion&, const HypervisorVersion&) = default;
};

// One node as the engine sees it: what the Kubernetes Node object says (schedulability) and
// what the node's Hypervisor object reports (capacity, CPU model, versions), merged by name.
// ClusterView keeps the two halves apart (NodeInfo, HypervisorInfo in cluster_view.h); a
// snapshot says which halves exist with has_node_object / has_hypervisor. A node missing
// either half, or whose hypervisor is not ready, gets no new placements, but the VMs on it
// still count.
struct Node {
  std::string name;
  // From the Node object.
  bool has_node_object = true;
  bool ready = true;           // condition Ready is True
  bool unschedulable = false;  // cordoned (spec.unschedulable)
  std::map<std::string, std::string> labels;
  std::vector<Taint> taints;
  // From the Hypervisor object (named after the node).
  bool has_hypervisor = true;
  // status.ready and a heartbeat younger than the operator's staleness limit. The engine has
  // no clock: the caller decides freshness and upserts the Hypervisor again when it expires.
  bool hypervisor_ready = true;
  int64_t cpu_millis = 0;      // allocatable CPU for VMs
  int64_t memory_bytes = 0;    // allocatable memory for VMs (not counting hugepages)
  int64_t dedicated_cpus = 0;  // CPUs that may be pinned (a subset of cpu_millis)
  std::vector<NumaCell> numa_cells;
  std::vector<HugepagePool> hugepages;
  std::string cpu_model;                // host CPU model name
  std::vector<std::string> cpu_models;  // named guest models the host can run
  HypervisorVersion version;
  friend bool operator==(const Node&, const Node&) = default;
};

enum class EvictionStrategy { kLiveMigrate, kLiveMigrateIfPossible, kShutdown, kNone };

inline constexpr const char* kHostPassthrough = "host-passthrough";

struct Vm {
  std::string name;  // unique (the adapter uses "namespace/name")
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  bool dedicated_cpus = false;      // every vCPU pinned to a host CPU of the dedicated pool
  int numa_nodes = 0;               // 0: no NUMA shape; k: split evenly over k host cells
  int64_t hugepage_size_bytes = 0;  // 0: normal memory; else memory comes from this pool
  std::string cpu_model;            // "", "host-passthrough" or a named model
  std::map<std::string, std::string> node_selector;
  std::vector<Toleration> tolerations;
  std::string server_group;  // "" = none
  // The node that holds the VM's resources, "" when none does (never placed). The operator's
  // adapter copies status.nodeName, which a VM keeps while Stopped (ADR 4: a stopped VM keeps
  // its node and its capacity counts there, so starting it again needs no placement).
  std::string node;
  EvictionStrategy eviction_strategy = EvictionStrategy::kLiveMigrate;
  // Versions of the node the guest first booted on (its machine type); 0 = unknown.
  HypervisorVersion boot_version;
  friend bool operator==(const Vm&, const Vm&) = default;
};

enum class GroupPolicy { kAffinity, kAntiAffinity };

struct ServerGroup {
  std::string name;
  GroupPolicy policy = GroupPolicy::kAntiAffinity;
  bool best_effort = false;
  int max_per_node = 1;  // anti-affinity only: members allowed on one node
  // Optional explicit member list (e.g. from status). Membership itself comes from
  // Vm::server_group; a listed name that is not a VM of the group is reported as a problem.
  std::vector<std::string> members;
  friend bool operator==(const ServerGroup&, const ServerGroup&) = default;
};

// A migration that holds a reservation: from the moment it is Scheduled until it ends. It
// reserves the VM's resources on the target, and for server groups the VM counts on both
// source and target until it ends.
struct InFlightMigration {
  std::string vm;
  std::string source_node;  // informational: the VM's current node is what counts
  std::string target_node;
  // Unique key (the adapter uses the VirtualMachineMigration's "namespace/name"). In a
  // snapshot an empty name stands for the VM's name. When one VM has several, the one with
  // the smallest name counts, whatever the order they arrive in.
  std::string name;
  friend bool operator==(const InFlightMigration&, const InFlightMigration&) = default;
};

struct ClusterSnapshot {
  std::vector<Node> nodes;
  std::vector<Vm> vms;
  std::vector<ServerGroup> groups;
  std::vector<InFlightMigration> migrations;
  friend bool operator==(const ClusterSnapshot&, const ClusterSnapshot&) = default;
};

}  // namespace ferry::placement

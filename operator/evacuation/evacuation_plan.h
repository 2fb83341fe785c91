// Evacuation (node drain) decisions, pure: what to do now for each VM of a drain plan, given
// what already exists. The placement engine's PlanDrain decides where and in what order; this
// turns the plan into actions that are safe to repeat (deterministic VMM names, no second VMM
// while one is in flight, at most the node's free outbound slots started at once so that an
// uncordon stops the drain quickly).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/migration.h"
#include "api/vm.h"
#include "placement/drain.h"

namespace ferry::op::evacuation {

// VMM label: the node an evacuation VMM drains (so its events map back to the node).
inline constexpr const char* kLabelEvacuationNode = "ferry.dev/evacuation-node";
inline constexpr const char* kNamePrefix = "evac-";

// The name of the evacuation VMM of `vm` off `node`: the same for the same attempt (after an
// operator restart, nothing is created twice), new after each recorded outcome (a failed
// attempt is retried under a new name). `last_record` is the VM's newest history entry's VMM.
std::string MigrationName(const std::string& vm_name, const std::string& vm_uid,
                          const std::string& node, const std::string& last_record);

// Failed evacuation attempts of `vm` off `node` at the end of its history, in a row.
int FailedAttempts(const api::VirtualMachine& vm, const std::string& node);

// What the controller knows about one VM of the plan.
struct VmFacts {
  bool running = true;   // spec.running and not Stopped/Failed: something to move
  // spec.running is false but the guest still runs on the node (being stopped): not moved,
  // but the node is not empty yet.
  bool stopping = false;
  // Only kShutdown lets a drain stop the guest (ADR 6 §4): a plan's Shutdown step for any
  // other strategy (LiveMigrateIfPossible with no target now — every other node may only
  // *look* unready) is reported as blocked and retried.
  api::EvictionStrategy eviction_strategy = api::EvictionStrategy::kLiveMigrate;
  std::string vmm_name;  // its evacuation VMM's name now
  std::optional<api::MigrationPhase> vmm_phase;  // that VMM, if it exists
  int failed_attempts = 0;
  std::string last_failure;  // reason of the last failed attempt
};

struct Create {
  std::string vm;    // "namespace/name"
  std::string name;  // VMM name
  // Set for a member of a strict-affinity group moved as a unit ("namespace/group"): its VMM
  // is labelled ferry.dev/group-move, and the scheduler sends every member to one node.
  std::string group;
};

struct Actions {
  std::vector<Create> create;
  std::vector<std::string> shutdown;  // VMs to stop (spec.running = false): strategy Shutdown only
  std::vector<std::pair<std::string, std::string>> blocked;  // vm, reason
  int planned = 0;                                           // running VMs the plan moves or stops
  int remaining = 0;  // running VMs still on the node (also those being stopped)
  int migrating = 0;                                         // evacuation VMMs in flight
};

struct ActionOptions {
  int free_slots = 2;  // outbound slots of the node not taken by evacuation VMMs in flight
  int max_attempts = 3;
  std::set<std::string> groups_allowed_to_move;  // "namespace/group"
};

Actions DecideActions(const placement::DrainPlan& plan, const std::map<std::string, VmFacts>& facts,
                      const ActionOptions& options);

// The ferry.dev/evacuation annotation's value (JSON).
std::string ProgressAnnotation(const Actions& a);

}  // namespace ferry::op::evacuation

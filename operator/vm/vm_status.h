// What the operator keeps in a VM's status besides its placement (docs/adr/0004): the active
// migration, the last kMaxMigrationHistory outcomes, and the node flip after a migration
// succeeds. Pure: the VM and the VMMs that name it in, the status and the flip out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/migration.h"
#include "api/vm.h"

namespace ferry::op::vm {

inline constexpr const char* kConditionScheduled = "Scheduled";

struct VmMigrationDecision {
  api::VirtualMachineStatus status;
  // Set when a succeeded migration moves the VM: the node to write (label first, then
  // status.nodeName, which `status` already carries).
  std::optional<std::string> flip_to;
  std::vector<std::string> recorded;  // VMMs whose outcome this decision records
};

// `vmms`: the VMMs of this VM's name (any order); those of an earlier VM of the name (another
// uid, api/identity.h) are left out. Active: the admitted, unfinished one (smallest name if
// several). Recorded: every finished VMM still holding the operator's finalizer whose outcome
// (by uid) the history lacks, oldest completion first; a success flips the node.
VmMigrationDecision DecideMigrationStatus(const api::VirtualMachine& vm,
                                          const std::vector<api::VirtualMachineMigration>& vmms);

// The history record of a finished VMM.
api::MigrationRecord RecordOf(const api::VirtualMachineMigration& vmm);

}  // namespace ferry::op::vm

// Identity is the uid (docs/adr/0006 §1): which VM a VirtualMachineMigration is about, and
// whether a VM's migration history already holds a VMM's outcome. Names are reused (a VMM
// re-created from the same YAML, a VM deleted and created again); uids never are.
#pragma once

#include <vector>

#include "api/migration.h"
#include "api/vm.h"

namespace ferry::api {

// `vmm` is about `vm` (same namespace and name assumed): the uid the operator wrote at
// admission (status.vmUID) is vm's. A VMM admitted before vmUID existed (or not admitted) is
// about a VM of that name that existed when it was created: one created after the VMM is
// another VM.
bool MigrationOfVm(const VirtualMachineMigration& vmm, const VirtualMachine& vm);

// `history` holds the outcome of `vmm`: a record with its uid; a record without a uid (written
// before migrationUID existed) counts by name, but only when no record carries a uid for that
// name (a name reused after deletion is another migration).
bool HistoryHolds(const std::vector<MigrationRecord>& history, const VirtualMachineMigration& vmm);

}  // namespace ferry::api

#include "api/identity.h"

#include <algorithm>

namespace ferry::api {

bool MigrationOfVm(const VirtualMachineMigration& vmm, const VirtualMachine& vm) {
  if (!vmm.status.vm_uid.empty()) return vmm.status.vm_uid == vm.metadata.uid;
  if (vmm.metadata.creation_timestamp && vm.metadata.creation_timestamp)
    return *vmm.metadata.creation_timestamp >= *vm.metadata.creation_timestamp;
  return true;
}

bool HistoryHolds(const std::vector<MigrationRecord>& history, const VirtualMachineMigration& vmm) {
  const std::string& name = vmm.metadata.name;
  const std::string& uid = vmm.metadata.uid;
  bool named_with_uid = false;
  bool named_without_uid = false;
  for (const MigrationRecord& r : history) {
    if (!r.migration_uid.empty()) {
      if (!uid.empty() && r.migration_uid == uid) return true;
      if (r.migration_name == name) named_with_uid = true;
    } else if (r.migration_name == name) {
      named_without_uid = true;
    }
  }
  return named_without_uid && !named_with_uid;
}

}  // namespace ferry::api

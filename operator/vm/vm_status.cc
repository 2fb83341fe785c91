#include "vm/vm_status.h"

#include <algorithm>

#include "api/group.h"
#include "api/identity.h"

namespace ferry::op::vm {

api::MigrationRecord RecordOf(const api::VirtualMachineMigration& vmm) {
  api::MigrationRecord r;
  r.migration_name = vmm.metadata.name;
  r.migration_uid = vmm.metadata.uid;
  r.source_node = vmm.status.source_node;
  r.target_node = vmm.status.target_node;
  r.mode = vmm.status.effective_mode;
  switch (vmm.status.phase) {
    case api::MigrationPhase::kSucceeded:
      r.result = api::MigrationResult::kSucceeded;
      break;
    case api::MigrationPhase::kCancelled:
      r.result = api::MigrationResult::kCancelled;
      break;
    default:
      r.result = api::MigrationResult::kFailed;
  }
  r.start_time = vmm.status.start_time ? vmm.status.start_time : vmm.metadata.creation_timestamp;
  r.completion_time =
      vmm.status.completion_time ? vmm.status.completion_time : vmm.status.phase_transition_time;
  if (r.start_time && r.completion_time && *r.completion_time >= *r.start_time) {
    r.duration =
        std::chrono::duration_cast<std::chrono::nanoseconds>(*r.completion_time - *r.start_time);
  }
  r.downtime = vmm.status.downtime;
  r.reason = vmm.status.reason;
  return r;
}

VmMigrationDecision DecideMigrationStatus(const api::VirtualMachine& vm,
                                          const std::vector<api::VirtualMachineMigration>& vmms) {
  VmMigrationDecision d;
  d.status = vm.status;
  std::string active;
  std::vector<const api::VirtualMachineMigration*> finished;
  for (const api::VirtualMachineMigration& m : vmms) {
    if (!m.metadata.HasFinalizer(api::kMigrationFinalizer)) continue;  // not admitted, or done
    // A migration of an earlier VM of this name: never this VM's (docs/adr/0006 §1).
    if (!api::MigrationOfVm(m, vm)) continue;
    if (api::IsTerminal(m.status.phase)) {
      // By uid: a VMM name reused after deletion is another migration.
      if (!api::HistoryHolds(d.status.migration_history, m)) finished.push_back(&m);
    } else if (m.status.phase >= api::MigrationPhase::kScheduling) {
      if (active.empty() || m.metadata.name < active) active = m.metadata.name;
    }
  }
  d.status.active_migration = active;
  std::sort(finished.begin(), finished.end(), [](const auto* a, const auto* b) {
    const api::MigrationRecord ra = RecordOf(*a), rb = RecordOf(*b);
    if (ra.completion_time != rb.completion_time) return ra.completion_time < rb.completion_time;
    return a->metadata.name < b->metadata.name;
  });
  for (const api::VirtualMachineMigration* m : finished) {
    auto& h = d.status.migration_history;
    h.push_back(RecordOf(*m));
    if (h.size() > api::kMaxMigrationHistory) {
      h.erase(h.begin(), h.end() - static_cast<std::ptrdiff_t>(api::kMaxMigrationHistory));
    }
    d.recorded.push_back(m->metadata.name);
    if (m->status.phase == api::MigrationPhase::kSucceeded && !m->status.target_node.empty() &&
        m->status.target_node != d.status.node_name) {
      d.status.node_name = m->status.target_node;
      d.flip_to = m->status.target_node;
    }
  }
  return d;
}

}  // namespace ferry::op::vm

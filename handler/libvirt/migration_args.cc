#include "libvirt/migration_args.h"

#include <libvirt/libvirt.h>

namespace ferry::libvirt {

LibvirtMigrationArgs ToLibvirtArgs(const migration::MigrationPlan& plan) {
  LibvirtMigrationArgs a;
  const auto& f = plan.flags;
  if (f.live) a.flags |= VIR_MIGRATE_LIVE;
  if (f.peer2peer) a.flags |= VIR_MIGRATE_PEER2PEER;
  if (f.persist_dest) a.flags |= VIR_MIGRATE_PERSIST_DEST;
  if (f.undefine_source) a.flags |= VIR_MIGRATE_UNDEFINE_SOURCE;
  if (f.offline) a.flags |= VIR_MIGRATE_OFFLINE;
  if (f.postcopy) a.flags |= VIR_MIGRATE_POSTCOPY;
  if (f.postcopy_resume) a.flags |= VIR_MIGRATE_POSTCOPY_RESUME;
  if (f.auto_converge) a.flags |= VIR_MIGRATE_AUTO_CONVERGE;
  if (f.non_shared_disk) a.flags |= VIR_MIGRATE_NON_SHARED_DISK;
  if (f.parallel) a.flags |= VIR_MIGRATE_PARALLEL;
  if (f.tls) a.flags |= VIR_MIGRATE_TLS;
  if (plan.bandwidth_mib_per_s > 0) {
    a.params.push_back({VIR_MIGRATE_PARAM_BANDWIDTH, plan.bandwidth_mib_per_s});
    // Post-copy has its own cap (QEMU's max-postcopy-bandwidth, unlimited by default): keep
    // the link budget the caller gave for the whole migration.
    if (f.postcopy)
      a.params.push_back({VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY, plan.bandwidth_mib_per_s});
  }
  if (f.parallel && plan.parallel_connections > 0) {
    a.params.push_back(
        {VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS, static_cast<int>(plan.parallel_connections)});
  }
  for (const auto& d : plan.migrate_disks) a.params.push_back({VIR_MIGRATE_PARAM_MIGRATE_DISKS, d});
  if (!plan.migrate_uri.empty()) a.params.push_back({VIR_MIGRATE_PARAM_URI, plan.migrate_uri});
  if (f.auto_converge && plan.auto_converge_initial > 0) {
    a.params.push_back({VIR_MIGRATE_PARAM_AUTO_CONVERGE_INITIAL, plan.auto_converge_initial});
  }
  if (f.auto_converge && plan.auto_converge_increment > 0) {
    a.params.push_back({VIR_MIGRATE_PARAM_AUTO_CONVERGE_INCREMENT, plan.auto_converge_increment});
  }
  return a;
}

}  // namespace ferry::libvirt

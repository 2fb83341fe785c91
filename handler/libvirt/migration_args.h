// The libvirt form of a MigrationPlan: flags for virDomainMigrateToURI3 and its typed
// parameters. The header stays free of libvirt so tests and callers need not include it.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "migration/migration_plan.h"

namespace ferry::libvirt {

struct MigrationParam {
  std::string name;  // VIR_MIGRATE_PARAM_* value, e.g. "bandwidth"
  std::variant<std::uint64_t, int, std::string> value;
  friend bool operator==(const MigrationParam&, const MigrationParam&) = default;
};

struct LibvirtMigrationArgs {
  unsigned int flags = 0;  // VIR_MIGRATE_* bits
  std::vector<MigrationParam> params;
};

LibvirtMigrationArgs ToLibvirtArgs(const migration::MigrationPlan& plan);

}  // namespace ferry::libvirt

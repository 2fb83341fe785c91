// The migration engine's options for one VirtualMachineMigration: exactly the effective
// options the operator resolved at admission (status.effectiveOptions), the target handler's
// targetURI, and this node's libvirtd. Pure.
#pragma once

#include <string>

#include "api/migration.h"
#include "core/status.h"
#include "migration/migration_plan.h"

namespace ferry::agent {

// Invalid when the VMM has no effectiveOptions or no targetURI, or the options do not make
// a migration (a zero max downtime, ...). `shutdown_timeout`: how long a cold migration waits
// for the guest's ACPI shutdown before it destroys it (the node's --shutdown-grace).
StatusOr<migration::MigrationOptions> EngineOptions(const api::VirtualMachineMigration& vmm,
                                                    const std::string& domain_name,
                                                    const std::string& source_uri,
                                                    migration::Millis shutdown_timeout);

migration::Mode EngineMode(api::MigrationMode m);

}  // namespace ferry::agent

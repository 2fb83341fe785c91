// Reads what the agent needs out of a domain's XML definition: size (vCPUs, memory), pinning,
// huge pages, disks, and Ferry's mark in <metadata>. Pure.
#pragma once

#include <string>

#include "core/status.h"
#include "domain/node_hypervisor.h"

namespace ferry::domain {

// The XML namespace of Ferry's <metadata> element (<ferry:vm .../>).
inline constexpr const char* kFerryXmlns = "https://ferry.dev/xmlns/domain/v1";
// The migration mark <ferry:migration uid=".."/> has a namespace of its own
// (migration/migration_mark.h: kMigrationMarkXmlns).

// Fills name, uuid, vcpus, memory_bytes, pinned_cpus, hugepage_size_bytes, disks and mark
// of `info`; the state fields are left alone.
// (the <ferry:vm> element and the <ferry:migration> mark; a domain with only the latter gets a
// mark with just migration_uid).
Status ParseDomainDescription(const std::string& xml, DomainInfo* info);

}  // namespace ferry::domain

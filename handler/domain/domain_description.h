// Reads what the agent needs out of a domain's XML definition: size (vCPUs, memory), pinning,
// huge pages, disks, and Ferry's mark in <metadata>. Pure.
#pragma once

#include <string>

#include "core/status.h"
#include "domain/node_hypervisor.h"

namespace ferry::domain {

// The XML namespace of Ferry's <metadata> element.
inline constexpr const char* kFerryXmlns = "https://ferry.dev/xmlns/domain/v1";

// Fills name, uuid, vcpus, memory_bytes, pinned_cpus, hugepage_size_bytes, disks and mark
// of `info`; the state fields are left alone.
Status ParseDomainDescription(const std::string& xml, DomainInfo* info);

}  // namespace ferry::domain

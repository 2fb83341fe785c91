// Reads the host's facts out of libvirt's capabilities XML (virConnectGetCapabilities) and
// the usable guest CPU models out of its domain capabilities for the node's emulator
// (virConnectGetDomainCapabilities). Pure: XML in, facts out.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "domain/node_hypervisor.h"

namespace ferry::domain {

// Fills arch, CPU vendor/model/features, the NUMA cells (CPUs, memory, huge pages) and the
// online CPUs of `facts`. Memory is the sum of the cells' (left as is when the XML has no
// topology, e.g. a host without NUMA information).
Status ParseCapabilities(const std::string& xml, HostFacts* facts);

// The named CPU models marked usable (custom mode), in the document's order.
StatusOr<std::vector<std::string>> ParseUsableCpuModels(const std::string& domcaps_xml);

// "QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-1~bpo12+1)" -> "10.0.2"; "" when the
// text has no version.
std::string ParseQemuVersionOutput(const std::string& text);
// libvirt's integer version (major × 1,000,000 + minor × 1,000 + micro) -> "9.0.0".
std::string FormatLibvirtVersion(unsigned long long v);

}  // namespace ferry::domain

// Host CPU sets in libvirt's / Linux's list syntax ("0-3,8,10-11"), for pinning, the
// reserved and dedicated CPU flags, and <vcpupin cpuset=...>.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace ferry::domain {

// Parses "0-3,8"; "^2" exclusions (libvirt) are applied to what precedes them. Returns the
// CPUs sorted and unique. Empty text is the empty set.
StatusOr<std::vector<int>> ParseCpuSet(const std::string& text);
// The shortest list form of a set ({0,1,2,5} -> "0-2,5").
std::string FormatCpuSet(std::vector<int> cpus);

}  // namespace ferry::domain

#include "domain/cpu_allocation.h"

#include <algorithm>
#include <set>
#include <string>

#include "domain/cpuset.h"

namespace ferry::domain {

StatusOr<DomainPlacement> PlaceDomain(const api::VirtualMachineSpec& spec,
                                      const std::vector<HostCell>& cells,
                                      const std::vector<int>& dedicated_cpus,
                                      const std::vector<int>& pinned_elsewhere) {
  DomainPlacement out;
  if (!spec.dedicated_cpus) return out;
  const std::set<int> dedicated(dedicated_cpus.begin(), dedicated_cpus.end());
  const std::set<int> taken(pinned_elsewhere.begin(), pinned_elsewhere.end());
  // Free dedicated CPUs per host cell; a host without topology is one cell.
  std::vector<std::pair<int, std::vector<int>>> free;
  if (cells.empty()) {
    std::vector<int> f;
    for (int c : dedicated) {
      if (!taken.count(c)) f.push_back(c);
    }
    free.emplace_back(0, f);
  } else {
    for (const auto& cell : cells) {
      std::vector<int> f;
      for (int c : cell.cpus) {
        if (dedicated.count(c) && !taken.count(c)) f.push_back(c);
      }
      std::sort(f.begin(), f.end());
      free.emplace_back(cell.id, f);
    }
  }
  size_t total_free = 0;
  for (const auto& [id, f] : free) total_free += f.size();

  const int64_t guest_cells = std::max<int64_t>(1, spec.numa_nodes.value_or(1));
  for (int64_t g = 0; g < guest_cells; ++g) {
    const int64_t base = spec.cpus / guest_cells, extra = spec.cpus % guest_cells;
    const size_t want = static_cast<size_t>(base + (g < extra ? 1 : 0));
    int best = -1;
    for (size_t i = 0; i < free.size(); ++i) {
      if (free[i].second.size() < want) continue;
      if (best < 0 || free[i].second.size() > free[static_cast<size_t>(best)].second.size()) {
        best = static_cast<int>(i);
      }
    }
    if (best < 0) {
      return FailedPreconditionError(
          "not enough free dedicated CPUs: the VM needs " + std::to_string(spec.cpus) + " (" +
          std::to_string(want) + " in one host NUMA cell for guest node " + std::to_string(g) +
          "), the node has " + std::to_string(total_free) + " free of " +
          std::to_string(dedicated.size()) + " dedicated (" + FormatCpuSet(dedicated_cpus) + ")");
    }
    auto& f = free[static_cast<size_t>(best)].second;
    out.pinned_cpus.insert(out.pinned_cpus.end(), f.begin(), f.begin() + static_cast<long>(want));
    f.erase(f.begin(), f.begin() + static_cast<long>(want));
    if (spec.numa_nodes && !cells.empty())
      out.host_cells.push_back(free[static_cast<size_t>(best)].first);
  }
  return out;
}

}  // namespace ferry::domain

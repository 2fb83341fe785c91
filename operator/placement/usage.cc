#include "placement/usage.h"

#include <algorithm>

namespace ferry::placement {

int64_t CeilDiv(int64_t a, int64_t b) { return b <= 0 ? a : (a + b - 1) / b; }

Demand DemandOf(const Vm& vm, Relaxation relax) {
  Demand d;
  d.cpu_millis = vm.cpu_millis;
  if (vm.hugepage_size_bytes > 0) {
    d.hugepage_size = vm.hugepage_size_bytes;
    d.hugepage_bytes = vm.memory_bytes;
  } else {
    d.memory_bytes = vm.memory_bytes;
  }
  if (vm.dedicated_cpus && !relax.drop_dedicated) d.dedicated_cpus = CeilDiv(vm.cpu_millis, 1000);
  if (!relax.drop_numa) d.numa_nodes = vm.numa_nodes;
  return d;
}

NumaEntry NumaEntryOf(const Demand& d) {
  NumaEntry e;
  if (d.numa_nodes <= 0) return e;
  e.cells = d.numa_nodes;
  e.cpu_share = CeilDiv(d.cpu_millis, d.numa_nodes);
  e.mem_share = CeilDiv(d.memory_bytes + d.hugepage_bytes, d.numa_nodes);
  return e;
}

int PackNuma(const std::vector<NumaCell>& cells, std::span<const NumaEntry> entries,
             int64_t* cpu_used, int64_t* mem_used) {
  const int n = static_cast<int>(std::min<size_t>(cells.size(), kMaxNumaCells));
  std::fill(cpu_used, cpu_used + n, 0);
  std::fill(mem_used, mem_used + n, 0);
  std::vector<NumaEntry> sorted(entries.begin(), entries.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const NumaEntry& a, const NumaEntry& b) { return PacksBefore(a, b); });
  auto free_mem = [&](int c) { return cells[static_cast<size_t>(c)].memory_bytes - mem_used[c]; };
  auto free_cpu = [&](int c) { return cells[static_cast<size_t>(c)].cpu_millis - cpu_used[c]; };
  int failures = 0;
  std::array<int, kMaxNumaCells> order{};
  std::array<int, kMaxNumaCells> chosen{};
  for (const NumaEntry& e : sorted) {
    if (e.cells <= 0) continue;
    // Cells by free memory, most first, ties to the lowest cell (insertion sort: cells are few).
    for (int i = 0; i < n; ++i) {
      int j = i;
      for (; j > 0 && free_mem(order[static_cast<size_t>(j - 1)]) < free_mem(i); --j) {
        order[static_cast<size_t>(j)] = order[static_cast<size_t>(j - 1)];
      }
      order[static_cast<size_t>(j)] = i;
    }
    int found = 0;
    for (int i = 0; i < n && found < e.cells; ++i) {
      const int c = order[static_cast<size_t>(i)];
      if (free_cpu(c) >= e.cpu_share && free_mem(c) >= e.mem_share) {
        chosen[static_cast<size_t>(found++)] = c;
      }
    }
    if (found < e.cells) {
      // No room: charge the cells with most free memory anyway, so the overuse shows.
      ++failures;
      found = std::min(e.cells, n);
      for (int i = 0; i < found; ++i)
        chosen[static_cast<size_t>(i)] = order[static_cast<size_t>(i)];
    }
    for (int i = 0; i < found; ++i) {
      cpu_used[chosen[static_cast<size_t>(i)]] += e.cpu_share;
      mem_used[chosen[static_cast<size_t>(i)]] += e.mem_share;
    }
  }
  return failures;
}

}  // namespace ferry::placement

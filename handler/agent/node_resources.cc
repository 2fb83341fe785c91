#include "agent/node_resources.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace ferry::agent {
namespace {

api::Quantity Bytes(uint64_t b) {
  return api::Quantity::FromInt(static_cast<int64_t>(b), api::Quantity::Format::kBinarySI);
}

void AddBytes(std::map<std::string, api::Quantity>* m, const std::string& key, uint64_t bytes) {
  auto it = m->find(key);
  const uint64_t prev = it == m->end() ? 0 : static_cast<uint64_t>(it->second.Value());
  (*m)[key] = Bytes(prev + bytes);
}

}  // namespace

std::string PageSizeName(uint64_t bytes) { return Bytes(bytes).String(); }

NodeResources ComputeResources(const domain::HostFacts& host,
                               const std::vector<domain::DomainInfo>& domains,
                               const NodeLimits& limits) {
  NodeResources r;
  const std::set<int> online(host.cpus.begin(), host.cpus.end());
  int64_t dedicated = 0, reserved = 0;
  for (int c : limits.dedicated_cpus) dedicated += online.count(c) ? 1 : 0;
  for (int c : limits.reserved_cpus) reserved += online.count(c) ? 1 : 0;
  uint64_t huge_total = 0;
  for (const auto& cell : host.cells) {
    for (const auto& [size, pages] : cell.hugepages) {
      huge_total += size * pages;
      AddBytes(&r.capacity.hugepages, PageSizeName(size), size * pages);
    }
  }
  r.capacity.cpus = static_cast<int64_t>(online.size());
  r.capacity.dedicated_cpus = dedicated;
  const uint64_t normal = host.memory_bytes > huge_total ? host.memory_bytes - huge_total : 0;
  r.capacity.memory = Bytes(normal);

  const int64_t shared = std::max<int64_t>(0, r.capacity.cpus - reserved - dedicated);
  r.allocatable.cpus =
      static_cast<int64_t>(std::floor(static_cast<double>(shared) * limits.cpu_allocation_ratio));
  r.allocatable.dedicated_cpus = dedicated;
  const uint64_t reserved_mem =
      static_cast<uint64_t>(std::max<int64_t>(0, limits.reserved_memory_bytes));
  r.allocatable.memory = Bytes(normal > reserved_mem ? normal - reserved_mem : 0);
  r.allocatable.hugepages = r.capacity.hugepages;

  uint64_t used_mem = 0;
  std::set<int> pinned;
  for (const auto& d : domains) {
    if (!d.IsActive()) continue;
    if (d.pinned_cpus.empty()) {
      r.used.cpus += d.vcpus;
    } else {
      pinned.insert(d.pinned_cpus.begin(), d.pinned_cpus.end());
    }
    if (d.hugepage_size_bytes > 0) {
      AddBytes(&r.used.hugepages, PageSizeName(d.hugepage_size_bytes), d.memory_bytes);
    } else {
      used_mem += d.memory_bytes;
    }
  }
  r.used.dedicated_cpus = static_cast<int64_t>(pinned.size());
  r.used.memory = Bytes(used_mem);
  return r;
}

std::vector<api::HypervisorNumaCell> NumaCells(const domain::HostFacts& host) {
  std::vector<api::HypervisorNumaCell> out;
  for (const auto& cell : host.cells) {
    api::HypervisorNumaCell c;
    c.id = cell.id;
    c.cpus = static_cast<int64_t>(cell.cpus.size());
    c.memory = Bytes(cell.memory_bytes);
    for (const auto& [size, pages] : cell.hugepages)
      c.hugepages[PageSizeName(size)] = Bytes(size * pages);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace ferry::agent

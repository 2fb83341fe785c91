// What a VM asks of a node (Demand) and what is in use on every node (UsageTable).
//
// The view keeps one UsageTable current from its updates; plans (drain, rebalance) copy it
// and record their own moves in the copy (ClusterView::StartMigration), so later steps see
// the effects of earlier ones.
//
// NUMA cells are not handed out one VM at a time in arrival order (which made the result
// depend on the order events came in). A node's cell use is a function of the set of NUMA
// demands on it: they are packed in a canonical order (largest memory share first, then
// CPU share, then cells), each taking the cells with the most free memory. A new VM fits
// when the packing with it added leaves nobody without cells who had them before.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "placement/types.h"

namespace ferry::placement {

using NodeId = int32_t;
using VmId = int32_t;
using GroupId = int32_t;
inline constexpr int32_t kNoId = -1;
// Vm::server_group names a group that is not in the view.
inline constexpr GroupId kMissingGroup = -2;

// Limits that keep per-node arrays fixed-size. Real hosts have at most 8 NUMA cells (16 with
// sub-NUMA clustering on 8 sockets) and 2-4 hugepage sizes; larger values are refused.
inline constexpr int kMaxNumaCells = 16;
inline constexpr int kMaxHugepagePools = 4;

// The resources a VM asks of a node, after any relaxation.
struct Demand {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;    // regular memory (0 when backed by hugepages)
  int64_t dedicated_cpus = 0;  // whole CPUs from the pinnable pool
  int64_t hugepage_size = 0;   // 0 = none
  int64_t hugepage_bytes = 0;
  int numa_nodes = 0;
  bool IsPlain() const { return dedicated_cpus == 0 && numa_nodes == 0 && hugepage_size == 0; }
  friend bool operator==(const Demand&, const Demand&) = default;
};

// Constraints dropped by relaxed pinning (oVirt's second phase).
struct Relaxation {
  bool drop_numa = false;
  bool drop_dedicated = false;
};

Demand DemandOf(const Vm& vm, Relaxation relax = {});

// Per-cell share of a demand split over k cells (rounded up, so the cells cover it all).
int64_t CeilDiv(int64_t a, int64_t b);

// One NUMA demand on a node: `cells` distinct cells with cpu_share and mem_share free each.
struct NumaEntry {
  int32_t cells = 0;
  int64_t cpu_share = 0;
  int64_t mem_share = 0;
  // Canonical packing order. Entries equal under it are interchangeable.
  friend bool PacksBefore(const NumaEntry& a, const NumaEntry& b) {
    if (a.mem_share != b.mem_share) return a.mem_share > b.mem_share;
    if (a.cpu_share != b.cpu_share) return a.cpu_share > b.cpu_share;
    return a.cells > b.cells;
  }
  friend bool operator==(const NumaEntry&, const NumaEntry&) = default;
};
NumaEntry NumaEntryOf(const Demand& d);  // cells == 0 when the demand has no NUMA shape

// Packs `entries` (any order) onto `cells`; returns how many entries found fewer than their
// cells with room (those are charged to the cells with most free memory anyway, so overuse
// shows). `cell_cpu_used`/`cell_mem_used` (size cells.size()) receive the use per cell.
int PackNuma(const std::vector<NumaCell>& cells, std::span<const NumaEntry> entries,
             int64_t* cell_cpu_used, int64_t* cell_mem_used);

// Sums over a node's NUMA entries, for checks that need no packing.
struct NumaLoad {
  int64_t share_cpu = 0;  // Σ cpu_share (what one cell would hold if it took a share of all)
  int64_t share_mem = 0;
  int64_t total_cpu = 0;  // Σ cells × cpu_share (what the cells hold together)
  int64_t total_mem = 0;
  int32_t failures = 0;  // entries the canonical packing could not fit (an overcommitted node)
  void Add(const NumaEntry& e) {
    share_cpu += e.cpu_share;
    share_mem += e.mem_share;
    total_cpu += e.cells * e.cpu_share;
    total_mem += e.cells * e.mem_share;
  }
};

// What is in use on one node, with the score parts that depend on nothing else, kept
// together so the decision loop reads one small record per node.
struct NodeUse {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  int64_t dedicated_cpus = 0;
  int32_t inflight = 0;          // counted migrations into or out of the node
  uint8_t pinned_score = 100;    // free share of the dedicated-CPU pool, 0..100 (100: no pool)
  uint8_t inflight_score = 100;  // 100 / (1 + inflight)
  // The least-loaded score the node would have for a VM needing nothing: no VM can score
  // more here, so a node whose bound cannot beat the best so far need not be scored.
  uint8_t load_bound = 0;
};

struct UsageTable {
  // Per node (indexed by NodeId).
  std::vector<NodeUse> nodes;
  std::vector<std::array<int64_t, kMaxHugepagePools>> hugepage_bytes;  // by the node's pool index
  std::vector<NumaLoad> numa;
  // Per VM (indexed by VmId): target of its counted (or planned) migration, kNoId if none.
  std::vector<NodeId> migrating_to;
  // Plan copies only: NUMA entries of planned moves, by target node.
  std::vector<std::pair<NodeId, NumaEntry>> planned_numa;
};

// floor(100 × part / total) for 0 <= part <= total, exactly as integer division gives it,
// from a multiply by the precomputed 100.0 / total and one correction (a 64-bit division per
// term was most of a decision's time). 0 when total <= 0.
inline int64_t Percent(int64_t part, int64_t total, double scale) {
  if (total <= 0) return 0;
  int64_t q = static_cast<int64_t>(static_cast<double>(part) * scale);
  const int64_t n = part * 100;
  if (q * total > n) {
    --q;
  } else if ((q + 1) * total <= n) {
    ++q;
  }
  return q;
}
inline double PercentScale(int64_t total) {
  return total > 0 ? 100.0 / static_cast<double>(total) : 0;
}

// The score parts of a node that depend only on its own use and capacity: the free share
// of its pinnable pool, its migrations in flight, and the bound on its least-loaded score.
inline void RefreshNodeScores(NodeUse& use, int64_t cpu_capacity, double cpu_scale,
                              int64_t memory_capacity, double memory_scale,
                              int64_t dedicated_capacity) {
  if (dedicated_capacity > 0) {
    const int64_t free =
        std::clamp<int64_t>(dedicated_capacity - use.dedicated_cpus, 0, dedicated_capacity);
    use.pinned_score = static_cast<uint8_t>(free * 100 / dedicated_capacity);
  } else {
    use.pinned_score = 100;
  }
  use.inflight_score = static_cast<uint8_t>(100 / (1 + std::max(use.inflight, 0)));
  auto free_pct = [](int64_t total, double scale, int64_t used) -> int64_t {
    return Percent(std::clamp<int64_t>(total - used, 0, std::max<int64_t>(total, 0)), total, scale);
  };
  use.load_bound =
      static_cast<uint8_t>((free_pct(cpu_capacity, cpu_scale, use.cpu_millis) +
                            free_pct(memory_capacity, memory_scale, use.memory_bytes)) /
                           2);
}

}  // namespace ferry::placement

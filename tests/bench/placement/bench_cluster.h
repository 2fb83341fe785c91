// Seeded benchmark fixtures: large clusters built directly (not through the engine) so a
// 5,000-node, 50,000-VM snapshot takes milliseconds, valid by construction: capacity is not
// exceeded, strict anti-affinity members sit on distinct nodes, strict affinity members share
// one node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "placement/cluster_view.h"
#include "placement/types.h"

namespace ferry::placement::bench {

struct BenchShape {
  int nodes = 1000;
  int vms_per_node = 10;
  double grouped_fraction = 0.2;  // share of VMs in server groups
  double strict_fraction = 0.5;   // share of groups that are strict
  int group_size = 5;
  double pending_fraction = 0.01;   // unplaced VMs (first-start requests)
  double inflight_fraction = 0.01;  // ungrouped VMs with a migration in flight
  int big_node_vms = 0;             // > 0: one extra node "big-0" holding this many VMs
  uint64_t seed = 42;
};

struct BenchCluster {
  ClusterSnapshot snapshot;
  std::vector<std::string> placed_vms;   // migration requests
  std::vector<std::string> pending_vms;  // first-start requests
};

BenchCluster MakeBenchCluster(const BenchShape& shape);

// A view fed one object at a time in a shuffled order, as a controller's informers would
// (Node and Hypervisor halves, groups, VMs and migrations interleaved): node and VM ids then
// follow arrival order, not name order.
ClusterView FeedShuffled(const ClusterSnapshot& snapshot, uint64_t seed);

}  // namespace ferry::placement::bench

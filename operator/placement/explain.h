// Sentences for rejections and scores. Formatting happens only when a caller asks, so a
// decision over 5,000 nodes does not build 5,000 strings it may never show.
#pragma once

#include <array>
#include <string>

#include "placement/filters.h"
#include "placement/scoring.h"

namespace ferry::placement {

// "memory: needs 4Gi, free 2Gi", "anti-affinity: group db already on node-3 (db-2; 1 of
// maxPerNode 1)". `vm` is the VM being placed, `node` the node rejected.
std::string DescribeRejection(const ClusterIndex& index, VmId vm, NodeId node, const Rejection& r);

// "score 580 = group 3×100 + load 1×80 + pinned 1×100 + in-flight 1×100".
std::string DescribeScore(const ScoreBreakdown& s, const Weights& w);

// "no node fits: 3 memory (node-2: needs 4Gi, free 2Gi), 2 anti-affinity (...)".
struct RejectionTally {
  std::array<int32_t, kFilterCount> count{};
  std::array<NodeId, kFilterCount> example_node{};
  std::array<Rejection, kFilterCount> example{};
  void Add(NodeId node, const Rejection& r);
};
std::string DescribeTally(const ClusterIndex& index, VmId vm, const RejectionTally& tally);

// Need/have pair in the unit of a filter, made distinct when rounding would hide the gap.
std::string NeedHave(Filter f, int64_t need, int64_t have);

}  // namespace ferry::placement

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
std::string DescribeRejection(const ClusterView& view, VmId vm, NodeId node, const Rejection& r);

// "score 580 = group 3x100 + load 1x80 + pinned 1x100 + in-flight 1x100".
std::string DescribeScore(const ScoreBreakdown& s, const Weights& w);

// Nodes rejected per reason, with the first node (in name order) of each as an example.
struct RejectionTally {
  std::array<int32_t, kNodeReasonCount> count{};
  std::array<NodeId, kNodeReasonCount> example_node{};
  std::array<Rejection, kNodeReasonCount> example{};
  void Add(NodeId node, const Rejection& r) {
    const auto f = static_cast<size_t>(r.reason);
    if (count[f]++ == 0) {
      example_node[f] = node;
      example[f] = r;
    }
  }
  // The reason of the nodes that came closest to fitting: the last filter, in filter order,
  // that rejected any node, not counting the excluded and current nodes unless nothing else
  // rejected. kNone when no node was rejected.
  Reason Main() const;
};
// "3 nodes memory (node-2: memory: needs 4Gi, free 2Gi); 2 nodes anti-affinity (...)".
std::string DescribeTally(const ClusterView& view, VmId vm, const RejectionTally& tally);

// "needs 6.01Gi, free 6Gi (1 byte short)": the need rounded up, the free figure rounded down,
// so they never look equal when they differ, and the exact gap when rounding hides it.
std::string NeedHave(Reason r, int64_t need, int64_t have);

}  // namespace ferry::placement

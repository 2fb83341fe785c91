#include "placement/scoring.h"

#include <algorithm>

namespace ferry::placement {
namespace {

constexpr int64_t kMax = 100;

// Share of `total` still free after using `extra` more, in 0..100 (0 for an empty total),
// truncated. Computed in double because a 64-bit idiv per term dominated the decision
// time; for totals below 2^47 (128Ti) the result equals integer division exactly (the
// quotient of two exact integers is never within one ulp of the next integer), and IEEE
// division gives the same bits on every machine.
int64_t FreePercent(int64_t total, int64_t used, int64_t extra) {
  if (total <= 0) return 0;
  const int64_t free_after = std::clamp<int64_t>(total - used - extra, 0, total);
  return static_cast<int64_t>(static_cast<double>(free_after) * static_cast<double>(kMax) /
                              static_cast<double>(total));
}

}  // namespace

int32_t GroupScore(const ClusterView& view, const VmContext& ctx, NodeId node) {
  if (ctx.group < 0) return static_cast<int32_t>(kMax);
  const ServerGroup& g = view.group(ctx.group);
  const int32_t here = ctx.presence.CountOn(node);
  if (g.policy == GroupPolicy::kAffinity) {
    if (ctx.presence.counts.empty()) return static_cast<int32_t>(kMax);
    // The group's main node is best; another node holding members is half as good.
    if (node == ctx.presence.main_node) return static_cast<int32_t>(kMax);
    return here > 0 ? static_cast<int32_t>(kMax / 2) : 0;
  }
  return static_cast<int32_t>(kMax / (1 + here));
}

bool HonoursGroup(const ClusterView& view, const VmContext& ctx, NodeId node) {
  if (ctx.group < 0) return true;
  const ServerGroup& g = view.group(ctx.group);
  if (!g.best_effort) return true;  // a strict rule is a filter: every node left keeps it
  const int32_t here = ctx.presence.CountOn(node);
  if (g.policy == GroupPolicy::kAffinity) {
    return ctx.presence.main_node == kNoId || node == ctx.presence.main_node;
  }
  return here < g.max_per_node;
}

ScoreBreakdown ScoreNode(const ClusterView& view, const UsageTable& usage, const VmContext& ctx,
                         NodeId node_id, const Weights& w) {
  const NodeFacts& node = view.facts(node_id);
  const auto n = static_cast<size_t>(node_id);
  ScoreBreakdown s;
  const int64_t cpu = FreePercent(node.cpu_millis, usage.cpu_millis[n], ctx.demand.cpu_millis);
  const int64_t mem =
      FreePercent(node.memory_bytes, usage.memory_bytes[n], ctx.demand.memory_bytes);
  s.least_loaded = static_cast<int32_t>((cpu + mem) / 2);
  s.least_pinned =
      node.dedicated_cpus > 0
          ? static_cast<int32_t>(FreePercent(node.dedicated_cpus, usage.dedicated_cpus[n], 0))
          : static_cast<int32_t>(kMax);
  s.group = GroupScore(view, ctx, node_id);
  s.compliant = HonoursGroup(view, ctx, node_id);
  s.inflight = static_cast<int32_t>(kMax / (1 + usage.inflight[n]));
  s.total = int64_t{w.least_loaded} * s.least_loaded + int64_t{w.least_pinned} * s.least_pinned +
            int64_t{w.group} * s.group + int64_t{w.inflight} * s.inflight;
  return s;
}

}  // namespace ferry::placement

// Weights: how the nodes that pass every filter are ranked. Each component is a score from
// 0 to 100 (higher is better); the total is the weighted sum. Integer arithmetic only, so
// equal input gives equal output on every machine.
#pragma once

#include <algorithm>
#include <cstdint>

#include "placement/filters.h"

namespace ferry::placement {

// Why each weight exists (see docs/placement.md):
//  * least_loaded: spreading load leaves headroom for guests to grow and for the next
//    migration or drain to land somewhere.
//  * least_pinned (oVirt): keep the dedicated-CPU pools of nodes free for the VMs that need
//    pinning; pinned VMs are also the hardest to evacuate, so do not pile them up.
//  * group: the best-effort rules are preferences, so they are a score: prefer the node
//    holding an affinity group, and the node with fewest anti-affinity members. On top of
//    the weights, a node that honours the best-effort rule always ranks above one that
//    breaks it (ScoreBreakdown::compliant), so a rule is broken only when no node that
//    passes the filters can honour it.
//  * inflight: migrations in and out of a node share its network and CPU; a node already
//    busy migrating converges slower and makes the next one slower.
//
// Set weights by name (`Weights w; w.group = 5;` or `Weights().WithGroup(5)`): the
// user-declared constructor makes the struct a non-aggregate, so a positional
// `Weights{1, 1, 3, 1}`, which silently depends on the field order, does not compile.
struct Weights {
  Weights() = default;
  int least_loaded = 1;
  int least_pinned = 1;
  int group = 3;
  int inflight = 1;
  constexpr Weights& WithLeastLoaded(int w) { return Set(least_loaded, w); }
  constexpr Weights& WithLeastPinned(int w) { return Set(least_pinned, w); }
  constexpr Weights& WithGroup(int w) { return Set(group, w); }
  constexpr Weights& WithInflight(int w) { return Set(inflight, w); }
  friend bool operator==(const Weights&, const Weights&) = default;

 private:
  constexpr Weights& Set(int& field, int w) {
    field = w;
    return *this;
  }
};

struct ScoreBreakdown {
  int16_t least_loaded = 0;  // 0..100 each (16 bits: a decision keeps one per node)
  int16_t least_pinned = 0;
  int16_t group = 0;
  int16_t inflight = 0;
  int64_t total = 0;
  bool compliant = true;  // honours the VM's best-effort group rule (always true for none)

  // Ranking: compliant first, then the higher total. Ties go to the caller (first name).
  bool BetterThan(const ScoreBreakdown& other) const {
    if (compliant != other.compliant) return compliant;
    return total > other.total;
  }
};

// Scores `node` for the VM of `ctx` (which passed the filters there).
ScoreBreakdown ScoreNode(const ClusterView& view, const UsageTable& usage, const VmContext& ctx,
                         NodeId node, const Weights& weights);

// The group component alone: 100 when the node honours the group's preference fully.
int32_t GroupScore(const ClusterView& view, const VmContext& ctx, NodeId node);
// Whether `node` keeps the VM's group rule (affinity: it is the group's main node, if any
// other member holds a node; anti-affinity: fewer than maxPerNode other members there).
bool HonoursGroup(const ClusterView& view, const VmContext& ctx, NodeId node);

// ---- Inline: these run for every node that passes the filters. ----

inline constexpr int64_t kMaxScore = 100;

// Share of `total` still free after using `extra` more, in 0..100 (0 for an empty total),
// truncated: exactly what integer division gives, without dividing (usage.h Percent).
inline int64_t FreePercent(int64_t total, double scale, int64_t used, int64_t extra) {
  if (total <= 0) return 0;
  return Percent(std::clamp<int64_t>(total - used - extra, 0, total), total, scale);
}

inline int32_t GroupScoreHere(const VmContext& ctx, NodeId node, int32_t here) {
  if (ctx.policy == GroupPolicy::kAffinity) {
    if (ctx.presence.counts.empty()) return static_cast<int32_t>(kMaxScore);
    // The group's main node is best; another node holding members is half as good.
    if (node == ctx.presence.main_node) return static_cast<int32_t>(kMaxScore);
    return here > 0 ? static_cast<int32_t>(kMaxScore / 2) : 0;
  }
  return static_cast<int32_t>(kMaxScore / (1 + here));
}

inline bool HonoursGroupHere(const VmContext& ctx, NodeId node, int32_t here) {
  if (!ctx.best_effort) return true;  // a strict rule is a filter: every node left keeps it
  if (ctx.policy == GroupPolicy::kAffinity) {
    return ctx.presence.main_node == kNoId || node == ctx.presence.main_node;
  }
  return here < ctx.max_per_node;
}

inline int32_t GroupScore(const ClusterView& view, const VmContext& ctx, NodeId node) {
  (void)view;
  if (ctx.group < 0) return static_cast<int32_t>(kMaxScore);
  return GroupScoreHere(ctx, node, ctx.presence.CountOn(node));
}

inline bool HonoursGroup(const ClusterView& view, const VmContext& ctx, NodeId node) {
  (void)view;
  if (ctx.group < 0) return true;
  return HonoursGroupHere(ctx, node, ctx.presence.CountOn(node));
}

inline ScoreBreakdown ScoreNode(const VmContext& ctx, NodeId node_id, const NodeFacts& node,
                                const NodeUse& use, const Weights& w) {
  ScoreBreakdown s;
  const int64_t cpu =
      FreePercent(node.cpu_millis, node.cpu_scale, use.cpu_millis, ctx.demand.cpu_millis);
  const int64_t mem =
      FreePercent(node.memory_bytes, node.mem_scale, use.memory_bytes, ctx.demand.memory_bytes);
  s.least_loaded = static_cast<int16_t>((cpu + mem) / 2);
  s.least_pinned = use.pinned_score;
  s.inflight = use.inflight_score;
  if (ctx.group >= 0) {
    const int32_t here = ctx.presence.CountOn(node_id);
    s.group = static_cast<int16_t>(GroupScoreHere(ctx, node_id, here));
    s.compliant = HonoursGroupHere(ctx, node_id, here);
  } else {
    s.group = static_cast<int16_t>(kMaxScore);
  }
  s.total = int64_t{w.least_loaded} * s.least_loaded + int64_t{w.least_pinned} * s.least_pinned +
            int64_t{w.group} * s.group + int64_t{w.inflight} * s.inflight;
  return s;
}

inline ScoreBreakdown ScoreNode(const ClusterView& view, const UsageTable& usage,
                                const VmContext& ctx, NodeId node_id, const Weights& w) {
  return ScoreNode(ctx, node_id, view.facts(node_id), usage.nodes[static_cast<size_t>(node_id)], w);
}

}  // namespace ferry::placement

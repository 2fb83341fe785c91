#include "migration/limits.h"

#include <algorithm>

namespace ferry::op::migration {

int ActiveCounts::Outbound(const std::string& node) const {
  auto it = outbound.find(node);
  return it == outbound.end() ? 0 : it->second;
}

int ActiveCounts::Inbound(const std::string& node) const {
  auto it = inbound.find(node);
  return it == inbound.end() ? 0 : it->second;
}

bool RanksBefore(const QueuedMigration& a, const QueuedMigration& b) {
  if (a.refused_before != b.refused_before) return !a.refused_before;
  if (a.priority != b.priority) return a.priority > b.priority;
  if (a.created != b.created) return a.created < b.created;
  return a.key < b.key;
}

namespace {

// Why `m` cannot take a slot under `counts`, or "" when it can.
std::string Blocked(const QueuedMigration& m, const ActiveCounts& counts,
                    const MigrationLimits& limits) {
  if (counts.cluster >= limits.per_cluster) {
    return "cluster limit: " + std::to_string(counts.cluster) + " of " +
           std::to_string(limits.per_cluster) + " migrations active";
  }
  if (counts.Outbound(m.source_node) >= limits.outbound_per_node) {
    return "outbound limit of " + m.source_node + ": " +
           std::to_string(counts.Outbound(m.source_node)) + " of " +
           std::to_string(limits.outbound_per_node) + " migrations leaving it";
  }
  if (!m.target_node.empty() && counts.Inbound(m.target_node) >= limits.inbound_per_node) {
    return "inbound limit of " + m.target_node + ": " +
           std::to_string(counts.Inbound(m.target_node)) + " of " +
           std::to_string(limits.inbound_per_node) + " migrations arriving";
  }
  return "";
}

}  // namespace

SlotDecision DecideSlot(const std::vector<QueuedMigration>& waiting, const ActiveCounts& active,
                        const MigrationLimits& limits, const std::string& key) {
  std::vector<const QueuedMigration*> order;
  order.reserve(waiting.size());
  for (const QueuedMigration& m : waiting) order.push_back(&m);
  std::sort(order.begin(), order.end(),
            [](const auto* a, const auto* b) { return RanksBefore(*a, *b); });

  ActiveCounts counts = active;
  int ahead = 0;
  for (const QueuedMigration* m : order) {
    const std::string why = Blocked(*m, counts, limits);
    if (m->key == key) {
      SlotDecision d;
      if (!why.empty()) {
        d.reason = why;
        if (ahead > 0) d.reason += " (" + std::to_string(ahead) + " ahead in the queue)";
        return d;
      }
      d.granted = true;
      if (m->target_node.empty()) {
        for (const auto& [node, n] : counts.inbound) {
          if (n >= limits.inbound_per_node) d.full_targets.push_back(node);
        }
      }
      return d;
    }
    if (!why.empty()) continue;
    // It goes before us: count its slot. Without a requested target its inbound node is
    // unknown until placement; it counts against the cluster and its source only.
    ++ahead;
    ++counts.cluster;
    ++counts.outbound[m->source_node];
    if (!m->target_node.empty()) ++counts.inbound[m->target_node];
  }
  SlotDecision d;
  d.reason = "not queued";
  return d;
}

}  // namespace ferry::op::migration

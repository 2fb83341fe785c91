#include "placement/group_status.h"

#include "placement/filters.h"

namespace ferry::placement {
namespace {

bool Leaving(const UsageTable& usage, VmId m) {
  return usage.migrating_to[static_cast<size_t>(m)] != kNoId;
}

const char* Kind(const ServerGroup& g) { return g.best_effort ? "best-effort " : "strict "; }

}  // namespace

std::vector<Violation> FindViolations(const ClusterView& view, const UsageTable& usage, GroupId g) {
  std::vector<Violation> out;
  const ServerGroup& group = view.group(g);
  const std::vector<VmId>& members = view.members(g);
  const GroupPresence all = ComputePresence(view, usage, g, kNoId);
  if (group.policy == GroupPolicy::kAntiAffinity) {
    for (const auto& [node, count] : all.counts) {
      if (count <= group.max_per_node) continue;
      int32_t arriving = 0;
      int32_t staying = 0;
      for (VmId m : members) {
        if (usage.migrating_to[static_cast<size_t>(m)] == node) {
          ++arriving;
        } else if (view.location(m) == node && !Leaving(usage, m)) {
          ++staying;
        }
      }
      if (arriving + staying <= group.max_per_node) continue;
      int32_t kept = arriving;  // committed: they count first
      for (VmId m : members) {  // name order: the first to stay, stay
        if (view.location(m) != node || Leaving(usage, m)) continue;
        if (kept < group.max_per_node) {
          ++kept;
          continue;
        }
        out.push_back({m, kNoId,
                       std::string(Kind(group)) + "anti-affinity: group " + group.name + " has " +
                           std::to_string(arriving + staying) + " members on " +
                           view.node(node).name + " (maxPerNode " +
                           std::to_string(group.max_per_node) + ")"});
      }
    }
    return out;
  }
  if (all.main_node == kNoId) return out;
  for (VmId m : members) {
    const NodeId loc = view.location(m);
    if (loc == kNoId || loc == all.main_node || Leaving(usage, m)) continue;
    out.push_back({m, all.main_node,
                   std::string(Kind(group)) + "affinity: group " + group.name + " is on " +
                       view.node(all.main_node).name + " (its main node), vm is on " +
                       view.node(loc).name});
  }
  return out;
}

GroupStatus DescribeGroup(const ClusterView& view, std::string_view group) {
  GroupStatus s;
  s.group = std::string(group);
  const GroupId g = view.FindGroup(group);
  if (g == kNoId) return s;
  s.found = true;
  const UsageTable& usage = view.usage();
  const std::vector<Violation> violations = FindViolations(view, usage, g);
  for (VmId m : view.members(g)) {
    GroupMemberStatus member;
    member.vm = view.vm(m).name;
    if (const NodeId loc = view.location(m); loc != kNoId) member.node = view.node(loc).name;
    if (const NodeId to = usage.migrating_to[static_cast<size_t>(m)]; to != kNoId) {
      member.migrating_to = view.node(to).name;
    }
    for (const Violation& v : violations) {
      if (v.vm != m) continue;
      member.compliant = false;
      member.violation = v.text;
    }
    s.members.push_back(std::move(member));
  }
  s.violations = static_cast<int>(violations.size());
  s.compliant = violations.empty();
  return s;
}

}  // namespace ferry::placement

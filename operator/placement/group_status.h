// Server-group compliance: which members break their group's rule, by the one definition
// the whole engine uses (ADR 5). The server-group controller writes DescribeGroup's answer
// into ServerGroup status; rebalance moves the best-effort violators it finds.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "placement/cluster_view.h"

namespace ferry::placement {

// A member that breaks its group's rule where it is.
struct Violation {
  VmId vm = kNoId;
  NodeId target = kNoId;  // affinity: the group's main node (where it belongs); else kNoId
  std::string text;       // "best-effort anti-affinity: group g has 2 members on n1 (...)"
};

// Violators of a group against `usage`, by name. Members already migrating are left out
// (their move decides). Affinity: running members not on the group's main node (most
// members, counting those migrating to or from a node; ties to the first name).
// Anti-affinity: on a node where more than maxPerNode members stay or arrive (members on
// their way out do not count), the staying members beyond the first maxPerNode (arriving
// members first, then by name). Strict and best-effort groups alike.
std::vector<Violation> FindViolations(const ClusterView& view, const UsageTable& usage,
                                      GroupId group);

struct GroupMemberStatus {
  std::string vm;
  std::string node;          // "" when not running
  std::string migrating_to;  // "" when not migrating
  bool compliant = true;
  std::string violation;  // when not compliant
};

struct GroupStatus {
  std::string group;
  bool found = false;                      // false: no such group in the view (members empty)
  std::vector<GroupMemberStatus> members;  // by name
  bool compliant = true;                   // no member violates the rule
  int violations = 0;
};

// The group as the ServerGroup status shows it.
GroupStatus DescribeGroup(const ClusterView& view, std::string_view group);

}  // namespace ferry::placement

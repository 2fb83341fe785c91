// ServerGroup (ferry.dev/v1alpha1, short name `sg`, namespaced): placement rules among VMs.
// Members are the VMs whose spec.serverGroup names the group.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "api/group.h"
#include "api/meta.h"

namespace ferry::api {

enum class ServerGroupPolicy { kAffinity, kAntiAffinity };
constexpr std::array<EnumName<ServerGroupPolicy>, 2> EnumTable(ServerGroupPolicy) {
  return {{{ServerGroupPolicy::kAffinity, "Affinity"}, {ServerGroupPolicy::kAntiAffinity, "AntiAffinity"}}};
}

struct ServerGroupSpec {
  ServerGroupPolicy policy = ServerGroupPolicy::kAntiAffinity;
  bool best_effort = false;  // false: strict (never violated), true: preferred
  int64_t max_per_node = 1;  // anti-affinity: members allowed on one node
  Json raw;
};

struct ServerGroupMember {
  std::string name;  // VM name
  std::string node;  // empty while unscheduled
  Json raw;
};

struct ServerGroupStatus {
  std::vector<ServerGroupMember> members;
  bool compliant = false;
  std::vector<std::string> violations;  // one human-readable line each
  int64_t observed_generation = 0;
  std::vector<Condition> conditions;  // e.g. NodeLockBlocked
  Json raw;
};

inline constexpr const char* kConditionNodeLockBlocked = "NodeLockBlocked";

struct ServerGroup {
  static constexpr const char* kApiVersion = api::kApiVersion;
  static constexpr const char* kKind = "ServerGroup";
  ObjectMeta metadata;
  ServerGroupSpec spec;
  ServerGroupStatus status;
  Json raw;

  static StatusOr<ServerGroup> FromJson(const Json& j);
  Json ToJson() const;
};

Status Decode(const Json& j, const std::string& path, ServerGroupSpec* out);
Status Decode(const Json& j, const std::string& path, ServerGroupMember* out);
Status Decode(const Json& j, const std::string& path, ServerGroupStatus* out);
Json Encode(const ServerGroupSpec& v);
Json Encode(const ServerGroupMember& v);
Json Encode(const ServerGroupStatus& v);

}  // namespace ferry::api

// The subset of Kubernetes core types Ferry reads and writes: Node (core/v1), Lease
// (coordination.k8s.io/v1) and Event (core/v1). Unknown fields survive via `raw`.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/meta.h"

namespace ferry::api {

// ---- Node --------------------------------------------------------------------------------
enum class TaintEffect { kNoSchedule, kPreferNoSchedule, kNoExecute };
constexpr std::array<EnumName<TaintEffect>, 3> EnumTable(TaintEffect) {
  return {{{TaintEffect::kNoSchedule, "NoSchedule"},
           {TaintEffect::kPreferNoSchedule, "PreferNoSchedule"},
           {TaintEffect::kNoExecute, "NoExecute"}}};
}

struct Taint {
  std::string key;
  std::string value;
  TaintEffect effect = TaintEffect::kNoSchedule;
  std::optional<WallTime> time_added;
  Json raw;
};

struct NodeSpec {
  bool unschedulable = false;  // set by `kubectl cordon` / `kubectl drain`
  std::vector<Taint> taints;
  Json raw;
};

// core/v1 NodeCondition (has heartbeat time; not the metav1.Condition shape).
struct NodeCondition {
  std::string type;  // "Ready", "MemoryPressure", ...
  ConditionStatus status = ConditionStatus::kUnknown;
  std::optional<WallTime> last_heartbeat_time;
  std::optional<WallTime> last_transition_time;
  std::string reason;
  std::string message;
  Json raw;
};

struct NodeSystemInfo {
  std::string machine_id;
  std::string system_uuid;
  std::string boot_id;
  std::string kernel_version;
  std::string os_image;
  std::string container_runtime_version;
  std::string kubelet_version;
  std::string kube_proxy_version;
  std::string operating_system;
  std::string architecture;
  Json raw;
};

struct NodeAddress {
  std::string type;  // InternalIP, Hostname, ...
  std::string address;
  Json raw;
};

struct NodeStatus {
  std::map<std::string, Quantity> capacity;     // "cpu", "memory", "hugepages-2Mi", ...
  std::map<std::string, Quantity> allocatable;
  std::vector<NodeCondition> conditions;
  std::vector<NodeAddress> addresses;
  NodeSystemInfo node_info;
  Json raw;
};

struct Node {
  static constexpr const char* kApiVersion = "v1";
  static constexpr const char* kKind = "Node";
  ObjectMeta metadata;
  NodeSpec spec;
  NodeStatus status;
  Json raw;

  static StatusOr<Node> FromJson(const Json& j);
  Json ToJson() const;

  // The Ready condition is True.
  bool IsReady() const;
  // Allocatable amount of a resource, zero when not reported.
  Quantity Allocatable(const std::string& resource) const;
};

// ---- Lease -------------------------------------------------------------------------------
struct LeaseSpec {
  std::string holder_identity;
  std::optional<int64_t> lease_duration_seconds;
  std::optional<WallTime> acquire_time;  // MicroTime
  std::optional<WallTime> renew_time;    // MicroTime
  int64_t lease_transitions = 0;
  Json raw;
};

struct Lease {
  static constexpr const char* kApiVersion = "coordination.k8s.io/v1";
  static constexpr const char* kKind = "Lease";
  ObjectMeta metadata;
  LeaseSpec spec;
  Json raw;

  static StatusOr<Lease> FromJson(const Json& j);
  Json ToJson() const;
};

// ---- Event -------------------------------------------------------------------------------
enum class EventType { kNormal, kWarning };
constexpr std::array<EnumName<EventType>, 2> EnumTable(EventType) {
  return {{{EventType::kNormal, "Normal"}, {EventType::kWarning, "Warning"}}};
}

struct ObjectReference {
  std::string api_version;
  std::string kind;
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string resource_version;
  std::string field_path;
  Json raw;
};

struct EventSource {
  std::string component;
  std::string host;
  Json raw;
};

struct Event {
  static constexpr const char* kApiVersion = "v1";
  static constexpr const char* kKind = "Event";
  ObjectMeta metadata;
  ObjectReference involved_object;
  std::string reason;
  std::string message;
  EventSource source;
  std::optional<WallTime> first_timestamp;  // Time
  std::optional<WallTime> last_timestamp;   // Time
  int64_t count = 0;
  EventType type = EventType::kNormal;
  std::optional<WallTime> event_time;  // MicroTime
  std::string action;
  std::string reporting_component;
  std::string reporting_instance;
  Json raw;

  static StatusOr<Event> FromJson(const Json& j);
  Json ToJson() const;
};

Status Decode(const Json& j, const std::string& path, Taint* out);
Status Decode(const Json& j, const std::string& path, NodeSpec* out);
Status Decode(const Json& j, const std::string& path, NodeCondition* out);
Status Decode(const Json& j, const std::string& path, NodeSystemInfo* out);
Status Decode(const Json& j, const std::string& path, NodeAddress* out);
Status Decode(const Json& j, const std::string& path, NodeStatus* out);
Status Decode(const Json& j, const std::string& path, LeaseSpec* out);
Status Decode(const Json& j, const std::string& path, ObjectReference* out);
Status Decode(const Json& j, const std::string& path, EventSource* out);
Json Encode(const Taint& v);
Json Encode(const NodeSpec& v);
Json Encode(const NodeCondition& v);
Json Encode(const NodeSystemInfo& v);
Json Encode(const NodeAddress& v);
Json Encode(const NodeStatus& v);
Json Encode(const LeaseSpec& v);
Json Encode(const ObjectReference& v);
Json Encode(const EventSource& v);

}  // namespace ferry::api

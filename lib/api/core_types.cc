#include "api/core_types.h"

namespace ferry::api {

// ---- Node --------------------------------------------------------------------------------
Status Decode(const Json& j, const std::string& path, Taint* out) {
  FieldReader r(j, path);
  r.Require("key");
  r.Require("effect");
  r.String("key", &out->key);
  r.String("value", &out->value);
  r.Enum("effect", &out->effect);
  r.Time("timeAdded", &out->time_added);
  out->raw = j;
  return r.status();
}

Json Encode(const Taint& v) {
  Json j = Base(v.raw);
  PutString(j, "key", v.key);
  PutString(j, "value", v.value);
  PutEnum(j, "effect", v.effect);
  PutTime(j, "timeAdded", v.time_added);
  return j;
}

Status Decode(const Json& j, const std::string& path, NodeSpec* out) {
  FieldReader r(j, path);
  r.Bool("unschedulable", &out->unschedulable);
  r.List("taints", &out->taints);
  out->raw = j;
  return r.status();
}

Json Encode(const NodeSpec& v) {
  Json j = Base(v.raw);
  PutBool(j, "unschedulable", v.unschedulable);
  PutList(j, "taints", v.taints);
  return j;
}

Status Decode(const Json& j, const std::string& path, NodeCondition* out) {
  FieldReader r(j, path);
  r.Require("type");
  r.Require("status");
  r.String("type", &out->type);
  r.Enum("status", &out->status);
  r.Time("lastHeartbeatTime", &out->last_heartbeat_time);
  r.Time("lastTransitionTime", &out->last_transition_time);
  r.String("reason", &out->reason);
  r.String("message", &out->message);
  out->raw = j;
  return r.status();
}

Json Encode(const NodeCondition& v) {
  Json j = Base(v.raw);
  PutString(j, "type", v.type);
  PutEnum(j, "status", v.status);
  PutTime(j, "lastHeartbeatTime", v.last_heartbeat_time);
  PutTime(j, "lastTransitionTime", v.last_transition_time);
  PutString(j, "reason", v.reason);
  PutString(j, "message", v.message);
  return j;
}

Status Decode(const Json& j, const std::string& path, NodeSystemInfo* out) {
  FieldReader r(j, path);
  r.String("machineID", &out->machine_id);
  r.String("systemUUID", &out->system_uuid);
  r.String("bootID", &out->boot_id);
  r.String("kernelVersion", &out->kernel_version);
  r.String("osImage", &out->os_image);
  r.String("containerRuntimeVersion", &out->container_runtime_version);
  r.String("kubeletVersion", &out->kubelet_version);
  r.String("kubeProxyVersion", &out->kube_proxy_version);
  r.String("operatingSystem", &out->operating_system);
  r.String("architecture", &out->architecture);
  out->raw = j;
  return r.status();
}

Json Encode(const NodeSystemInfo& v) {
  Json j = Base(v.raw);
  PutString(j, "machineID", v.machine_id);
  PutString(j, "systemUUID", v.system_uuid);
  PutString(j, "bootID", v.boot_id);
  PutString(j, "kernelVersion", v.kernel_version);
  PutString(j, "osImage", v.os_image);
  PutString(j, "containerRuntimeVersion", v.container_runtime_version);
  PutString(j, "kubeletVersion", v.kubelet_version);
  PutString(j, "kubeProxyVersion", v.kube_proxy_version);
  PutString(j, "operatingSystem", v.operating_system);
  PutString(j, "architecture", v.architecture);
  return j;
}

Status Decode(const Json& j, const std::string& path, NodeAddress* out) {
  FieldReader r(j, path);
  r.String("type", &out->type);
  r.String("address", &out->address);
  out->raw = j;
  return r.status();
}

Json Encode(const NodeAddress& v) {
  Json j = Base(v.raw);
  PutString(j, "type", v.type);
  PutString(j, "address", v.address);
  return j;
}

Status Decode(const Json& j, const std::string& path, NodeStatus* out) {
  FieldReader r(j, path);
  r.QtyMap("capacity", &out->capacity);
  r.QtyMap("allocatable", &out->allocatable);
  r.List("conditions", &out->conditions);
  r.List("addresses", &out->addresses);
  r.Object("nodeInfo", &out->node_info);
  out->raw = j;
  return r.status();
}

Json Encode(const NodeStatus& v) {
  Json j = Base(v.raw);
  PutQtyMap(j, "capacity", v.capacity);
  PutQtyMap(j, "allocatable", v.allocatable);
  PutList(j, "conditions", v.conditions);
  PutList(j, "addresses", v.addresses);
  PutObject(j, "nodeInfo", v.node_info);
  return j;
}

StatusOr<Node> Node::FromJson(const Json& j) {
  FERRY_RETURN_IF_ERROR(CheckTypeMeta(j, kApiVersion, kKind));
  Node n;
  FieldReader r(j, "");
  r.Object("metadata", &n.metadata);
  r.Object("spec", &n.spec);
  r.Object("status", &n.status);
  if (!r.status().ok()) return r.status().WithContext("Node");
  n.raw = j;
  return n;
}

Json Node::ToJson() const {
  Json j = Base(raw);
  j["apiVersion"] = kApiVersion;
  j["kind"] = kKind;
  j["metadata"] = Encode(metadata);
  PutObject(j, "spec", spec);
  PutObject(j, "status", status);
  return j;
}

bool Node::IsReady() const {
  for (const auto& c : status.conditions) {
    if (c.type == "Ready") return c.status == ConditionStatus::kTrue;
  }
  return false;
}

Quantity Node::Allocatable(const std::string& resource) const {
  auto it = status.allocatable.find(resource);
  return it == status.allocatable.end() ? Quantity() : it->second;
}

// ---- Lease -------------------------------------------------------------------------------
Status Decode(const Json& j, const std::string& path, LeaseSpec* out) {
  FieldReader r(j, path);
  r.String("holderIdentity", &out->holder_identity);
  r.OptInt("leaseDurationSeconds", &out->lease_duration_seconds);
  r.Time("acquireTime", &out->acquire_time);
  r.Time("renewTime", &out->renew_time);
  r.Int("leaseTransitions", &out->lease_transitions);
  out->raw = j;
  return r.status();
}

Json Encode(const LeaseSpec& v) {
  Json j = Base(v.raw);
  PutString(j, "holderIdentity", v.holder_identity);
  PutOptInt(j, "leaseDurationSeconds", v.lease_duration_seconds);
  PutMicroTime(j, "acquireTime", v.acquire_time);
  PutMicroTime(j, "renewTime", v.renew_time);
  PutInt(j, "leaseTransitions", v.lease_transitions);
  return j;
}

StatusOr<Lease> Lease::FromJson(const Json& j) {
  FERRY_RETURN_IF_ERROR(CheckTypeMeta(j, kApiVersion, kKind));
  Lease l;
  FieldReader r(j, "");
  r.Object("metadata", &l.metadata);
  r.Object("spec", &l.spec);
  if (!r.status().ok()) return r.status().WithContext("Lease");
  l.raw = j;
  return l;
}

Json Lease::ToJson() const {
  Json j = Base(raw);
  j["apiVersion"] = kApiVersion;
  j["kind"] = kKind;
  j["metadata"] = Encode(metadata);
  j["spec"] = Encode(spec);
  return j;
}

// ---- Event -------------------------------------------------------------------------------
Status Decode(const Json& j, const std::string& path, ObjectReference* out) {
  FieldReader r(j, path);
  r.String("apiVersion", &out->api_version);
  r.String("kind", &out->kind);
  r.String("namespace", &out->namespace_);
  r.String("name", &out->name);
  r.String("uid", &out->uid);
  r.String("resourceVersion", &out->resource_version);
  r.String("fieldPath", &out->field_path);
  out->raw = j;
  return r.status();
}

Json Encode(const ObjectReference& v) {
  Json j = Base(v.raw);
  PutString(j, "apiVersion", v.api_version);
  PutString(j, "kind", v.kind);
  PutString(j, "namespace", v.namespace_);
  PutString(j, "name", v.name);
  PutString(j, "uid", v.uid);
  PutString(j, "resourceVersion", v.resource_version);
  PutString(j, "fieldPath", v.field_path);
  return j;
}

Status Decode(const Json& j, const std::string& path, EventSource* out) {
  FieldReader r(j, path);
  r.String("component", &out->component);
  r.String("host", &out->host);
  out->raw = j;
  return r.status();
}

Json Encode(const EventSource& v) {
  Json j = Base(v.raw);
  PutString(j, "component", v.component);
  PutString(j, "host", v.host);
  return j;
}

StatusOr<Event> Event::FromJson(const Json& j) {
  FERRY_RETURN_IF_ERROR(CheckTypeMeta(j, kApiVersion, kKind));
  Event e;
  FieldReader r(j, "");
  r.Object("metadata", &e.metadata);
  r.Object("involvedObject", &e.involved_object);
  r.String("reason", &e.reason);
  r.String("message", &e.message);
  r.Object("source", &e.source);
  r.Time("firstTimestamp", &e.first_timestamp);
  r.Time("lastTimestamp", &e.last_timestamp);
  r.Int("count", &e.count);
  r.Enum("type", &e.type);
  r.Time("eventTime", &e.event_time);
  r.String("action", &e.action);
  r.String("reportingComponent", &e.reporting_component);
  r.String("reportingInstance", &e.reporting_instance);
  if (!r.status().ok()) return r.status().WithContext("Event");
  e.raw = j;
  return e;
}

Json Event::ToJson() const {
  Json j = Base(raw);
  j["apiVersion"] = kApiVersion;
  j["kind"] = kKind;
  j["metadata"] = Encode(metadata);
  j["involvedObject"] = Encode(involved_object);
  PutString(j, "reason", reason);
  PutString(j, "message", message);
  PutObject(j, "source", source);
  PutTime(j, "firstTimestamp", first_timestamp);
  PutTime(j, "lastTimestamp", last_timestamp);
  PutInt(j, "count", count);
  PutEnum(j, "type", type);
  PutMicroTime(j, "eventTime", event_time);
  PutString(j, "action", action);
  PutString(j, "reportingComponent", reporting_component);
  PutString(j, "reportingInstance", reporting_instance);
  return j;
}

}  // namespace ferry::api

#include "api/core_types.h"

#include <string>

#include <gtest/gtest.h>

namespace ferry::api {
namespace {

// The shape a kubelet reports (trimmed), with fields Ferry does not model.
const char* kNode = R"({
  "apiVersion": "v1", "kind": "Node",
  "metadata": {"name": "node-a", "labels": {"kubernetes.io/hostname": "node-a", "ferry.dev/storage": "ssd"},
               "resourceVersion": "812", "uid": "n-1", "creationTimestamp": "2024-05-01T10:00:00Z"},
  "spec": {"podCIDR": "10.244.0.0/24", "unschedulable": true,
           "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                       "timeAdded": "2024-05-01T11:00:00Z"},
                      {"key": "ferry.dev/drain", "value": "true", "effect": "NoExecute"}]},
  "status": {
    "capacity": {"cpu": "16", "memory": "65843552Ki", "hugepages-2Mi": "2Gi", "pods": "110"},
    "allocatable": {"cpu": "15500m", "memory": "64716128Ki", "hugepages-2Mi": "2Gi", "pods": "110"},
    "conditions": [
      {"type": "MemoryPressure", "status": "False", "lastHeartbeatTime": "2024-05-01T11:59:00Z",
       "lastTransitionTime": "2024-05-01T10:00:00Z", "reason": "KubeletHasSufficientMemory",
       "message": "kubelet has sufficient memory available"},
      {"type": "Ready", "status": "True", "lastHeartbeatTime": "2024-05-01T11:59:00Z",
       "lastTransitionTime": "2024-05-01T10:00:10Z", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
    "addresses": [{"type": "InternalIP", "address": "192.0.2.10"}, {"type": "Hostname", "address": "node-a"}],
    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
    "nodeInfo": {"machineID": "m", "systemUUID": "s", "bootID": "b", "kernelVersion": "6.1.0-18-amd64",
                 "osImage": "Debian GNU/Linux 12 bookworm", "containerRuntimeVersion": "containerd://1.6.20",
                 "kubeletVersion": "v1.20.2", "kubeProxyVersion": "v1.20.2", "operatingSystem": "linux",
                 "architecture": "amd64"},
    "images": [{"names": ["registry.example/ferry-handler:0.1"], "sizeBytes": 123}]
  }
})";

TEST(Node, DecodesWhatPlacementNeeds) {
  auto n = Node::FromJson(Json::parse(kNode));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->metadata.name, "node-a");
  EXPECT_TRUE(n->spec.unschedulable);
  ASSERT_EQ(n->spec.taints.size(), 2u);
  EXPECT_EQ(n->spec.taints[1].key, "ferry.dev/drain");
  EXPECT_EQ(n->spec.taints[1].effect, TaintEffect::kNoExecute);
  EXPECT_TRUE(n->IsReady());
  EXPECT_EQ(n->Allocatable("cpu").MilliValue(), 15500);
  EXPECT_EQ(n->Allocatable("memory").Value(), 64716128LL * 1024);
  EXPECT_EQ(n->Allocatable("hugepages-2Mi").Value(), 2LL << 30);
  EXPECT_TRUE(n->Allocatable("nvidia.com/gpu").IsZero());
  EXPECT_EQ(n->status.node_info.kernel_version, "6.1.0-18-amd64");
  EXPECT_EQ(n->status.addresses[0].address, "192.0.2.10");
}

TEST(Node, RoundTripIsExactAndKeepsUnknownFields) {
  const Json in = Json::parse(kNode);
  auto n = Node::FromJson(in);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->ToJson(), in);
  n->spec.unschedulable = false;  // uncordon
  n->spec.taints.erase(n->spec.taints.begin());
  Json out = n->ToJson();
  EXPECT_EQ(out["spec"]["podCIDR"], "10.244.0.0/24");
  EXPECT_EQ(out["spec"]["unschedulable"], false);
  EXPECT_EQ(out["spec"]["taints"].size(), 1u);
  EXPECT_EQ(out["status"]["images"], in["status"]["images"]);
  EXPECT_EQ(out["status"]["daemonEndpoints"], in["status"]["daemonEndpoints"]);
}

TEST(Node, NotReadyWhenConditionMissingOrFalse) {
  Json j = Json::parse(kNode);
  j["status"]["conditions"][1]["status"] = "Unknown";
  auto n = Node::FromJson(j);
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(n->IsReady());
  j["status"].erase("conditions");
  n = Node::FromJson(j);
  ASSERT_TRUE(n.ok());
  EXPECT_FALSE(n->IsReady());
}

TEST(Node, BadInputIsAnErrorNamingTheField) {
  struct Case {
    const char* path;  // JSON pointer
    Json value;
    const char* want;
  };
  const Case cases[] = {
      {"/spec/taints/0/effect", "Sometimes", "Node: spec.taints[0].effect: unsupported value \"Sometimes\""},
      {"/status/allocatable/memory", "lots", "Node: status.allocatable.memory: invalid quantity \"lots\""},
      {"/status/conditions/1/lastHeartbeatTime", "yesterday", "status.conditions[1].lastHeartbeatTime: invalid RFC3339"},
      {"/spec/unschedulable", "true", "spec.unschedulable: must be a boolean, got string"},
      {"/kind", "Pod", "kind: expected \"Node\""},
  };
  for (const auto& c : cases) {
    Json j = Json::parse(kNode);
    j[Json::json_pointer(c.path)] = c.value;
    auto n = Node::FromJson(j);
    ASSERT_FALSE(n.ok()) << c.path;
    EXPECT_NE(n.status().message().find(c.want), std::string::npos) << n.status().message();
  }
}

TEST(Lease, MicroTimesRoundTripExactly) {
  const Json in = Json::parse(R"({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
      "metadata": {"name": "ferry-operator", "namespace": "ferry-system", "resourceVersion": "9"},
      "spec": {"holderIdentity": "operator-0_1f2e", "leaseDurationSeconds": 15,
               "acquireTime": "2024-05-01T12:00:00.123456Z", "renewTime": "2024-05-01T12:00:10.654321Z",
               "leaseTransitions": 3}})");
  auto l = Lease::FromJson(in);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->spec.holder_identity, "operator-0_1f2e");
  EXPECT_EQ(l->spec.lease_duration_seconds, 15);
  EXPECT_EQ(l->spec.lease_transitions, 3);
  EXPECT_EQ(l->ToJson(), in);
  // A renewal writes MicroTime with six digits.
  l->spec.renew_time = *l->spec.renew_time + std::chrono::microseconds(1);
  l->spec.holder_identity = "operator-1_9a9a";
  Json out = l->ToJson();
  EXPECT_EQ(out["spec"]["renewTime"], "2024-05-01T12:00:10.654322Z");
  EXPECT_EQ(out["spec"]["holderIdentity"], "operator-1_9a9a");
}

TEST(Lease, EmptyLeaseEncodesWithoutNoise) {
  Lease l;
  l.metadata.name = "ferry-operator";
  l.metadata.namespace_ = "ferry-system";
  Json out = l.ToJson();
  EXPECT_EQ(out, Json::parse(R"({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
      "metadata": {"name": "ferry-operator", "namespace": "ferry-system"}, "spec": {}})"));
}

TEST(Event, RoundTripAndNewEvent) {
  const Json in = Json::parse(R"({"apiVersion": "v1", "kind": "Event",
      "metadata": {"name": "web-1.17c", "namespace": "default"},
      "involvedObject": {"apiVersion": "ferry.dev/v1alpha1", "kind": "VirtualMachineMigration",
                         "namespace": "default", "name": "web-1-to-node-b", "uid": "u-1"},
      "reason": "PhaseChanged", "message": "Scheduled -> PreparingTarget",
      "source": {"component": "ferry-operator"}, "firstTimestamp": "2024-05-01T12:00:00Z",
      "lastTimestamp": "2024-05-01T12:00:05Z", "count": 2, "type": "Warning",
      "eventTime": null, "reportingComponent": "ferry-operator", "reportingInstance": "operator-0",
      "series": {"count": 2}})");
  auto e = Event::FromJson(in);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->type, EventType::kWarning);
  EXPECT_EQ(e->count, 2);
  EXPECT_EQ(e->involved_object.name, "web-1-to-node-b");
  EXPECT_FALSE(e->event_time.has_value());
  Json out = e->ToJson();
  EXPECT_EQ(out["series"], in["series"]);
  EXPECT_EQ(out, in);  // the explicit null stays
  e->event_time = *ParseTime("2024-05-01T12:00:00Z");
  EXPECT_EQ(e->ToJson()["eventTime"], "2024-05-01T12:00:00.000000Z");

  Event fresh;
  fresh.metadata.generate_name = "web-1.";
  fresh.reason = "Migrating";
  fresh.event_time = *ParseTime("2024-05-01T12:00:00.5Z");
  Json j = fresh.ToJson();
  EXPECT_EQ(j["type"], "Normal");
  EXPECT_EQ(j["eventTime"], "2024-05-01T12:00:00.500000Z");
  EXPECT_EQ(j["metadata"]["generateName"], "web-1.");
  EXPECT_FALSE(j.contains("count"));
  EXPECT_FALSE(Event::FromJson(Json{{"kind", "Event"}, {"type", "Info"}}).ok());
}

}  // namespace
}  // namespace ferry::api

// Cluster objects for kubectl-ferry's unit tests, as the API server returns them.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "api/time.h"
#include "cluster_load.h"
#include "core/clock.h"
#include "output.h"  // Json

namespace ferry::kubectl::testing {

inline Json NodeJson(const std::string& name, bool cordoned = false) {
  return {{"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
          {"spec", {{"unschedulable", cordoned}}},
          {"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
}

inline Json HypervisorJson(const std::string& name, api::WallTime heartbeat, int cpus = 8,
                           const std::string& memory = "1Gi") {
  const Json res = {{"cpus", cpus}, {"memory", memory}};
  return {{"metadata", {{"name", name}}},
          {"status",
           {{"ready", true},
            {"lastHeartbeatTime", api::FormatTime(heartbeat)},
            {"cpuModel", "qemu64"},
            {"libvirtVersion", "9.0.0"},
            {"qemuVersion", "10.0.2"},
            {"capacity", res},
            {"allocatable", res}}}};
}

inline Json VmJson(const std::string& name, const std::string& node, const std::string& group = "",
                   const std::string& memory = "128Mi", bool running = true) {
  Json spec = {{"running", running}, {"cpus", 1}, {"memory", memory}};
  if (!group.empty()) spec["serverGroup"] = group;
  Json status = {{"phase", running ? "Running" : "Stopped"}};
  if (!node.empty()) status["nodeName"] = node;
  return {
      {"metadata", {{"name", name}, {"namespace", "default"}}}, {"spec", spec}, {"status", status}};
}

inline Json GroupJson(const std::string& name, const std::string& policy, bool best_effort,
                      bool allow_group_move = false) {
  Json meta = {{"name", name}, {"namespace", "default"}};
  if (allow_group_move) meta["annotations"] = {{"ferry.dev/allow-group-move", "true"}};
  return {{"metadata", meta},
          {"spec", {{"policy", policy}, {"bestEffort", best_effort}, {"maxPerNode", 1}}}};
}

template <typename T>
T Decode(const Json& j) {
  auto v = T::FromJson(j);
  EXPECT_TRUE(v.ok()) << v.status() << " " << j.dump();
  return v.ok() ? *v : T{};
}

// Three ready nodes with fresh heartbeats at `clock`'s time; web (strict anti-affinity):
// web-1 on node-a, web-2 on node-b; db (strict affinity): db-1 and db-2 on node-a; app-1 on
// node-a; old-1 stopped on node-a.
inline ClusterObjects LabCluster(const Clock& clock, bool allow_db_move = false) {
  ClusterObjects c;
  for (const char* n : {"node-a", "node-b", "node-c"}) {
    c.nodes.push_back(Decode<api::Node>(NodeJson(n)));
    c.hypervisors.push_back(Decode<api::Hypervisor>(HypervisorJson(n, clock.WallNow())));
  }
  c.groups.push_back(Decode<api::ServerGroup>(GroupJson("web", "AntiAffinity", false)));
  c.groups.push_back(Decode<api::ServerGroup>(GroupJson("db", "Affinity", false, allow_db_move)));
  c.vms.push_back(Decode<api::VirtualMachine>(VmJson("web-1", "node-a", "web")));
  c.vms.push_back(Decode<api::VirtualMachine>(VmJson("web-2", "node-b", "web")));
  c.vms.push_back(Decode<api::VirtualMachine>(VmJson("db-1", "node-a", "db")));
  c.vms.push_back(Decode<api::VirtualMachine>(VmJson("db-2", "node-a", "db")));
  c.vms.push_back(Decode<api::VirtualMachine>(VmJson("app-1", "node-a", "", "256Mi")));
  c.vms.push_back(Decode<api::VirtualMachine>(VmJson("old-1", "node-a", "", "128Mi", false)));
  return c;
}

}  // namespace ferry::kubectl::testing

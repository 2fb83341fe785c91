#include "cluster_load.h"

#include <climits>

#include "api/group.h"
#include "servergroup/servergroup_controller.h"

namespace ferry::kubectl {

const kube::ResourceType kHypervisors{api::kGroup, api::kVersion, api::kHypervisors, "Hypervisor",
                                      false};

namespace {

template <typename T>
Status ListInto(kube::ApiClient& api, const kube::ResourceType& rt, std::vector<T>* out) {
  auto list = api.List(rt, "", {});
  if (!list.ok()) return list.status().WithContext("listing " + rt.resource);
  for (const kube::Json& item : list->items) {
    auto obj = T::FromJson(item);
    if (!obj.ok()) {
      const std::string name =
          item.contains("metadata") ? item["metadata"].value("name", "?") : "?";
      return obj.status().WithContext(rt.resource + " " + name);
    }
    out->push_back(std::move(*obj));
  }
  return OkStatus();
}

}  // namespace

const api::VirtualMachine* ClusterObjects::FindVm(const std::string& ns,
                                                  const std::string& name) const {
  for (const auto& vm : vms) {
    if (vm.metadata.namespace_ == ns && vm.metadata.name == name) return &vm;
  }
  return nullptr;
}

const api::Node* ClusterObjects::FindNode(const std::string& name) const {
  for (const auto& n : nodes) {
    if (n.metadata.name == name) return &n;
  }
  return nullptr;
}

StatusOr<ClusterObjects> ListCluster(kube::ApiClient& api) {
  ClusterObjects c;
  if (Status st = ListInto(api, kube::resources::kNodes, &c.nodes); !st.ok()) return st;
  if (Status st = ListInto(api, kHypervisors, &c.hypervisors); !st.ok()) return st;
  if (Status st = ListInto(api, kube::resources::kVirtualMachines, &c.vms); !st.ok()) return st;
  if (Status st = ListInto(api, kube::resources::kServerGroups, &c.groups); !st.ok()) return st;
  if (Status st = ListInto(api, kube::resources::kVirtualMachineMigrations, &c.migrations);
      !st.ok())
    return st;
  return c;
}

std::unique_ptr<op::ClusterState> BuildState(const ClusterObjects& objects, Clock& clock,
                                             std::chrono::nanoseconds heartbeat_timeout) {
  op::MigrationLimits unlimited{INT_MAX, INT_MAX, INT_MAX};
  auto state = std::make_unique<op::ClusterState>(clock, heartbeat_timeout, unlimited,
                                                  op::HeartbeatJudgement::kHandlerWallClock);
  for (const auto& n : objects.nodes) state->UpsertNode(n);
  for (const auto& h : objects.hypervisors) state->UpsertHypervisor(h);
  for (const auto& g : objects.groups) state->UpsertGroup(g);
  for (const auto& vm : objects.vms) state->UpsertVm(vm);
  for (const auto& m : objects.migrations) state->UpsertMigration(m);
  return state;
}

bool AllowGroupMoves(const ClusterObjects& objects) {
  for (const auto& g : objects.groups) {
    if (op::servergroup::AllowsGroupMove(g)) return true;
  }
  return false;
}

}  // namespace ferry::kubectl

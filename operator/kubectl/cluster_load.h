// The cluster as `kubectl ferry` reads it: one List of each kind, fed into the operator's own
// ClusterState (operator/cluster/cluster_state.h) exactly as its informers feed it, so
// plan-drain and explain decide with the operator's adapter, ClusterView and placement engine.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/core_types.h"
#include "api/hypervisor.h"
#include "api/migration.h"
#include "api/servergroup.h"
#include "api/vm.h"
#include "cluster/cluster_state.h"
#include "core/clock.h"
#include "kube/api_client.h"

namespace ferry::kubectl {

// Hypervisors are cluster-scoped, one per node (written by that node's handler).
extern const kube::ResourceType kHypervisors;

struct ClusterObjects {
  std::vector<api::Node> nodes;
  std::vector<api::Hypervisor> hypervisors;
  std::vector<api::VirtualMachine> vms;
  std::vector<api::ServerGroup> groups;
  std::vector<api::VirtualMachineMigration> migrations;

  const api::VirtualMachine* FindVm(const std::string& ns, const std::string& name) const;
  const api::Node* FindNode(const std::string& name) const;
};

// Lists every Node, Hypervisor, VM, ServerGroup and VMM (all namespaces). An object that
// does not decode is an error naming it.
StatusOr<ClusterObjects> ListCluster(kube::ApiClient& api);

// The operator's ClusterState holding `objects`. Limits are lifted (explain shows where the
// engine would put a VM, not whether a migration slot is free now); `heartbeat_timeout` is the
// operator's --heartbeat-timeout (a handler silent longer gets no placements).
std::unique_ptr<op::ClusterState> BuildState(const ClusterObjects& objects, Clock& clock,
                                             std::chrono::nanoseconds heartbeat_timeout);

// As the evacuation controller decides: a drain may move strict-affinity groups as a unit
// when any ServerGroup carries the annotation ferry.dev/allow-group-move: "true".
bool AllowGroupMoves(const ClusterObjects& objects);

}  // namespace ferry::kubectl

// The node agent (`ferry-handler agent`): one per node. Wires the four controllers into a
// Manager (lib/manager), without leader election:
//   vm          VM lifecycle (vm_controller.h)       VMs labelled ferry.dev/node=<node>
//   target      migration target side                VMMs labelled ferry.dev/target-node=<node>
//   source      migration source side                VMMs labelled ferry.dev/source-node=<node>
//   hypervisor  this node's Hypervisor report        heartbeat + on change
// libvirt's lifecycle events enqueue the VM of the domain; /healthz, /readyz (caches synced,
// libvirtd reachable) and /metrics (controllers, caches, migration engine, VMs by phase).
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "agent/agent_config.h"
#include "core/status.h"
#include "domain/node_hypervisor.h"
#include "kube/api_client.h"
#include "migration/hypervisor.h"

namespace ferry::agent {

// Runs the agent until `stop`; on stop, every migration this node runs as the source is
// detached (its libvirt job runs on; the next agent re-attaches) before the controllers stop.
// `ops_port` (optional) receives the ops server's port once it listens.
Status RunAgent(const AgentConfig& config, kube::ApiClient& api, domain::NodeHypervisor& node,
                migration::MigrationHypervisor& engine_hypervisor, std::stop_token stop,
                std::function<void(int)> on_listening = {});

// `ferry-handler agent ARGS`: flags, cluster configuration, libvirt, signals (SIGTERM/SIGINT
// stop it). Returns the process exit code.
int RunAgentCommand(const std::vector<std::string>& args);

}  // namespace ferry::agent

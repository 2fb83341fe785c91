// What the node agent's controllers share: the configuration, the API client, this node's
// libvirtd (lifecycle and migration sides), the informer caches, the Event recorder, the
// clock, the log, and a small cache of the host's facts.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "agent/agent_config.h"
#include "core/clock.h"
#include "domain/node_hypervisor.h"
#include "kube/api_client.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "migration/hypervisor.h"
#include "migration/migration_metrics.h"

namespace ferry::agent {

// Hypervisor objects (cluster-scoped; not in lib/kube's list of well-known resources).
extern const kube::ResourceType kHypervisors;
// Informer index of VMMs by "<namespace>/<vmName>".
inline constexpr const char* kIndexVm = "vm";
std::vector<std::string> VmmIndexByVm(const kube::Json& vmm);

// The host's facts, read at most every `max_age` (capabilities change rarely; the Hypervisor
// reporter refreshes them at every heartbeat).
class HostFactsCache {
 public:
  explicit HostFactsCache(domain::NodeHypervisor& node) : node_(node) {}
  StatusOr<domain::HostFacts> Get(std::chrono::seconds max_age = std::chrono::seconds(30));
  std::optional<domain::HostFacts> Last() const;

 private:
  domain::NodeHypervisor& node_;
  mutable std::mutex mu_;
  std::optional<domain::HostFacts> facts_;
  std::chrono::steady_clock::time_point at_{};
};

struct AgentContext {
  const AgentConfig& config;
  kube::ApiClient& api;
  domain::NodeHypervisor& node;
  migration::MigrationHypervisor& engine_hypervisor;
  migration::MigrationMetrics* metrics = nullptr;
  kube::EventRecorder& events;
  Clock& clock;
  HostFactsCache& host;
  kube::Informer* vms = nullptr;          // VMs labelled ferry.dev/node=<node>
  kube::Informer* vmm_source = nullptr;   // VMMs labelled ferry.dev/source-node=<node>
  kube::Informer* vmm_target = nullptr;   // VMMs labelled ferry.dev/target-node=<node>
  kube::Informer* hypervisors = nullptr;  // every node's Hypervisor
  // Queue a VM ("ns/name") or the Hypervisor report for reconciliation.
  std::function<void(const std::string&)> enqueue_vm;
  std::function<void()> enqueue_report;
};

}  // namespace ferry::agent

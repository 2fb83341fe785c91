// What every controller of the operator shares: the API client, the cluster state, the
// informer caches, the event recorder, metrics and options. Built by operator.cc.
//
// `api` is fenced (kube::FencedApiClient over the Manager's HoldsLease): every write a
// controller makes through it leaves only while this replica can prove by its own monotonic
// clock that its lease is valid, and otherwise fails kFailedPrecondition without being sent
// (ADR 6 §4). `holds_lease` asks the same question directly.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "cluster/cluster_state.h"
#include "core/clock.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "metrics/operator_metrics.h"
#include "migration/policy.h"
#include "options.h"

namespace ferry::op {

// Hypervisors (cluster-scoped, written by the handlers).
extern const kube::ResourceType kHypervisorResource;

struct Context {
  kube::ApiClient& api;
  ClusterState& state;
  kube::EventRecorder& events;
  OperatorMetrics& metrics;
  const OperatorOptions& options;
  const migration::MigrationDefaults& defaults;
  Clock& clock;
  kube::Informer& vms;
  kube::Informer& vmms;
  kube::Informer& groups;
  kube::Informer& policies;
  kube::Informer& nodes;
  kube::Informer& hypervisors;
  kube::Informer& namespaces;
  // True while a deciding write may leave (see above); unset: always (tests without a lease).
  std::function<bool()> holds_lease;

  bool HoldsLease() const { return !holds_lease || holds_lease(); }
};

// The cached object of `key` decoded as T, or nullopt (absent or undecodable).
template <typename T>
std::optional<T> Cached(const kube::Informer& informer, const std::string& key) {
  kube::ObjectPtr obj = informer.store().Get(key);
  if (!obj) return std::nullopt;
  auto decoded = T::FromJson(*obj);
  if (!decoded.ok()) return std::nullopt;
  return std::move(*decoded);
}

// The VMM store's index of VMMs by "namespace/vm".
inline constexpr const char* kIndexByVm = "vm";

}  // namespace ferry::op

// The operator's limits and deadlines: one struct, filled from flags (operator/flags.cc) and
// handed to every controller. Defaults follow KubeVirt where it has the same knob.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ferry::op {

using Seconds = std::chrono::seconds;

struct MigrationLimits {
  // VMMs from Scheduled until terminal, cluster-wide (KubeVirt parallelMigrationsPerCluster).
  int per_cluster = 5;
  // ...leaving one node (KubeVirt parallelOutboundMigrationsPerNode).
  int outbound_per_node = 2;
  // ...arriving at one node: a target prepares and receives memory at link speed, two at a
  // time keeps its NIC from being the bottleneck of both.
  int inbound_per_node = 2;
};

struct Deadlines {
  // Scheduled or PreparingTarget for longer than this: the target handler never answered
  // (KubeVirt fails a migration whose target pod stays pending for 5 min).
  std::chrono::nanoseconds target_prepare = std::chrono::minutes(5);
  // TargetReady for longer than this: the source handler never started.
  std::chrono::nanoseconds source_start = std::chrono::minutes(2);
  // A Hypervisor heartbeat the operator has not seen change for this long, on its own
  // monotonic clock, is a lost handler (four missed 10 s renewals).
  std::chrono::nanoseconds heartbeat_timeout = std::chrono::seconds(40);
  // Running with the source's heartbeat lost for this long: a restarted handler re-attaches
  // to the libvirt job well within it, so only a handler that stays dead marks the VMM
  // GuestLocationUnknown (it is never failed for it: ADR 6 §3).
  std::chrono::nanoseconds running_handler_lost = std::chrono::minutes(5);
};

struct EvacuationOptions {
  // Priority of the VMMs a drain creates; below 0 queues them behind user requests.
  int64_t priority = 0;
  // Move best-effort violators back when a compliant node frees up.
  bool rebalance = false;
  // How often the rebalance plan is recomputed.
  std::chrono::nanoseconds rebalance_interval = std::chrono::seconds(30);
  // Consecutive failed evacuation migrations of one VM off one node before the drain stops
  // retrying it and reports it as blocked.
  int max_attempts = 3;
};

struct OperatorOptions {
  // Only VMs, migrations and server groups of this namespace ("" = all). Nodes, Hypervisors
  // and MigrationPolicies are cluster-scoped and always watched.
  std::string watch_namespace;
  MigrationLimits limits;
  Deadlines deadlines;
  EvacuationOptions evacuation;
  // Worker threads per controller.
  int workers = 8;
  // How often Hypervisor heartbeats are re-checked against the clock.
  std::chrono::nanoseconds heartbeat_check_interval = std::chrono::seconds(1);
  // Unschedulable VMs and waiting VMMs are retried at least this often (besides events).
  std::chrono::nanoseconds resync_interval = std::chrono::seconds(30);
};

}  // namespace ferry::op

// `kubectl ferry status`: the operator's leader, every node's handler and its heartbeat, the
// nodes being drained, and the migrations in flight.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "api/core_types.h"
#include "cluster_load.h"
#include "output.h"

namespace ferry::kubectl {

// {"leader": {"holder", "renewedSecondsAgo", "leaseDurationSeconds", "transitions"} | null,
//  "handlers": [{"node", "ready", "alive", "heartbeatSecondsAgo", "domains", "migrationsIn",
//                "migrationsOut", "cpus", "memory", "libvirt", "qemu", "orphans"}],
//  "nodes": [{"name", "ready", "schedulable", "evacuation"}],
//  "migrations": [{"name", "vm", "phase", "source", "target", "percent", "eta", "age"}]}
// A handler is alive when its Hypervisor is ready and its heartbeat is younger than
// `heartbeat_timeout` (the operator's rule).
Json StatusModel(const ClusterObjects& objects, const std::optional<api::Lease>& lease,
                 api::WallTime now, std::chrono::nanoseconds heartbeat_timeout);
std::string StatusTable(const Json& model);

}  // namespace ferry::kubectl

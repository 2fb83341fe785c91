// API objects → the placement engine's plain structs (operator/placement/types.h).
//
// Names: VMs, server groups and migrations are namespaced, so the engine sees them as
// "namespace/name" (a VM's server group too: "namespace/group"); nodes by their name.
// Quantities become integers: CPU in millicores (cpus × 1000), memory and hugepages in bytes,
// versions in libvirt's encoding.
#pragma once

#include <optional>
#include <string>

#include "api/core_types.h"
#include "api/hypervisor.h"
#include "api/migration.h"
#include "api/servergroup.h"
#include "api/vm.h"
#include "placement/types.h"

namespace ferry::op {

// "namespace/name" of a VM named `vm` in `ns`.
inline std::string VmKey(const std::string& ns, const std::string& vm) { return ns + "/" + vm; }

// A node as placement sees it. Either half may be missing: a node without a Node object or
// without a Hypervisor gets no new placements, but the VMs on it still count.
// `hypervisor_alive`: the Hypervisor is ready and its heartbeat is fresh (the caller's clock).
placement::Node NodeFromApi(const std::string& name, const api::Node* node,
                            const api::Hypervisor* hypervisor, bool hypervisor_alive);

// The VM's demand, constraints and node. The node is status.nodeName whatever the phase: a
// stopped VM keeps its node and its capacity there (docs/adr/0004), so starting it again
// never needs a new placement.
placement::Vm VmFromApi(const api::VirtualMachine& vm);

placement::ServerGroup GroupFromApi(const api::ServerGroup& group);

// The reservation a VMM holds, if any: from Scheduled until its outcome is recorded on the
// VM. `phase` is the phase to judge by (the controller passes its most advanced knowledge).
std::optional<placement::InFlightMigration> MigrationFromApi(
    const api::VirtualMachineMigration& vmm, api::MigrationPhase phase);

// True for the phases in which a VMM counts against the migration limits and holds a
// reservation on its target: Scheduled, PreparingTarget, TargetReady, Running.
bool IsActivePhase(api::MigrationPhase phase);

}  // namespace ferry::op

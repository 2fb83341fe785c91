// The libvirt implementations of the engine's node interfaces. Callers see only these
// factories; the libvirt headers stay inside ferry_libvirt.
#pragma once

#include <memory>
#include <string>

#include "migration/hypervisor.h"

namespace ferry::libvirt {

// This node's libvirtd (the source), opened lazily twice: the migrate call blocks one; stats,
// abort, the post-copy switch and the domain events use the other (polling on the migrating
// connection was seen to stall for seconds). Nothing here connects to another node.
std::unique_ptr<migration::MigrationHypervisor> NewLibvirtHypervisor(const std::string& source_uri);

// A keepalive'd connection to the target's libvirtd, for callers that may have one (the
// `ferry-handler migrate` command line; in the lab, the target's unix socket). Health() is
// the connection's liveness (reconnect attempts at most every 2 s); direct() gives the
// target's domain state, start and destroy. The node agent has no such connection and uses
// migration::FuncTargetProbe instead.
std::unique_ptr<migration::TargetProbe> NewLibvirtTarget(const std::string& target_client_uri);

}  // namespace ferry::libvirt

// The libvirt implementation of MigrationHypervisor. Callers see only this factory; the
// libvirt headers stay inside ferry_libvirt.
#pragma once

#include <memory>
#include <string>

#include "migration/hypervisor.h"

namespace ferry::libvirt {

struct LibvirtEndpoints {
  std::string source_uri;              // this node's libvirtd
  std::string destination_client_uri;  // the target's libvirtd, reachable from here
};

// Opens (lazily) three connections: the source twice (the migrate call blocks one; stats,
// abort and post-copy switch use the other, since polling on the migrating connection was
// seen to stall for seconds) and the destination once.
std::unique_ptr<migration::MigrationHypervisor> NewLibvirtHypervisor(const LibvirtEndpoints& endpoints);

}  // namespace ferry::libvirt

// The Hypervisor status a node's agent reports (DESIGN §2): readiness, versions, CPU, the
// resources (node_resources.h), the NUMA cells, the domains it runs for VMs and the ones no
// VM owns (orphans: reported, never touched), and the migrations in and out. Pure.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/node_resources.h"
#include "api/hypervisor.h"
#include "domain/node_hypervisor.h"

namespace ferry::agent {

// Who may own a domain on this node.
struct DomainOwners {
  // Domain name → uid of the VM on this node with that domain name.
  std::map<std::string, std::string> vms;
  // Domain names of VMs migrating into (target) or out of (source) this node: their domains
  // are the migrations' (an incoming domain has no VM on this node yet).
  std::set<std::string> migrating;
};

// Whether a VM (or a migration) owns the domain.
bool IsOwned(const domain::DomainInfo& d, const DomainOwners& owners);

struct ReportInputs {
  bool libvirt_ok = false;
  std::string libvirt_error;              // why not, for the Ready condition
  std::optional<domain::HostFacts> host;  // nullopt when libvirtd does not answer
  std::vector<domain::DomainInfo> domains;
  DomainOwners owners;
  NodeLimits limits;
  std::string migration_address;
  std::string handler_version;
  int64_t migrations_in = 0;
  int64_t migrations_out = 0;
};

// The status without lastHeartbeatTime (the caller stamps it). Without host facts (libvirtd
// down) the facts of `previous` are kept and only readiness changes.
api::HypervisorStatus BuildHypervisorStatus(const ReportInputs& in,
                                            const api::HypervisorStatus& previous,
                                            api::WallTime now);

// Equal apart from lastHeartbeatTime: nothing worth writing before the next heartbeat.
bool SameReport(const api::HypervisorStatus& a, const api::HypervisorStatus& b);

}  // namespace ferry::agent

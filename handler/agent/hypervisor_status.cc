#include "agent/hypervisor_status.h"

#include <algorithm>

namespace ferry::agent {

bool IsOwned(const domain::DomainInfo& d, const DomainOwners& owners) {
  if (owners.migrating.count(d.name)) return true;
  auto it = owners.vms.find(d.name);
  return it != owners.vms.end() && d.mark && d.mark->vm_uid == it->second;
}

api::HypervisorStatus BuildHypervisorStatus(const ReportInputs& in,
                                            const api::HypervisorStatus& previous,
                                            api::WallTime now) {
  api::HypervisorStatus s = previous;
  s.ready = in.libvirt_ok && in.host.has_value();
  s.migration_address = in.migration_address;
  s.handler_version = in.handler_version;
  s.migrations_in = in.migrations_in;
  s.migrations_out = in.migrations_out;
  api::Condition ready;
  ready.type = "Ready";
  ready.status = s.ready ? api::ConditionStatus::kTrue : api::ConditionStatus::kFalse;
  ready.reason = s.ready ? "LibvirtReachable" : "LibvirtUnreachable";
  ready.message = s.ready ? "the handler reaches its libvirtd" : in.libvirt_error;
  api::SetCondition(&s.conditions, ready, now);
  if (!in.host) return s;

  const auto& h = *in.host;
  s.cpu_vendor = h.cpu_vendor;
  s.cpu_model = h.cpu_model;
  s.cpu_features = h.cpu_features;
  s.cpu_models = h.cpu_models;
  s.libvirt_version = h.libvirt_version;
  s.qemu_version = h.qemu_version;
  const NodeResources r = ComputeResources(h, in.domains, in.limits);
  s.capacity = r.capacity;
  s.allocatable = r.allocatable;
  s.used = r.used;
  s.numa_cells = NumaCells(h);
  s.domains = 0;
  s.orphans.clear();
  for (const auto& d : in.domains) {
    if (in.owners.vms.count(d.name) && IsOwned(d, in.owners)) {
      ++s.domains;
    } else if (!IsOwned(d, in.owners)) {
      api::OrphanDomain o;
      o.name = d.name;
      o.uuid = d.uuid;
      o.state = domain::DomainStateName(d.state);
      s.orphans.push_back(std::move(o));
    }
  }
  std::sort(s.orphans.begin(), s.orphans.end(),
            [](const api::OrphanDomain& a, const api::OrphanDomain& b) { return a.name < b.name; });
  return s;
}

bool SameReport(const api::HypervisorStatus& a, const api::HypervisorStatus& b) {
  api::Json ja = api::Encode(a), jb = api::Encode(b);
  ja.erase("lastHeartbeatTime");
  jb.erase("lastHeartbeatTime");
  for (auto* j : {&ja, &jb}) {
    if (!j->contains("conditions")) continue;
    for (auto& c : (*j)["conditions"]) c.erase("lastTransitionTime");
  }
  return ja == jb;
}

}  // namespace ferry::agent

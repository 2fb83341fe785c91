// The target handler's local checks before it reports TargetReady (DESIGN §4): the guest
// fits (vCPUs, memory, dedicated CPUs, huge pages), its CPU model runs here, the files it
// boots from and its shared disks exist as this node's libvirtd sees them, and its local
// disks can be copied (storage: Copy) into images this node creates. Pure: facts in, the
// problems and the images to create out.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/node_resources.h"
#include "api/hypervisor.h"
#include "api/migration.h"
#include "domain/domain_builder.h"
#include "domain/node_hypervisor.h"

namespace ferry::agent {

struct TargetInputs {
  std::string node;
  api::VirtualMachine vm;
  std::string vmm_uid;  // the migration's metadata.uid (a leftover must carry it in its mark)
  api::EffectiveMigrationOptions options;
  domain::HostFacts host;
  std::vector<domain::DomainInfo> domains;  // on this node
  NodeLimits limits;
  domain::NodeSettings settings;
  // vCPUs and memory of other migrations into this node that have not arrived yet.
  int64_t incoming_cpus = 0;
  int64_t incoming_memory_bytes = 0;
  // The source node's Hypervisor (its CPU model, for host-passthrough).
  std::optional<api::Hypervisor> source;
  // Every path of PathsToCheck, as this node's libvirtd sees it.
  std::map<std::string, domain::FileInfo> files;
};

struct DiskToCreate {
  std::string path;
  domain::DiskImageFormat format = domain::DiskImageFormat::kRaw;
  uint64_t size_bytes = 0;
};

struct TargetPlan {
  std::vector<std::string> problems;  // empty: ready
  std::vector<DiskToCreate> create;   // local disk images to create before TargetReady
  // A domain of the VM's name is already here, not running, and its Ferry mark names this
  // migration's uid (left by an earlier attempt of it): destroy and undefine it first. A
  // namesake without that mark is never touched (ADR 6 §1): it is a problem, reported.
  bool remove_leftover = false;

  bool ok() const { return problems.empty(); }
  std::string Summary() const;  // the problems joined with "; "
};

// Files the checks need: kernel, initrd, file-backed shared disks, local disks (copy).
std::vector<std::string> PathsToCheck(const api::VirtualMachine& vm);

TargetPlan PlanTarget(const TargetInputs& in);

}  // namespace ferry::agent

// The libvirt domain definition of a VirtualMachine: a pure function of the VM's spec, the
// node's settings (emulator, machine type, virtualization type, where console logs go) and
// the host CPUs chosen for pinning (cpu_allocation.h).
//
//   name        <namespace>_<name> (Kubernetes names have no '_', so the map is one-to-one)
//   uuid        the VM's metadata.uid: a VM deleted and created again under the same name
//               never adopts the old VM's domain
//   metadata    Ferry's mark (namespace, name, uid, spec hash: a changed spec redefines)
//   vCPUs       <vcpu>, pinned one-to-one with <cputune><vcpupin> for dedicatedCpus
//   memory      bytes; huge pages of the spec's size in <memoryBacking>
//   CPU         host-passthrough, a named model (exact, no fallback), or the node's default
//   NUMA        numaNodes cells splitting vCPUs and memory evenly, bound to the host cells of
//               their pinned CPUs (<numatune>) when pinned
//   boot        kernel/initrd/cmdline, or the disks (bootOrder, else the first disk)
//   disks       file (path), block (/dev/...) or network disks, virtio, vda, vdb, ...
//   console     serial port 0 written to <console dir>/<namespace>_<name>.log
// Lifecycle: on_poweroff and on_crash destroy (the agent reports Stopped / Failed with the
// reason), on_reboot restart.
#pragma once

#include <string>
#include <vector>

#include "api/vm.h"
#include "core/status.h"

namespace ferry::domain {

// Node-level settings of every domain the agent defines (ferry-handler agent flags).
struct NodeSettings {
  std::string virt_type = "kvm";  // "qemu" for TCG (no /dev/kvm, as in the lab)
  std::string arch = "x86_64";
  std::string emulator;  // "" = libvirt's default for the arch
  std::string machine;   // "" = the emulator's default machine type
  // CPU model for a spec without one; "" = host-model.
  std::string default_cpu_model;
  // Directory (as libvirtd sees it) of the guests' serial console logs.
  std::string console_log_dir = "/var/log/ferry/console";
};

// Where a VM goes on the host: the host CPU of each vCPU (dedicatedCpus; empty otherwise) and
// the host NUMA cell of each guest NUMA node (empty: memory not bound).
struct DomainPlacement {
  std::vector<int> pinned_cpus;
  std::vector<int> host_cells;
};

struct BuiltDomain {
  std::string name;
  std::string xml;
  std::string spec_hash;  // also in the XML's metadata
};

// "<namespace>_<name>".
std::string DomainName(const std::string& ns, const std::string& name);
// The inverse: {namespace, name} of a Ferry domain name; nullopt for other names.
std::optional<std::pair<std::string, std::string>> SplitDomainName(const std::string& domain);
// <console dir>/<namespace>_<name>.log
std::string ConsoleLogPath(const NodeSettings& settings, const std::string& ns,
                           const std::string& name);

// Invalid for a spec that cannot become a domain on any node (no boot source, memory not a
// whole number of huge pages, more NUMA nodes than vCPUs, ...).
Status ValidateSpec(const api::VirtualMachine& vm);
// A hash of what the definition depends on besides the placement: the VM's spec and the
// node's settings. A domain whose mark carries another hash was built from another spec.
std::string SpecHash(const api::VirtualMachine& vm, const NodeSettings& settings);

// ValidateSpec, and Invalid when the placement does not match the spec (pinning for another
// number of vCPUs, host cells for another number of guest NUMA nodes).
StatusOr<BuiltDomain> BuildDomain(const api::VirtualMachine& vm, const NodeSettings& settings,
                                  const DomainPlacement& placement);

}  // namespace ferry::domain

// What the node agent needs from its own node's libvirtd, in Ferry's terms: the host's
// facts (CPUs, memory, NUMA cells, huge pages, CPU models, versions), the domains and their
// states, the lifecycle calls (define, start, shut down, destroy, undefine), disk images, and
// lifecycle events. LibvirtNodeHypervisor (handler/libvirt/libvirt_node.h) implements it;
// unit tests use a fake. No libvirt types here. Every method is safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "domain/domain_state.h"

namespace ferry::domain {

// One host NUMA cell (capabilities' <cell>).
struct HostCell {
  int id = 0;
  std::vector<int> cpus;      // host CPU ids in the cell
  uint64_t memory_bytes = 0;  // all memory of the cell
  // Page size in bytes → pages of that size reserved in the cell (huge pages only: the base
  // page size is left out).
  std::map<uint64_t, uint64_t> hugepages;
};

struct HostFacts {
  std::string arch;  // x86_64
  std::string cpu_vendor;
  std::string cpu_model;                  // the host CPU model (capabilities' <host><cpu>)
  std::vector<std::string> cpu_features;  // sorted
  std::vector<int> cpus;                  // online host CPU ids, ascending
  uint64_t memory_bytes = 0;              // all host memory
  std::vector<HostCell> cells;
  // Named guest CPU models the node's emulator can run (domain capabilities, usable='yes').
  std::vector<std::string> cpu_models;
  std::string libvirt_version;  // "9.0.0"
  std::string qemu_version;     // "10.0.2": the emulator guests run in
};

// A disk of a domain, as its definition names it.
struct DomainDisk {
  std::string target;  // vda
  std::string type;    // file, block, network
  std::string source;  // path, or protocol/name for network disks
  bool readonly = false;
};

// Ferry's mark in a domain's <metadata>: which VirtualMachine it runs, and a hash of the
// definition Ferry built (to tell a changed spec from an unchanged one); and, once a
// migration moved (or tried to move) it, that VirtualMachineMigration's uid
// (<ferry:migration uid=".."/>, set by the source on the live domain before the job starts,
// so that the target's incoming domain carries it too; ADR 6 §1).
struct FerryMark {
  std::string vm_namespace;
  std::string vm_name;
  std::string vm_uid;
  std::string spec_hash;
  std::string migration_uid;  // "" = never migrated by Ferry
};

// What the agent knows of one domain.
struct DomainInfo {
  std::string name;
  std::string uuid;
  DomainState state = DomainState::kUnknown;
  DomainReason reason = DomainReason::kUnknown;
  bool persistent = false;
  int vcpus = 0;
  uint64_t memory_bytes = 0;
  std::vector<int> pinned_cpus;      // host CPUs the vCPUs are pinned to (sorted, unique)
  uint64_t hugepage_size_bytes = 0;  // 0: normal memory
  std::vector<DomainDisk> disks;
  std::optional<FerryMark> mark;
  // An outgoing migration job runs (libvirt's job is MIGRATION_OUT).
  bool migration_out = false;

  bool IsActive() const { return domain::IsActive(state); }
};

// A lifecycle event (libvirt's VIR_DOMAIN_EVENT_ID_LIFECYCLE), mapped.
struct DomainEvent {
  std::string domain;  // name
  DomainEventType type = DomainEventType::kUnknown;
  DomainReason detail = DomainReason::kUnknown;  // the event's detail, where it has one
};

struct FileInfo {
  bool exists = false;
  uint64_t size_bytes = 0;  // capacity (the guest-visible size) for disk images
};

enum class DiskImageFormat { kRaw, kQcow2 };

class NodeHypervisor {
 public:
  virtual ~NodeHypervisor() = default;

  // The host's facts. Cheap after the first call (capabilities are cached by libvirtd).
  virtual StatusOr<HostFacts> Host() = 0;
  // Every domain on the node, defined or transient.
  virtual StatusOr<std::vector<DomainInfo>> ListDomains() = 0;
  // One domain; nullopt when the node has no domain of that name.
  virtual StatusOr<std::optional<DomainInfo>> GetDomain(const std::string& name) = 0;

  // Defines (or redefines) a persistent domain from XML, validated against libvirt's schema.
  virtual Status Define(const std::string& xml) = 0;
  virtual Status Start(const std::string& name) = 0;
  // Graceful (ACPI power button); the guest may ignore it.
  virtual Status Shutdown(const std::string& name) = 0;
  // Hard stop. NotFound when there is no such domain; OK when it is already shut off.
  virtual Status Destroy(const std::string& name) = 0;
  // Removes the definition (NotFound when there is none).
  virtual Status Undefine(const std::string& name) = 0;

  // Files as the node's libvirtd sees them (its mount namespace is the one guests use).
  virtual StatusOr<FileInfo> StatFile(const std::string& path) = 0;
  virtual Status CreateDiskImage(const std::string& path, DiskImageFormat format,
                                 uint64_t size_bytes) = 0;
  virtual Status DeleteDiskImage(const std::string& path) = 0;

  // Called on libvirt's event thread for every lifecycle event, and with an empty domain name
  // when the connection to libvirtd was lost or (re)opened. Must not block. Set before use.
  virtual void SetEventHandler(std::function<void(const DomainEvent&)> handler) = 0;
  // OK when libvirtd answers now.
  virtual Status Ping() = 0;
};

}  // namespace ferry::domain

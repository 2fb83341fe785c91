// Hypervisor (ferry.dev/v1alpha1, short name `hv`, cluster-scoped): what Ferry knows of one
// node's hypervisor. One per node, named after the Node, written only by that node's handler
// (status subresource); the operator reads capacity from here and schedulability from the
// Node. A Hypervisor whose heartbeat is older than kHypervisorHeartbeatTimeout gets no new
// placements and its migrations fail with reason HandlerLost.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/group.h"
#include "api/meta.h"

namespace ferry::api {

// The handler renews its heartbeat this often...
inline constexpr std::chrono::seconds kHypervisorHeartbeatInterval{10};
// ...and the operator treats a heartbeat older than four intervals as a lost handler: three
// renewals may be missed (an API server hiccup, a slow libvirtd) before anything is failed.
inline constexpr std::chrono::seconds kHypervisorHeartbeatTimeout{40};

// An amount of host resources: what the host has (capacity), what Ferry may give to guests
// (allocatable = capacity − reserved), or what the running domains use (used).
struct HypervisorResources {
  int64_t cpus = 0;            // vCPUs (whole host CPUs)
  Quantity memory;             // bytes of normal (non-hugepage) memory
  int64_t dedicated_cpus = 0;  // host CPUs that may be pinned to one vCPU each
  // Page size ("2Mi", "1Gi") → bytes of memory in pages of that size.
  std::map<std::string, Quantity> hugepages;
  Json raw;
};

// One host NUMA cell (libvirt capabilities' <cell>).
struct HypervisorNumaCell {
  int64_t id = 0;
  int64_t cpus = 0;
  Quantity memory;
  std::map<std::string, Quantity> hugepages;  // page size → bytes
  Json raw;
};

// A domain the handler sees on its libvirtd that no VirtualMachine owns. Reported, never
// touched: a person decides what it is.
struct OrphanDomain {
  std::string name;
  std::string uuid;
  std::string state;  // libvirt's state name: running, paused, shutoff, ...
  Json raw;
};

struct HypervisorSpec {
  Json raw;  // no fields yet; the object exists for its status
};

struct HypervisorStatus {
  bool ready = false;  // the handler reaches its libvirtd and serves its node
  std::optional<WallTime> last_heartbeat_time;
  // Where the peer libvirtd reaches this node's libvirtd for migrations (an IP or host name).
  std::string migration_address;
  bool migration_tls = false;  // this node can receive migrations over TLS
  std::string cpu_vendor;
  std::string cpu_model;                 // host CPU model (libvirt's name)
  std::vector<std::string> cpu_features;  // host CPU features, sorted
  std::vector<std::string> cpu_models;    // named guest CPU models this host can run
  std::string libvirt_version;           // "9.0.0"
  std::string qemu_version;              // "10.0.2"
  std::string handler_version;
  HypervisorResources capacity;
  HypervisorResources allocatable;
  HypervisorResources used;
  std::vector<HypervisorNumaCell> numa_cells;
  int64_t domains = 0;  // domains the handler runs for VMs (not orphans)
  int64_t migrations_in = 0;
  int64_t migrations_out = 0;
  std::vector<OrphanDomain> orphans;
  std::vector<Condition> conditions;
  Json raw;
};

struct Hypervisor {
  static constexpr const char* kApiVersion = api::kApiVersion;
  static constexpr const char* kKind = "Hypervisor";
  ObjectMeta metadata;
  HypervisorSpec spec;
  HypervisorStatus status;
  Json raw;

  static StatusOr<Hypervisor> FromJson(const Json& j);
  Json ToJson() const;

  // Ready and heartbeat no older than kHypervisorHeartbeatTimeout at `now`.
  bool IsAlive(WallTime now) const;
};

// libvirt's integer version encoding (major × 1,000,000 + minor × 1,000 + micro) of "9.0.0";
// an error for anything that is not one to three dot-separated numbers.
StatusOr<int64_t> ParseVersionNumber(const std::string& version);

Status Decode(const Json& j, const std::string& path, HypervisorResources* out);
Status Decode(const Json& j, const std::string& path, HypervisorNumaCell* out);
Status Decode(const Json& j, const std::string& path, OrphanDomain* out);
Status Decode(const Json& j, const std::string& path, HypervisorSpec* out);
Status Decode(const Json& j, const std::string& path, HypervisorStatus* out);
Json Encode(const HypervisorResources& v);
Json Encode(const HypervisorNumaCell& v);
Json Encode(const OrphanDomain& v);
Json Encode(const HypervisorSpec& v);
Json Encode(const HypervisorStatus& v);

}  // namespace ferry::api

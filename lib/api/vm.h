// VirtualMachine (ferry.dev/v1alpha1, short name `vm`, namespaced): the workload.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/core_types.h"
#include "api/group.h"
#include "api/meta.h"

namespace ferry::api {

enum class VmPhase { kUnset, kPending, kScheduled, kStarting, kRunning, kMigrating, kStopped, kFailed };
constexpr std::array<EnumName<VmPhase>, 8> EnumTable(VmPhase) {
  return {{{VmPhase::kUnset, ""},
           {VmPhase::kPending, "Pending"},
           {VmPhase::kScheduled, "Scheduled"},
           {VmPhase::kStarting, "Starting"},
           {VmPhase::kRunning, "Running"},
           {VmPhase::kMigrating, "Migrating"},
           {VmPhase::kStopped, "Stopped"},
           {VmPhase::kFailed, "Failed"}}};
}

enum class EvictionStrategy { kLiveMigrate, kLiveMigrateIfPossible, kShutdown, kNone };
constexpr std::array<EnumName<EvictionStrategy>, 4> EnumTable(EvictionStrategy) {
  return {{{EvictionStrategy::kLiveMigrate, "LiveMigrate"},
           {EvictionStrategy::kLiveMigrateIfPossible, "LiveMigrateIfPossible"},
           {EvictionStrategy::kShutdown, "Shutdown"},
           {EvictionStrategy::kNone, "None"}}};
}

// How a migration moves memory. Auto starts pre-copy and may switch to post-copy.
enum class MigrationMode { kAuto, kPreCopy, kPostCopy };
constexpr std::array<EnumName<MigrationMode>, 3> EnumTable(MigrationMode) {
  return {{{MigrationMode::kAuto, "Auto"}, {MigrationMode::kPreCopy, "PreCopy"}, {MigrationMode::kPostCopy, "PostCopy"}}};
}

enum class MigrationResult { kSucceeded, kFailed, kCancelled };
constexpr std::array<EnumName<MigrationResult>, 3> EnumTable(MigrationResult) {
  return {{{MigrationResult::kSucceeded, "Succeeded"},
           {MigrationResult::kFailed, "Failed"},
           {MigrationResult::kCancelled, "Cancelled"}}};
}

// Shared: the disk lives on shared storage (a path every node sees, or a network disk);
// Local: the disk is node-local and is copied during migration (storage: Copy).
enum class DiskType { kShared, kLocal };
constexpr std::array<EnumName<DiskType>, 2> EnumTable(DiskType) {
  return {{{DiskType::kShared, "Shared"}, {DiskType::kLocal, "Local"}}};
}

enum class DiskFormat { kRaw, kQcow2 };
constexpr std::array<EnumName<DiskFormat>, 2> EnumTable(DiskFormat) {
  return {{{DiskFormat::kRaw, "raw"}, {DiskFormat::kQcow2, "qcow2"}}};
}

enum class TolerationOperator { kEqual, kExists };
constexpr std::array<EnumName<TolerationOperator>, 2> EnumTable(TolerationOperator) {
  return {{{TolerationOperator::kEqual, "Equal"}, {TolerationOperator::kExists, "Exists"}}};
}

// A network block device (shared storage), e.g. nbd://host:port/name or rbd pool/image.
struct NetworkDiskSource {
  std::string protocol;  // nbd, rbd, iscsi
  std::string name;
  std::string host;
  int64_t port = 0;
  Json raw;
};

struct Disk {
  std::string name;
  DiskType type = DiskType::kShared;
  std::string path;                          // file/block path (exactly one of path, network)
  std::optional<NetworkDiskSource> network;
  DiskFormat format = DiskFormat::kRaw;
  std::optional<Quantity> size;              // local disks: size to prepare on the target
  std::optional<int64_t> boot_order;
  bool read_only = false;
  Json raw;
};

struct KernelBoot {
  std::string kernel;
  std::string initrd;
  std::string cmdline;
  Json raw;
};

struct Hugepages {
  Quantity page_size;  // "2Mi" or "1Gi"
  Json raw;
};

struct Toleration {
  std::string key;  // empty with Exists: tolerates everything
  TolerationOperator op = TolerationOperator::kEqual;
  std::string value;
  std::optional<TaintEffect> effect;  // empty: every effect
  Json raw;

  bool Tolerates(const Taint& taint) const;
};

struct VirtualMachineSpec {
  bool running = false;
  int64_t cpus = 1;
  Quantity memory;
  std::string cpu_model;  // "host-passthrough" or a named libvirt CPU model
  bool dedicated_cpus = false;  // pin each vCPU to a dedicated host CPU
  std::optional<int64_t> numa_nodes;
  std::optional<Hugepages> hugepages;
  std::optional<KernelBoot> kernel_boot;  // direct kernel boot; otherwise boot from disks
  std::vector<Disk> disks;
  std::string server_group;
  EvictionStrategy eviction_strategy = EvictionStrategy::kLiveMigrate;
  StringMap node_selector;
  std::vector<Toleration> tolerations;
  Json raw;
};

// One finished migration, newest last; the operator keeps the last kMaxMigrationHistory.
struct MigrationRecord {
  std::string migration_name;
  // The VMM's metadata.uid (docs/adr/0006 §1): "is this VMM's outcome recorded?" compares
  // uids. Records written before it have none (see api/identity.h for how they match).
  std::string migration_uid;
  std::string source_node;
  std::string target_node;
  MigrationMode mode = MigrationMode::kPreCopy;  // the mode that completed it
  MigrationResult result = MigrationResult::kSucceeded;
  std::optional<WallTime> start_time;
  std::optional<WallTime> completion_time;
  std::optional<std::chrono::nanoseconds> duration;
  std::optional<std::chrono::nanoseconds> downtime;
  std::string reason;
  Json raw;
};

// Where and on what the guest was first booted: a guest may go back to an older
// libvirt/QEMU only on that node (the HP Integrity rule, DESIGN §3).
struct BootRecord {
  std::string node_name;
  std::string libvirt_version;
  std::string qemu_version;
  Json raw;
};

struct VirtualMachineStatus {
  VmPhase phase = VmPhase::kUnset;
  std::string node_name;
  std::string domain_uuid;
  std::string active_migration;  // name of the VirtualMachineMigration in flight
  std::vector<MigrationRecord> migration_history;
  std::optional<BootRecord> first_boot;
  int64_t observed_generation = 0;
  std::vector<Condition> conditions;  // Migratable, PlacementCompliant
  Json raw;
};

inline constexpr size_t kMaxMigrationHistory = 10;  // enough to spot ping-pong, bounded size
inline constexpr const char* kConditionMigratable = "Migratable";
inline constexpr const char* kConditionPlacementCompliant = "PlacementCompliant";
inline constexpr const char* kCpuModelHostPassthrough = "host-passthrough";

struct VirtualMachine {
  static constexpr const char* kApiVersion = api::kApiVersion;
  static constexpr const char* kKind = "VirtualMachine";
  ObjectMeta metadata;
  VirtualMachineSpec spec;
  VirtualMachineStatus status;
  Json raw;

  static StatusOr<VirtualMachine> FromJson(const Json& j);
  Json ToJson() const;
  // Appends a record and drops the oldest beyond kMaxMigrationHistory.
  void AppendHistory(MigrationRecord record);
};

Status Decode(const Json& j, const std::string& path, NetworkDiskSource* out);
Status Decode(const Json& j, const std::string& path, Disk* out);
Status Decode(const Json& j, const std::string& path, KernelBoot* out);
Status Decode(const Json& j, const std::string& path, Hugepages* out);
Status Decode(const Json& j, const std::string& path, Toleration* out);
Status Decode(const Json& j, const std::string& path, VirtualMachineSpec* out);
Status Decode(const Json& j, const std::string& path, MigrationRecord* out);
Status Decode(const Json& j, const std::string& path, BootRecord* out);
Status Decode(const Json& j, const std::string& path, VirtualMachineStatus* out);
Json Encode(const NetworkDiskSource& v);
Json Encode(const Disk& v);
Json Encode(const KernelBoot& v);
Json Encode(const Hugepages& v);
Json Encode(const Toleration& v);
Json Encode(const VirtualMachineSpec& v);
Json Encode(const MigrationRecord& v);
Json Encode(const BootRecord& v);
Json Encode(const VirtualMachineStatus& v);

}  // namespace ferry::api

// VirtualMachineMigration (ferry.dev/v1alpha1, short name `vmm`, namespaced): one request to
// move one VM. Deleting a running one cancels it (finalizer kMigrationFinalizer).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/vm.h"

namespace ferry::api {

// Pending → Scheduling → Scheduled → PreparingTarget → TargetReady → Running →
// Succeeded | Failed | Cancelled.
enum class MigrationPhase {
  kUnset,
  kPending,
  kScheduling,
  kScheduled,
  kPreparingTarget,
  kTargetReady,
  kRunning,
  kSucceeded,
  kFailed,
  kCancelled,
};
constexpr std::array<EnumName<MigrationPhase>, 10> EnumTable(MigrationPhase) {
  return {{{MigrationPhase::kUnset, ""},
           {MigrationPhase::kPending, "Pending"},
           {MigrationPhase::kScheduling, "Scheduling"},
           {MigrationPhase::kScheduled, "Scheduled"},
           {MigrationPhase::kPreparingTarget, "PreparingTarget"},
           {MigrationPhase::kTargetReady, "TargetReady"},
           {MigrationPhase::kRunning, "Running"},
           {MigrationPhase::kSucceeded, "Succeeded"},
           {MigrationPhase::kFailed, "Failed"},
           {MigrationPhase::kCancelled, "Cancelled"}}};
}
// Succeeded, Failed or Cancelled: nothing more will happen.
bool IsTerminal(MigrationPhase phase);

// Shared: disks are on shared storage; Copy: local disks are copied (NBD) with the memory.
enum class StorageMode { kShared, kCopy };
constexpr std::array<EnumName<StorageMode>, 2> EnumTable(StorageMode) {
  return {{{StorageMode::kShared, "Shared"}, {StorageMode::kCopy, "Copy"}}};
}

// Why the migration exists; evacuation/rebalance migrations may queue below user requests.
enum class MigrationTrigger { kUser, kEvacuation, kRebalance };
constexpr std::array<EnumName<MigrationTrigger>, 3> EnumTable(MigrationTrigger) {
  return {{{MigrationTrigger::kUser, "User"},
           {MigrationTrigger::kEvacuation, "Evacuation"},
           {MigrationTrigger::kRebalance, "Rebalance"}}};
}

struct VirtualMachineMigrationSpec {
  std::string vm_name;
  std::string target_node;  // empty: the operator chooses
  MigrationMode mode = MigrationMode::kAuto;
  bool offline = false;  // cold migration
  StorageMode storage = StorageMode::kShared;
  std::optional<Quantity> bandwidth;  // bytes per second, e.g. "1Gi"
  std::optional<std::chrono::nanoseconds> max_downtime;
  std::optional<std::chrono::nanoseconds> completion_timeout_per_gib;
  int64_t priority = 0;  // higher first
  MigrationTrigger trigger = MigrationTrigger::kUser;
  Json raw;
};

enum class PlacementVerdict { kSelected, kEligible, kRejected };
constexpr std::array<EnumName<PlacementVerdict>, 3> EnumTable(PlacementVerdict) {
  return {{{PlacementVerdict::kSelected, "Selected"},
           {PlacementVerdict::kEligible, "Eligible"},
           {PlacementVerdict::kRejected, "Rejected"}}};
}

// One node the placement engine considered: why it was rejected or how it scored.
struct PlacementCandidate {
  std::string node;
  PlacementVerdict verdict = PlacementVerdict::kRejected;
  int64_t score = 0;
  std::string reason;  // one human-readable line
  Json raw;
};

struct PlacementExplanation {
  std::string selected_node;
  std::optional<WallTime> decided_at;
  std::vector<PlacementCandidate> candidates;
  std::string summary;  // e.g. "3 nodes considered, 1 eligible"
  Json raw;
};

struct MigrationProgress {
  int64_t total_bytes = 0;
  int64_t processed_bytes = 0;
  int64_t remaining_bytes = 0;
  int64_t dirty_rate_bytes_per_second = 0;
  int64_t transfer_rate_bytes_per_second = 0;
  int64_t iteration = 0;
  int64_t percent = 0;  // 0..100, for `kubectl get vmm`
  std::optional<WallTime> post_copy_started_at;
  std::optional<std::chrono::nanoseconds> current_max_downtime;
  int64_t auto_converge_throttle_percent = 0;
  // Time to completion as the source's convergence policy projects it; absent when pre-copy
  // cannot converge and post-copy is not allowed (the migration ends at its timeout).
  std::optional<std::chrono::nanoseconds> estimated_time_remaining;
  std::optional<WallTime> updated_at;
  Json raw;
};

// A convergence step the handler took (DESIGN §4), visible in status as well as an Event.
struct ConvergenceAction {
  std::optional<WallTime> time;
  std::string action;  // IncreaseDowntime, AutoConverge, SwitchToPostCopy, Abort
  std::string detail;
  Json raw;
};

// What a migration runs with: its spec completed from the MigrationPolicy that selects the VM
// and the operator's defaults. The operator writes it at admission; the source handler runs
// the engine with exactly these values, so a policy edited later changes nothing in flight.
struct EffectiveMigrationOptions {
  std::string policy;  // the MigrationPolicy applied; empty when none selected the VM
  MigrationMode mode = MigrationMode::kAuto;
  bool offline = false;
  StorageMode storage = StorageMode::kShared;
  bool allow_post_copy = false;
  bool allow_auto_converge = false;
  std::optional<Quantity> bandwidth;  // bytes per second; absent = unlimited
  std::optional<std::chrono::nanoseconds> max_downtime;
  std::vector<std::chrono::nanoseconds> downtime_schedule;
  std::optional<std::chrono::nanoseconds> completion_timeout_per_gib;
  std::optional<std::chrono::nanoseconds> progress_timeout;
  // The rest of the spec as admitted (a later edit of the spec changes nothing): the node the
  // user asked for ("" = the operator chooses) and the queueing priority.
  std::string target_node;
  int64_t priority = 0;
  Json raw;
};

struct VirtualMachineMigrationStatus {
  MigrationPhase phase = MigrationPhase::kUnset;
  // When `phase` last changed (whoever wrote the phase writes this with it); phase deadlines
  // are measured from here.
  std::optional<WallTime> phase_transition_time;
  std::string source_node;
  std::string target_node;
  std::string target_uri;  // set by the target handler at TargetReady
  // The metadata.uid of the VM admitted (operator, at admission; docs/adr/0006 §1): a VM of
  // the same name with another uid is not this migration's VM.
  std::string vm_uid;
  std::optional<EffectiveMigrationOptions> effective_options;
  std::optional<PlacementExplanation> placement;
  std::optional<MigrationProgress> progress;
  std::vector<ConvergenceAction> convergence_actions;
  MigrationMode effective_mode = MigrationMode::kAuto;
  std::optional<std::chrono::nanoseconds> downtime;
  std::optional<WallTime> start_time;
  std::optional<WallTime> completion_time;
  std::string reason;
  std::string message;
  int64_t observed_generation = 0;
  std::vector<Condition> conditions;
  Json raw;
};

struct VirtualMachineMigration {
  static constexpr const char* kApiVersion = api::kApiVersion;
  static constexpr const char* kKind = "VirtualMachineMigration";
  ObjectMeta metadata;
  VirtualMachineMigrationSpec spec;
  VirtualMachineMigrationStatus status;
  Json raw;

  static StatusOr<VirtualMachineMigration> FromJson(const Json& j);
  Json ToJson() const;
};

Status Decode(const Json& j, const std::string& path, VirtualMachineMigrationSpec* out);
Status Decode(const Json& j, const std::string& path, PlacementCandidate* out);
Status Decode(const Json& j, const std::string& path, PlacementExplanation* out);
Status Decode(const Json& j, const std::string& path, MigrationProgress* out);
Status Decode(const Json& j, const std::string& path, ConvergenceAction* out);
Status Decode(const Json& j, const std::string& path, EffectiveMigrationOptions* out);
Status Decode(const Json& j, const std::string& path, VirtualMachineMigrationStatus* out);
Json Encode(const VirtualMachineMigrationSpec& v);
Json Encode(const PlacementCandidate& v);
Json Encode(const PlacementExplanation& v);
Json Encode(const MigrationProgress& v);
Json Encode(const ConvergenceAction& v);
Json Encode(const EffectiveMigrationOptions& v);
Json Encode(const VirtualMachineMigrationStatus& v);

}  // namespace ferry::api

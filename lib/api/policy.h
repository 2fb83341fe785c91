// MigrationPolicy (ferry.dev/v1alpha1, short name `mp`, cluster-scoped): migration defaults
// for the VMs and namespaces it selects. Cluster-wide limits (parallel migrations) are
// operator flags, not part of this object.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/group.h"
#include "api/meta.h"

namespace ferry::api {

struct MigrationPolicySpec {
  // Both must match; an absent selector matches everything.
  std::optional<LabelSelector> namespace_selector;
  std::optional<LabelSelector> vm_selector;
  std::optional<bool> allow_post_copy;
  std::optional<bool> allow_auto_converge;
  std::optional<Quantity> bandwidth;  // bytes per second
  std::optional<std::chrono::nanoseconds> max_downtime;
  // The steps max downtime is raised through when a pre-copy stops converging.
  std::vector<std::chrono::nanoseconds> downtime_schedule;
  std::optional<std::chrono::nanoseconds> completion_timeout_per_gib;
  // Abort when remaining bytes have not shrunk for this long.
  std::optional<std::chrono::nanoseconds> progress_timeout;
  Json raw;
};

struct MigrationPolicyStatus {
  int64_t observed_generation = 0;
  std::vector<Condition> conditions;
  Json raw;
};

struct MigrationPolicy {
  static constexpr const char* kApiVersion = api::kApiVersion;
  static constexpr const char* kKind = "MigrationPolicy";
  ObjectMeta metadata;
  MigrationPolicySpec spec;
  MigrationPolicyStatus status;
  Json raw;

  static StatusOr<MigrationPolicy> FromJson(const Json& j);
  Json ToJson() const;
  // The policy applies to a VM with `vm_labels` in a namespace with `namespace_labels`.
  bool Selects(const StringMap& namespace_labels, const StringMap& vm_labels) const;
};

Status Decode(const Json& j, const std::string& path, MigrationPolicySpec* out);
Status Decode(const Json& j, const std::string& path, MigrationPolicyStatus* out);
Json Encode(const MigrationPolicySpec& v);
Json Encode(const MigrationPolicyStatus& v);

}  // namespace ferry::api

// MigrationPolicy resolution: which policy applies to a VM, and the options a migration runs
// with (spec, then the policy, then the operator's defaults), written once at admission as
// status.effectiveOptions. Pure.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "api/migration.h"
#include "api/policy.h"
#include "api/vm.h"

namespace ferry::op::migration {

// What a migration runs with when neither its spec nor a policy says (KubeVirt's defaults
// where it has the knob: 150 s per GiB to complete, 150 s without progress, post-copy and
// auto-converge off; libvirt's 300 ms max downtime).
struct MigrationDefaults {
  bool allow_post_copy = false;
  bool allow_auto_converge = false;
  std::chrono::nanoseconds max_downtime = std::chrono::milliseconds(300);
  std::chrono::nanoseconds completion_timeout_per_gib = std::chrono::seconds(150);
  std::chrono::nanoseconds progress_timeout = std::chrono::seconds(150);
};

// The policy that applies to a VM with `vm_labels` in a namespace with `namespace_labels`:
// among those whose selectors both match, the most specific (most selector requirements,
// matchLabels entries and expressions of both selectors counted), ties to the name that
// sorts first (KubeVirt's rule). nullptr when none matches.
const api::MigrationPolicy* SelectPolicy(const std::vector<api::MigrationPolicy>& policies,
                                         const api::StringMap& namespace_labels,
                                         const api::StringMap& vm_labels);

// The options of `spec` completed by `policy` (may be null) and `defaults`. The spec wins
// over the policy, the policy over the defaults; asking for mode PostCopy allows post-copy.
api::EffectiveMigrationOptions ResolveOptions(const api::VirtualMachineMigrationSpec& spec,
                                              const api::MigrationPolicy* policy,
                                              const MigrationDefaults& defaults);

}  // namespace ferry::op::migration

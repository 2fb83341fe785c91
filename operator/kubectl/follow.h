// Following a migration or a drain until it ends: `kubectl ferry migrate --wait`, `cancel
// --wait` and `drain --wait`.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/migration.h"
#include "core/clock.h"
#include "kube/api_client.h"
#include "output.h"

namespace ferry::kubectl {

// When a phase was first seen, after the start the caller chose (e.g. the create request).
struct PhaseMark {
  std::string phase;
  std::chrono::nanoseconds after{0};
};

struct FollowResult {
  std::optional<api::VirtualMachineMigration> last;  // the newest state seen
  bool deleted = false;                              // the VMM disappeared (finalizer removed)
  std::vector<PhaseMark> timeline;
};

// Watches VMM ns/name (a Get, then a watch from its resourceVersion, re-started when the
// server ends it) and calls `on_update(vmm)` on every change and at least every `tick` with
// the newest state, until the phase is terminal, the VMM is gone or `timeout` passes
// (kDeadlineExceeded). Each phase is stamped with the local clock when first seen.
StatusOr<FollowResult> FollowMigration(
    kube::ApiClient& api, const std::string& ns, const std::string& name, Clock& clock,
    Clock::TimePoint start, std::chrono::nanoseconds timeout, std::chrono::milliseconds tick,
    const std::function<void(const api::VirtualMachineMigration&)>& on_update);

// "Scheduling +12ms  Scheduled +30ms  ...  Succeeded +9.3s"
std::string TimelineLine(const std::vector<PhaseMark>& timeline);
Json TimelineJson(const std::vector<PhaseMark>& timeline);

// ---- drain ----

// What the operator's annotation ferry.dev/evacuation on the Node says, with the drain's
// migrations (VMMs labelled ferry.dev/evacuation-node=NODE).
struct DrainState {
  bool annotated = false;  // the operator has judged the drain at least once
  int planned = 0;
  int remaining = 0;
  int migrating = 0;
  std::vector<std::pair<std::string, std::string>> blocked;  // vm, reason
  int in_flight = 0;                                         // the drain's VMMs not terminal yet
};
DrainState ReadDrainState(const Json& node, const std::vector<api::VirtualMachineMigration>& vmms);

enum class DrainVerdict { kGoing, kDone, kBlocked };
// Done when no running VM is left on the node; Blocked when every VM left is blocked and no
// migration of the drain is in flight; else still going.
DrainVerdict JudgeDrain(const DrainState& s);

// The closing table of a drain: each of its migrations, where the VM went, how long it took
// and the guest's downtime. {"node", "migrations": [{"name","vm","phase","source","target",
// "mode","seconds","downtimeMs","reason"}], "blocked": [{"vm","reason"}]}
Json DrainSummaryModel(const std::string& node, const DrainState& s,
                       const std::vector<api::VirtualMachineMigration>& vmms);
std::string DrainSummaryTable(const Json& model);

}  // namespace ferry::kubectl

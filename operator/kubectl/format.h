// Human-readable figures for `kubectl ferry`: durations, ages, rates, and the live progress
// line of a migration. Pure functions of the objects and a time.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "api/migration.h"
#include "api/time.h"

namespace ferry::kubectl {

// "850ms", "4.2s", "1m12s", "2h3m": at most two units, tenths of seconds below 10 s.
std::string HumanDuration(std::chrono::nanoseconds d);
// kubectl's AGE column: "42s", "5m", "3h", "2d" ("<unknown>" without a time).
std::string Age(const std::optional<api::WallTime>& then, api::WallTime now);
// The mode that completed a migration: status.effectiveMode when a handler wrote one, else
// inferred from the progress (post-copy switched or not); "-" when it did not succeed.
std::string CompletedMode(const api::VirtualMachineMigration& vmm);
// Bytes per second, "32Mi/s", "27.8Mi/s".
std::string Rate(int64_t bytes_per_second);

// The live line of a migration, by phase:
//   "Scheduling  waiting: cluster limit: 5 of 5 migrations active"
//   "PreparingTarget  node-a -> node-b"
//   "Running  43%  remaining 12.3Mi of 128Mi  dirty 3.1Mi/s vs transfer 32Mi/s  iteration 3  ETA
//   4s" "Running  post-copy since 2s  96%  remaining 4Mi of 128Mi  ...  ETA 1s" "Succeeded  node-a
//   -> node-b  downtime 23ms"
std::string ProgressLine(const api::VirtualMachineMigration& vmm, api::WallTime now);

// The closing line: "Succeeded: default/web-1 moved node-a -> node-b in 9.3s (PreCopy, downtime
// 23ms)", "Failed (TargetRejected): ...", "Cancelled: the guest stays on node-a". `took` is the
// time the caller measured, if any (status times have whole seconds only).
std::string OutcomeLine(const api::VirtualMachineMigration& vmm,
                        std::optional<std::chrono::nanoseconds> took);

}  // namespace ferry::kubectl

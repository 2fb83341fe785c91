// How the source handler reports a migration in the VMM's status (pure):
//  * progress: bytes and rates from the job, a percent that never passes 100 (the share of
//    guest memory already on the target: total − remaining, not processed / total, which
//    passes 100 % when post-copy re-sends pages), and the ETA the convergence policy projects
//    (ConvergencePolicy::projected_completion, handed over in the engine's Progress);
//  * each engine action as a convergence action (also an Event with its numbers);
//  * the engine's outcome as the terminal phase and reason (DESIGN §8: Aborted → Failed
//    ConvergenceTimeout; a broken post-copy stays Running with PostCopyRecovering).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "api/migration.h"
#include "migration/convergence_policy.h"
#include "migration/migration_types.h"

namespace ferry::agent {

// Reason of a Failed migration that libvirt or the engine ended before the switch.
inline constexpr const char* kReasonMigrationFailed = "MigrationFailed";

// 0..100 (100 only when nothing remains).
int64_t ProgressPercent(const migration::JobSample& s);

api::MigrationProgress ProgressStatus(const migration::JobSample& s,
                                      std::optional<std::chrono::nanoseconds> eta,
                                      std::optional<api::WallTime> post_copy_started,
                                      uint32_t current_max_downtime_ms, api::WallTime now);

// "SwitchToPostCopy" etc. as the convergence action / Event reason; Warning for aborts,
// cancels and failed attempts.
api::ConvergenceAction ConvergenceActionOf(const migration::Action& a, api::WallTime now);
bool IsWarning(const migration::Action& a);

struct MigrationEnd {
  bool terminal = false;  // write phase/reason/message
  api::MigrationPhase phase = api::MigrationPhase::kRunning;
  std::string reason;
  std::string message;
  std::optional<std::chrono::nanoseconds> downtime;
  bool recovering = false;  // PostCopyRecovering: stays Running, condition True
  bool detached = false;    // nothing to write
};

MigrationEnd EndOf(const migration::MigrationResult& r);
// A terminal end that no engine result carries (judged, invalid options, cancelled early).
MigrationEnd Terminal(api::MigrationPhase phase, std::string reason, std::string message);

}  // namespace ferry::agent

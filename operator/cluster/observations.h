// Observations: what the operator has seen change and WHEN, by its own monotonic clock
// (ADR 6 §4). A handler's heartbeat is judged by how long the operator has watched it not
// change, never by comparing the handler's lastHeartbeatTime with the operator's wall clock
// (Kubernetes' node-lifecycle controller does the same with its probe timestamps): a node
// whose clock is minutes off changes nothing. Phase deadlines run from when the operator first
// saw a VMM (by uid) in a phase, not from the handler-written phaseTransitionTime.
//
// Nothing is stale before it was watched for a whole timeout: at start every entry is new
// (seen "now"), and after a pause of the process itself every observation restarts from now.
// A pause is a gap between two successive checkpoints (Tick, and every judgment) longer than
// the pause threshold: the operator's tick runs every --heartbeat-check-interval (1 s), so a
// gap of interval + 2 s (3 s by default) means the process was stopped (SIGSTOP, a frozen VM,
// a starved scheduler) and saw nothing meanwhile; what it remembers is then older than what
// it knows. Restarting is always the safe side: it can only postpone a verdict by one timeout.
// A heartbeat already judged stale before the pause (silent longer than `stale_after` at the
// last checkpoint) is not restarted: a lost handler is not brought back to life by our own
// pause, only by a new heartbeat value.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "api/migration.h"
#include "api/time.h"
#include "core/clock.h"

namespace ferry::op {

class Observations {
 public:
  // With the operator's defaults (1 s tick): interval + 2 s.
  static constexpr Clock::Duration kDefaultPauseThreshold = std::chrono::seconds(3);

  explicit Observations(Clock& clock, Clock::Duration pause_threshold = kDefaultPauseThreshold);
  void set_pause_threshold(Clock::Duration d);
  // Heartbeats silent longer than this at the checkpoint before a pause stay as they are (the
  // heartbeat timeout); default: every heartbeat restarts.
  void set_stale_after(Clock::Duration d);

  // A checkpoint of the periodic work. Returns true when the gap since the previous
  // checkpoint was a pause (every observation then restarted from now).
  bool Tick();
  // How many pauses were detected (restarts of every observation), for logs and tests.
  uint64_t pauses() const;

  // The heartbeat value `node`'s handler last wrote, as read now; a value different from the
  // last one read counts as "seen renewing" now.
  void SeeHeartbeat(const std::string& node, std::optional<api::WallTime> value);
  void ForgetNode(const std::string& node);
  // How long the operator has watched `node`'s heartbeat not change (nullopt: never read).
  std::optional<Clock::Duration> HeartbeatSilence(const std::string& node);

  // VMM `key` (uid `uid`) is in `phase` as read now; a new uid or phase starts its age now.
  void SeePhase(const std::string& key, const std::string& uid, api::MigrationPhase phase);
  void ForgetMigration(const std::string& key);
  // How long the operator has seen `key` with this uid in this phase (0 when it has not yet:
  // it is recorded now).
  Clock::Duration PhaseAge(const std::string& key, const std::string& uid,
                           api::MigrationPhase phase);

 private:
  struct Heartbeat {
    std::optional<api::WallTime> value;
    Clock::TimePoint changed;
  };
  struct Phase {
    std::string uid;
    api::MigrationPhase phase = api::MigrationPhase::kUnset;
    Clock::TimePoint since;
  };
  // The current time; restarts every observation first when the last checkpoint is older
  // than the pause threshold (mu_ held).
  Clock::TimePoint Checkpoint();
  // The entry of `key` for (uid, phase), started at `now` when new or changed. mu_ held.
  Phase& TouchPhase(const std::string& key, const std::string& uid, api::MigrationPhase phase,
                    Clock::TimePoint now);

  Clock& clock_;
  mutable std::mutex mu_;
  Clock::Duration pause_threshold_;
  Clock::Duration stale_after_ = Clock::Duration::max();
  Clock::TimePoint last_checkpoint_;
  uint64_t pauses_ = 0;
  std::map<std::string, Heartbeat> heartbeats_;
  std::map<std::string, Phase> phases_;
};

}  // namespace ferry::op

// Migration limits (DESIGN §8): at most N migrations cluster-wide, per source node and per
// target node count from Scheduled until terminal. Which waiting VMM may go next is a pure
// function of the waiting queue and the active counts.
//
// Order: waiting VMMs are served by rank — not-yet-refused before ones the placement engine
// refused last time (so an unschedulable VMM never holds the queue), then higher priority,
// then older, then by name. Each in turn takes a slot when the cluster, its source node and
// (when it names one) its target node all have room; one that does not fit waits without
// taking anything, and lower-ranked VMMs on other nodes may still go (work-conserving, as
// kube-scheduler: a busy node does not stall the cluster).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/time.h"
#include "options.h"

namespace ferry::op::migration {

struct QueuedMigration {
  std::string key;  // "namespace/name"
  std::string source_node;
  std::string target_node;  // requested target, "" = the engine chooses
  int64_t priority = 0;
  api::WallTime created{};
  bool refused_before = false;  // the last placement attempt found no target
};

struct ActiveCounts {
  int cluster = 0;
  std::map<std::string, int> outbound;  // by source node
  std::map<std::string, int> inbound;   // by target node
  int Outbound(const std::string& node) const;
  int Inbound(const std::string& node) const;
};

struct SlotDecision {
  bool granted = false;
  // Waiting: why, e.g. "cluster limit: 5 of 5 migrations active".
  std::string reason;
  // Granted without a requested target: nodes whose inbound limit is reached (placement must
  // not choose them).
  std::vector<std::string> full_targets;
};

// Ranks `waiting` (see above) and decides for `key`, which must be in `waiting`.
SlotDecision DecideSlot(const std::vector<QueuedMigration>& waiting, const ActiveCounts& active,
                        const MigrationLimits& limits, const std::string& key);

// True when a ranks before b.
bool RanksBefore(const QueuedMigration& a, const QueuedMigration& b);

}  // namespace ferry::op::migration

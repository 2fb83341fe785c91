// How an Auto migration starts, decided before the first byte is sent from the guest's dirty
// rate measured beforehand (QEMU's calc-dirty-rate), the link's bandwidth and the guest's
// size. Pure: no clock, no I/O.
//
// Projections (M = guest RAM, B = link bandwidth, D = measured dirty rate, r = D / B):
//   link bound       M / B: no migration sends the guest faster.
//   pre-copy         (M / B) / (1 − r): every pass resends what the previous one left dirty,
//                    a geometric series; ∞ when r ≥ 1. The guest runs at full speed.
//   post-copy first  M / B + the short pre-copy window + the switch cost; every page crosses
//                    once. The guest runs on the target for the whole migration: every page
//                    it writes meanwhile (D × M / B, at most M) is on the source and must be
//                    fetched first, stalling it about min(D × M / B, M) / B. (Pages it only
//                    reads stall it too; the dirty rate cannot see them: a lower bound.)
// Decision:
//   1. nothing measured, no bandwidth cap (B unknown) or no size: kReactive (the convergence
//      policy alone decides while pre-copy runs, as before the measurement existed);
//   2. pre-copy projected within time_bound × M / B: kPreCopy (no slowdown at all), or
//      kPreCopyRaisedDowntime when starting at the largest allowed downtime saves at least
//      raise_downtime_gain of that time;
//   3. post-copy allowed and post-copy first saves more migration time than it stalls the
//      guest (time saved ≥ stall_weight × stall): kPostCopyFirst;
//   4. post-copy allowed but not worth the stall: kReactive (pre-copy first, the guest
//      unslowed; the convergence policy still switches when pre-copy stalls);
//   5. no post-copy: kPreCopyRaisedDowntime when it helps or pre-copy diverges (the floor
//      of a hot guest is sent in one longer pause; auto-converge, when armed, throttles it),
//      else kPreCopy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "migration/migration_types.h"

namespace ferry::migration {

// A dirty rate measured without migrating (the hypervisor's MeasureDirtyRate).
struct DirtyRateMeasurement {
  std::uint64_t bytes_per_s = 0;
  Millis period{0};    // how long it was measured
  std::string method;  // e.g. "page-sampling"
};

struct StartInputs {
  std::optional<DirtyRateMeasurement> dirty_rate;  // nullopt: not measured (see not_measured)
  std::string not_measured;                        // why, for the decision's reason
  std::uint64_t bandwidth_bytes_per_s = 0;         // the migration's cap; 0 = unknown
  std::uint64_t memory_bytes = 0;
  bool allow_postcopy = true;
  std::vector<std::uint32_t> downtime_schedule_ms;  // ascending, first = initial
};

struct StartConfig {
  double time_bound = 1.1;           // pre-copy is kept while projected within this × M / B
  Millis postcopy_window{600};       // pre-copy before the post-copy-first switch
  Millis switch_cost{500};           // pausing, device state, first faults
  double raise_downtime_gain = 0.1;  // fraction of pre-copy's time a raised downtime must save
  // Seconds of migration time one second of guest stall is worth: post-copy first only when
  // it saves at least stall_weight × its projected stall.
  double stall_weight = 1.0;
};

enum class StartKind { kReactive, kPreCopy, kPreCopyRaisedDowntime, kPostCopyFirst };
const char* StartKindName(StartKind k);

struct StartDecision {
  StartKind kind = StartKind::kReactive;
  std::uint32_t initial_downtime_ms = 0;  // the schedule's first step, or its last when raised
  // The projections (seconds; < 0 = not projected / infinite) and bytes per guest RAM.
  double link_bound_s = -1;
  double precopy_s = -1;
  double postcopy_first_s = -1;
  double precopy_bytes_per_ram = -1;
  double postcopy_stall_s = -1;
  std::string reason;  // with the numbers
};

StartDecision DecideStart(const StartInputs& in, const StartConfig& config = {});

// Pre-copy's projected time (seconds) for dirty rate / bandwidth r, the guest's size and a
// last pass that must fit in downtime_s (the passes stop once the dirty set fits); ∞ for
// r ≥ 1 when the guest never fits. Exposed for tests.
double ProjectPreCopySeconds(double r, double memory_bytes, double bandwidth, double downtime_s);

}  // namespace ferry::migration

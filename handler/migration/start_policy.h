// How an Auto migration starts, decided before the first byte is sent from the guest's dirty
// rate measured beforehand (QEMU's calc-dirty-rate), the link's bandwidth and the guest's
// size. Pure: no clock, no I/O.
//
// Projections (M = guest RAM, B = link bandwidth, D = measured dirty rate, r = D / B):
//   link bound       M / B: no migration sends the guest faster.
//   pre-copy         (M / B) / (1 − r): every pass resends what the previous one left dirty,
//                    a geometric series; ∞ when r ≥ 1. The guest runs at full speed.
//   post-copy first  M / B + the short pre-copy window + the switch cost; every page crosses
//                    once. The guest runs on the target while its memory is fetched: the pages
//                    it touches and the target lacks stall it. Those are its hot set, which
//                    any post-copy (first or after a pass) fetches on demand; estimated as what
//                    it dirties in a second, H = min(D × 1 s, M), stalling it about H / B.
// Decision:
//   1. nothing measured, no bandwidth cap (B unknown) or no size: kReactive (the convergence
//      policy alone decides while pre-copy runs, as before the measurement existed);
//   2. pre-copy projected within time_bound × M / B: kPreCopy (no slowdown at all), or
//      kPreCopyRaisedDowntime when starting at the largest allowed downtime saves at least
//      raise_downtime_gain of that time;
//   3. post-copy allowed and its projected stall (H / B) at most max_stall_fraction of its
//      time: kPostCopyFirst;
//   4. post-copy allowed but the stall too large: kReactive (pre-copy first: the hot set is
//      smaller after a pass and the guest runs unslowed meanwhile);
//   5. no post-copy: kPreCopyRaisedDowntime (the floor of a hot guest is sent in one longer
//      pause; auto-converge, when armed, throttles it).
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
  Millis period{0};  // how long it was measured
  std::string method;  // e.g. "page-sampling"
};

struct StartInputs {
  std::optional<DirtyRateMeasurement> dirty_rate;  // nullopt: not measured (see not_measured)
  std::string not_measured;                        // why, for the decision's reason
  std::uint64_t bandwidth_bytes_per_s = 0;          // the migration's cap; 0 = unknown
  std::uint64_t memory_bytes = 0;
  bool allow_postcopy = true;
  std::vector<std::uint32_t> downtime_schedule_ms;  // ascending, first = initial
};

struct StartConfig {
  double time_bound = 1.1;  // pre-copy is kept while projected within this × M / B
  Millis postcopy_window{600};       // pre-copy before the post-copy-first switch
  Millis switch_cost{500};           // pausing, device state, first faults
  double raise_downtime_gain = 0.1;  // fraction of pre-copy's time a raised downtime must save
  double max_stall_fraction = 0.5;   // post-copy first only while H / B ≤ this × its time
  Millis hot_set_window{1000};       // H = D × this (capped at M)
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

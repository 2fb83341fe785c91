// Backoff for reconnect loops (watch re-establishment, libvirt reconnect): exponential growth
// with jitter from a seeded RNG, a cap, and a reset. Deterministic for a given seed; time
// comes from the injected Clock (used only to notice a long quiet period, see below).
//
//   Backoff backoff(800ms, 30s, 2.0, 0.5, clock, seed);
//   while (!stop) {
//     if (RunWatch().ok()) backoff.Reset();
//     else Sleep(backoff.Next());
//   }
//
// The n-th Next() (n = 0, 1, ...) is d = min(initial * factor^n, max), jittered downwards to a
// value uniformly drawn from [d * (1 - jitter), d]: the result never exceeds max, and clients
// that all hit the cap still spread out instead of retrying in lock-step.
// Automatic reset: if Next() has not been called for longer than reset_after (default
// 4 * max, the ratio client-go's reflector uses: 30 s cap, 2 min reset), the sequence starts
// over, so a connection that stayed healthy for a while is not punished for an old outage.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <random>

#include "core/clock.h"

namespace ferry::controller {

class Backoff {
 public:
  using Duration = Clock::Duration;

  // Out-of-range arguments are normalized, never rejected: initial <= 0 becomes 1 ms,
  // max < initial becomes initial, factor < 1 (or not finite) becomes 1, jitter is clamped
  // to [0, 1], reset_after <= 0 means 4 * max.
  Backoff(Duration initial, Duration max, double factor, double jitter, Clock& clock, uint64_t seed,
          Duration reset_after = Duration::zero());

  // The delay before the next attempt; advances the sequence.
  Duration Next();
  // Starts the sequence over at `initial` (call after a success).
  void Reset();

  // The un-jittered delay the next Next() is based on.
  Duration Current() const;

 private:
  const Duration initial_;
  const Duration max_;
  const double factor_;
  const double jitter_;
  Clock& clock_;
  const Duration reset_after_;

  mutable std::mutex mu_;
  Duration current_;
  std::optional<Clock::TimePoint> last_;
  std::mt19937_64 rng_;
};

}  // namespace ferry::controller

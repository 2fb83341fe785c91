// Time in the simulation. One SimTime moves only when the simulation advances it; every
// simulated process reads it through a ProcessClock: the same monotonic time for all (a
// process that is paused does not stop the world's time, it only stops acting), and a wall
// clock that may be skewed per process (a node whose clock is ten minutes off).
#pragma once

#include <chrono>

#include "core/clock.h"

namespace ferry::sim {

class SimTime {
 public:
  Clock::TimePoint Now() const { return now_; }
  Clock::WallTime WallNow() const { return wall_; }
  void Advance(Clock::Duration d) {
    now_ += d;
    wall_ += std::chrono::duration_cast<Clock::WallTime::duration>(d);
  }
  // Simulated time since the start.
  Clock::Duration Elapsed() const { return now_ - start_; }

 private:
  static constexpr auto kStart = std::chrono::hours(1);
  Clock::TimePoint start_ = Clock::TimePoint{} + kStart;
  Clock::TimePoint now_ = start_;
  // 2026-12-01T00:00:00Z: a fixed, realistic wall time (events, leases, heartbeats print it).
  Clock::WallTime wall_ = Clock::WallTime{} + std::chrono::seconds(1796083200);
};

class ProcessClock final : public Clock {
 public:
  explicit ProcessClock(const SimTime& time, Duration wall_skew = Duration::zero())
      : time_(time), skew_(wall_skew) {}
  TimePoint Now() const override { return time_.Now(); }
  WallTime WallNow() const override {
    return time_.WallNow() + std::chrono::duration_cast<WallTime::duration>(skew_);
  }
  void set_skew(Duration d) { skew_ = d; }
  Duration skew() const { return skew_; }

 private:
  const SimTime& time_;
  Duration skew_;
};

}  // namespace ferry::sim

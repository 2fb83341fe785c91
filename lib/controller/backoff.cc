#include "controller/backoff.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace ferry::controller {
namespace {

constexpr Backoff::Duration kMinInitial = std::chrono::milliseconds(1);
// reset_after defaults to this multiple of max (client-go reflector: 30 s cap, 2 min reset).
constexpr int kDefaultResetMultiple = 4;

Backoff::Duration NormalizeInitial(Backoff::Duration d) {
  return d > Backoff::Duration::zero() ? d : kMinInitial;
}

Backoff::Duration DefaultResetAfter(Backoff::Duration max) {
  if (max > Backoff::Duration::max() / kDefaultResetMultiple) return Backoff::Duration::max();
  return max * kDefaultResetMultiple;
}

}  // namespace

Backoff::Backoff(Duration initial, Duration max, double factor, double jitter, Clock& clock,
                 uint64_t seed, Duration reset_after)
    : initial_(NormalizeInitial(initial)),
      max_(std::max(max, initial_)),
      factor_(std::isfinite(factor) && factor >= 1.0 ? factor : 1.0),
      jitter_(std::isfinite(jitter) ? std::clamp(jitter, 0.0, 1.0) : 0.0),
      clock_(clock),
      reset_after_(reset_after > Duration::zero() ? reset_after : DefaultResetAfter(max_)),
      current_(initial_),
      rng_(seed) {}

Backoff::Duration Backoff::Next() {
  std::lock_guard<std::mutex> l(mu_);
  const auto now = clock_.Now();
  if (last_.has_value() && now - *last_ > reset_after_) current_ = initial_;
  last_ = now;

  const Duration d = current_;
  // Grow in floating point so a huge factor saturates at max_ instead of overflowing.
  const double grown = static_cast<double>(current_.count()) * factor_;
  current_ = grown < static_cast<double>(max_.count()) ? Duration(static_cast<Duration::rep>(grown))
                                                       : max_;

  if (jitter_ == 0.0) return d;
  // A uniform double in [0, 1) from the top 53 bits: the same on every standard library,
  // unlike std::uniform_real_distribution.
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  const double jittered = static_cast<double>(d.count()) * (1.0 - jitter_ * u);
  return Duration(static_cast<Duration::rep>(jittered));
}

void Backoff::Reset() {
  std::lock_guard<std::mutex> l(mu_);
  current_ = initial_;
  last_.reset();
}

Backoff::Duration Backoff::Current() const {
  std::lock_guard<std::mutex> l(mu_);
  return current_;
}

}  // namespace ferry::controller

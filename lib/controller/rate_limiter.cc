#include "controller/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace ferry::controller {

using Duration = RateLimiter::Duration;

ItemExponentialFailureRateLimiter::ItemExponentialFailureRateLimiter(Duration base,
                                                                     Duration max_delay)
    : base_(base > Duration::zero() ? base : Duration(1)), max_(std::max(max_delay, base_)) {}

Duration ItemExponentialFailureRateLimiter::When(const std::string& item) {
  int exp;
  {
    std::lock_guard<std::mutex> l(mu_);
    exp = failures_[item]++;
  }
  // Double in floating point so a large exponent saturates at max_ instead of overflowing.
  const double backoff = static_cast<double>(base_.count()) * std::pow(2.0, exp);
  if (!(backoff < static_cast<double>(max_.count()))) return max_;
  return Duration(static_cast<Duration::rep>(backoff));
}

void ItemExponentialFailureRateLimiter::Forget(const std::string& item) {
  std::lock_guard<std::mutex> l(mu_);
  failures_.erase(item);
}

int ItemExponentialFailureRateLimiter::NumRequeues(const std::string& item) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

BucketRateLimiter::BucketRateLimiter(Clock& clock, double qps, int burst)
    : clock_(clock),
      qps_(std::isfinite(qps) && qps > 0 ? qps : 0.0),
      burst_(static_cast<double>(std::max(burst, 1))),
      tokens_(burst_),
      last_(clock.Now()) {}

Duration BucketRateLimiter::When(const std::string& /*item*/) {
  if (qps_ == 0.0) return Duration::zero();
  std::lock_guard<std::mutex> l(mu_);
  const auto now = clock_.Now();
  if (now > last_) {
    const double elapsed_s = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed_s * qps_);
    last_ = now;
  }
  tokens_ -= 1.0;
  if (tokens_ >= 0.0) return Duration::zero();
  // The reservation is honoured once the deficit has been refilled.
  return std::chrono::round<Duration>(std::chrono::duration<double>(-tokens_ / qps_));
}

void BucketRateLimiter::Forget(const std::string& /*item*/) {}

int BucketRateLimiter::NumRequeues(const std::string& /*item*/) { return 0; }

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
    : limiters_(std::move(limiters)) {
  std::erase(limiters_, nullptr);
}

Duration MaxOfRateLimiter::When(const std::string& item) {
  Duration worst = Duration::zero();
  for (auto& l : limiters_) worst = std::max(worst, l->When(item));
  return worst;
}

void MaxOfRateLimiter::Forget(const std::string& item) {
  for (auto& l : limiters_) l->Forget(item);
}

int MaxOfRateLimiter::NumRequeues(const std::string& item) {
  int most = 0;
  for (auto& l : limiters_) most = std::max(most, l->NumRequeues(item));
  return most;
}

std::unique_ptr<RateLimiter> NewDefaultControllerRateLimiter(Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialFailureRateLimiter>());
  limiters.push_back(std::make_unique<BucketRateLimiter>(clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

}  // namespace ferry::controller

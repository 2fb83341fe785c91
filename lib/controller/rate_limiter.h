// Rate limiters for the work queue, with client-go's semantics
// (k8s.io/client-go/util/workqueue/default_rate_limiters.go): When(item) says how long to wait
// before the item may be processed again, Forget(item) clears its failure history, and
// NumRequeues(item) reports how many times it has been rate-limited since the last Forget.
// Every limiter is thread-safe; time comes from an injected ferry::Clock.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"

namespace ferry::controller {

class RateLimiter {
 public:
  using Duration = Clock::Duration;

  virtual ~RateLimiter() = default;
  // How long the caller must wait before processing `item` again. Counts as one requeue.
  virtual Duration When(const std::string& item) = 0;
  // Stops tracking `item` (it succeeded, or will not be retried).
  virtual void Forget(const std::string& item) = 0;
  // Rate-limited requeues of `item` since its last Forget.
  virtual int NumRequeues(const std::string& item) = 0;
};

// Per-item exponential backoff: base * 2^failures, capped at max_delay.
class ItemExponentialFailureRateLimiter final : public RateLimiter {
 public:
  // client-go's controller defaults: 5 ms doubles to a 1000 s ceiling, so a hot failure
  // loop backs off within a dozen tries while a broken object is still retried every ~17 min.
  static constexpr Duration kDefaultBase = std::chrono::milliseconds(5);
  static constexpr Duration kDefaultMax = std::chrono::seconds(1000);

  // A non-positive base is treated as 1 ns; max_delay below base is raised to base.
  ItemExponentialFailureRateLimiter(Duration base = kDefaultBase, Duration max_delay = kDefaultMax);

  Duration When(const std::string& item) override;
  void Forget(const std::string& item) override;
  int NumRequeues(const std::string& item) override;

 private:
  const Duration base_;
  const Duration max_;
  std::mutex mu_;
  std::unordered_map<std::string, int> failures_;
};

// One token bucket shared by all items (golang.org/x/time/rate Reserve semantics): `burst`
// immediate passes, refilled at `qps` per second; when the bucket is empty the delay grows by
// 1/qps for every further reservation. NumRequeues is always 0 and Forget is a no-op: the
// bucket limits overall throughput, not a particular item.
class BucketRateLimiter final : public RateLimiter {
 public:
  // client-go's defaults: bounds the retry storm after a mass failure (e.g. an API server
  // outage) to 10 requeues per second after an initial burst of 100.
  static constexpr double kDefaultQps = 10.0;
  static constexpr int kDefaultBurst = 100;

  // qps <= 0 (or not finite) means "no limit": When always returns 0. burst < 1 becomes 1.
  BucketRateLimiter(Clock& clock, double qps = kDefaultQps, int burst = kDefaultBurst);

  Duration When(const std::string& item) override;
  void Forget(const std::string& item) override;
  int NumRequeues(const std::string& item) override;

 private:
  Clock& clock_;
  const double qps_;
  const double burst_;
  std::mutex mu_;
  double tokens_;
  Clock::TimePoint last_;
};

// The worst (longest) answer of several limiters; Forget goes to all of them.
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters);

  Duration When(const std::string& item) override;
  void Forget(const std::string& item) override;
  int NumRequeues(const std::string& item) override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// client-go's DefaultControllerRateLimiter: max of the per-item exponential limiter
// (5 ms .. 1000 s) and the global bucket (10 qps, burst 100).
std::unique_ptr<RateLimiter> NewDefaultControllerRateLimiter(Clock& clock);

}  // namespace ferry::controller

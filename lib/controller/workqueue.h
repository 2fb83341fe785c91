// WorkQueue: the rate-limited, delaying work queue of string keys ("namespace/name") that
// feeds a controller's workers, with client-go's semantics
// (k8s.io/client-go/util/workqueue: queue.go, delaying_queue.go, rate_limiting_queue.go):
//
//  * De-duplication: a key added N times while it waits is handed out once.
//  * Dirty while processing: a key added while a worker holds it (between Get and Done) is not
//    handed to a second worker; it is re-queued when Done is called. So a key is never
//    processed by two workers at once, and an add is never lost.
//  * AddAfter(key, d): the key becomes ready when the Clock reaches now + d. A key already
//    waiting keeps the earlier of its ready times. Due keys are moved into the queue by a
//    background waiter thread (which sleeps until the next due time, at most max_idle_wait),
//    by every Get, and by ProcessDue() — which a test calls after FakeClock::Advance to make
//    the due keys ready deterministically, without waiting.
//  * AddRateLimited(key) = AddAfter(key, rate_limiter.When(key)); Forget / NumRequeues go to
//    the rate limiter.
//  * ShutDown: further adds are ignored, delayed keys are dropped, blocked Gets wake up. Keys
//    already queued are still handed out until the queue is empty (as in client-go); then Get
//    returns nullopt. ShutDownWithDrain additionally blocks until every key handed out has
//    been marked Done.
//
// Thread-safe. Metrics (optional): ferry_workqueue_depth / adds_total / retries_total{name}.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "controller/metrics.h"
#include "controller/rate_limiter.h"
#include "core/clock.h"

namespace ferry::controller {

struct WorkQueueOptions {
  // Label of the queue's metrics; normally the controller's name.
  std::string name = "default";
  // Time source of AddAfter and of the default rate limiter. nullptr: RealClock::Get().
  Clock* clock = nullptr;
  // nullptr: NewDefaultControllerRateLimiter(*clock).
  std::unique_ptr<RateLimiter> rate_limiter;
  // Families from WorkQueueMetricFamilies::Register; nullptr: no metrics.
  const WorkQueueMetricFamilies* metrics = nullptr;
  // Longest real-time sleep of the waiter thread between checks of the clock. A RealClock
  // wakes it exactly at the next due time; the cap only bounds how late a clock that jumps
  // (FakeClock without ProcessDue) is noticed. client-go's heartbeat is 10 s; 1 s keeps a
  // jumped clock's delayed keys prompt at negligible cost.
  Clock::Duration max_idle_wait = std::chrono::seconds(1);
};

class WorkQueue {
 public:
  using Duration = Clock::Duration;

  explicit WorkQueue(WorkQueueOptions options = {});
  // Shuts down (without drain) and joins the waiter thread.
  ~WorkQueue();

  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Marks `key` as needing processing. Ignored after shutdown.
  void Add(const std::string& key);
  // Adds `key` once the clock has advanced by `delay` (immediately when delay <= 0).
  void AddAfter(const std::string& key, Duration delay);
  // Adds `key` after the rate limiter's delay for it (one more requeue of `key`), or after
  // `at_least` when that is longer (a server's Retry-After).
  void AddRateLimited(const std::string& key, Duration at_least = Duration::zero());
  // Clears the rate limiter's failure history of `key` (call on success or when giving up).
  void Forget(const std::string& key);
  // Rate-limited requeues of `key` since its last Forget.
  int NumRequeues(const std::string& key);

  // Blocks until a key is ready, then hands it out; the caller must call Done(key) when
  // finished. Returns nullopt once the queue is shut down and empty.
  std::optional<std::string> Get();
  // Like Get, but gives up after `timeout` of real time (nullopt also on timeout).
  std::optional<std::string> GetFor(std::chrono::milliseconds timeout);
  // Marks `key` as processed; re-queues it if it was added while being processed.
  // Done of a key that is not being processed is ignored.
  void Done(const std::string& key);

  // Moves every delayed key whose ready time has passed (by the clock) into the queue.
  void ProcessDue();

  void ShutDown();
  void ShutDownWithDrain();
  bool ShuttingDown() const;

  // Keys ready to be handed out (the depth metric).
  size_t Len() const;
  // Keys waiting for their AddAfter time.
  size_t NumWaiting() const;
  // Keys handed out and not yet Done.
  size_t NumProcessing() const;

  const std::string& name() const { return name_; }
  Clock& clock() const { return clock_; }

 private:
  void AddLocked(const std::string& key);
  void ProcessDueLocked();
  void UpdateDepthLocked();
  void WaiterLoop();
  std::optional<std::string> TakeLocked();
  void ShutDownImpl(bool drain);

  const std::string name_;
  Clock& clock_;
  std::unique_ptr<RateLimiter> limiter_;
  const Duration max_idle_wait_;
  prometheus::Gauge* depth_ = nullptr;
  prometheus::Counter* adds_ = nullptr;
  prometheus::Counter* retries_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable cond_;         // Gets wait for a key or shutdown
  std::condition_variable waiter_cond_;  // the waiter waits for an earlier due time or shutdown
  std::condition_variable drain_cond_;   // ShutDownWithDrain waits for processing to empty
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // needs processing (queued or re-add pending)
  std::unordered_set<std::string> processing_;  // handed out, not yet Done
  std::set<std::pair<Clock::TimePoint, std::string>> waiting_;  // delayed keys by ready time
  std::unordered_map<std::string, Clock::TimePoint> waiting_ready_at_;
  bool shutting_down_ = false;
  bool drain_ = false;
  std::thread waiter_;
};

}  // namespace ferry::controller

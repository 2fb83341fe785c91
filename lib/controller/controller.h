// The controller runner: N workers pull keys from a WorkQueue and call a Reconciler; the
// result decides what happens to the key, as in controller-runtime's reconcileHandler
// (pkg/internal/controller/controller.go):
//
//   Success          -> Forget                     (clear the key's backoff)
//   Requeue          -> AddRateLimited             (try again soon, with backoff, no error)
//   RequeueAfter(d)  -> Forget + AddAfter(d)        ("not ready yet" — not an error)
//   Error(status)    -> AddRateLimited             (transient: retried with backoff, never
//                                                    sooner than the status's Retry-After)
//   TerminalError(s) -> Forget, no retry, on_terminal_error hook (Event + condition)
//
// A key is never reconciled by two workers at once (the queue's dirty/processing sets), and
// a key added while it is being reconciled is reconciled again afterwards (level-triggered).
// Metrics: ferry_controller_reconcile_total{controller,result},
// ferry_controller_reconcile_errors_total{controller},
// ferry_controller_reconcile_duration_seconds{controller}, and the queue's metrics.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "controller/metrics.h"
#include "controller/rate_limiter.h"
#include "controller/workqueue.h"
#include "core/clock.h"
#include "core/status.h"

namespace ferry::controller {

class ReconcileResult {
 public:
  enum class Kind { kSuccess, kRequeue, kRequeueAfter, kError, kTerminalError };

  static ReconcileResult Success() { return ReconcileResult(Kind::kSuccess); }
  // Reconcile again after the rate limiter's delay, without counting an error.
  static ReconcileResult Requeue() { return ReconcileResult(Kind::kRequeue); }
  // Reconcile again once `delay` has passed (immediately when delay <= 0); the key's
  // backoff is cleared. Use for "not ready yet" and for periodic re-checks.
  static ReconcileResult RequeueAfter(Clock::Duration delay) {
    ReconcileResult r(Kind::kRequeueAfter);
    r.requeue_after_ = delay;
    return r;
  }
  // A transient failure (API unavailable, conflict, ...): retried with per-key backoff, and
  // not before status.retry_after() (429/503 Retry-After) when set.
  // An OK status is turned into kInternal: an error result must carry an error.
  static ReconcileResult Error(Status status) {
    return WithStatus(Kind::kError, std::move(status));
  }
  // A failure that retrying cannot fix (invalid spec, impossible request): not retried
  // until the key is added again (e.g. the object changes).
  static ReconcileResult TerminalError(Status status) {
    return WithStatus(Kind::kTerminalError, std::move(status));
  }

  Kind kind() const { return kind_; }
  Clock::Duration requeue_after() const { return requeue_after_; }
  const Status& status() const { return status_; }
  // The `result` label value of ferry_controller_reconcile_total.
  const char* label() const;

 private:
  explicit ReconcileResult(Kind kind) : kind_(kind) {}
  static ReconcileResult WithStatus(Kind kind, Status status);

  Kind kind_;
  Clock::Duration requeue_after_{};
  Status status_;
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  // Brings the world in line with the object named by `key` ("namespace/name"), reading
  // state from the informer cache. Called by one worker at a time per key.
  // `stop` is requested when the controller is cancelled (the process lost its leader lease
  // or is shutting down): a reconcile must then return promptly and write nothing more —
  // check it before every API write and pass it to anything that waits.
  virtual ReconcileResult Reconcile(const std::string& key, std::stop_token stop) = 0;
};

// A Reconciler from a function (what the Manager's controllers usually are).
using ReconcileFunc = std::function<ReconcileResult(const std::string& key, std::stop_token stop)>;
class FuncReconciler final : public Reconciler {
 public:
  explicit FuncReconciler(ReconcileFunc fn) : fn_(std::move(fn)) {}
  ReconcileResult Reconcile(const std::string& key, std::stop_token stop) override {
    return fn_(key, std::move(stop));
  }

 private:
  ReconcileFunc fn_;
};

struct ControllerOptions {
  // Names the controller in metrics and its queue.
  std::string name = "controller";
  // Worker threads started by Start(); values below 1 mean 1.
  int workers = 1;
  // Time source of the queue, the default rate limiter and the duration metric.
  // nullptr: RealClock::Get().
  Clock* clock = nullptr;
  // nullptr: NewDefaultControllerRateLimiter(clock).
  std::unique_ptr<RateLimiter> rate_limiter;
  // From ControllerMetricFamilies::Register(registry); nullptr: no metrics.
  const ControllerMetricFamilies* metrics = nullptr;
  // Called on the worker thread after a terminal error, to record an Event and a condition
  // on the object. Must not block for long.
  std::function<void(const std::string& key, const Status& error)> on_terminal_error;
  // Called on the worker thread after a transient error (for logging); optional.
  std::function<void(const std::string& key, const Status& error)> on_error;
};

class Controller {
 public:
  Controller(ControllerOptions options, Reconciler& reconciler);
  // Stop()s.
  ~Controller();

  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Queues `key` for reconciliation (what informer event handlers call).
  void Enqueue(const std::string& key) { queue_.Add(key); }
  void EnqueueAfter(const std::string& key, Clock::Duration delay) { queue_.AddAfter(key, delay); }

  // Starts the worker threads. A second call, or a call after Stop, does nothing.
  void Start();
  // Shuts the queue down, lets the workers finish what is queued and in flight (client-go's
  // ShutDownWithDrain), and joins them. Delayed keys are dropped. Idempotent. Must not be
  // called from a reconciler (it joins the worker threads).
  void Stop();
  // Cancels: requests the stop token every reconcile receives (in-flight reconciles should
  // return at once), drops queued and delayed keys without reconciling them, waits until
  // every in-flight reconcile has returned, and joins the workers. What the Manager does when
  // leadership is lost or the process shuts down. Idempotent; Stop after Cancel does nothing.
  void Cancel();
  // True once Cancel was called.
  bool Cancelled() const { return stop_.stop_requested(); }
  // The token handed to reconciles (for work a reconciler starts that outlives one call).
  std::stop_token stop_token() const { return stop_.get_token(); }

  // Takes one key (blocking until one is ready or the queue shuts down), reconciles it and
  // applies the result. Returns false once the queue is shut down and empty. This is the
  // workers' loop body; tests and single-threaded callers may drive it directly.
  bool ProcessNextItem();

  WorkQueue& queue() { return queue_; }
  const std::string& name() const { return name_; }

 private:
  ReconcileResult RunReconciler(const std::string& key);
  void HandleResult(const std::string& key, const ReconcileResult& result);
  void RecordMetrics(const ReconcileResult& result, Clock::Duration took);

  const std::string name_;
  const int workers_;
  Clock& clock_;
  Reconciler& reconciler_;
  std::function<void(const std::string&, const Status&)> on_terminal_error_;
  std::function<void(const std::string&, const Status&)> on_error_;
  WorkQueue queue_;

  // ferry_controller_reconcile_total children, indexed by ReconcileResult::Kind.
  std::array<prometheus::Counter*, 5> reconcile_total_{};
  prometheus::Counter* reconcile_errors_ = nullptr;
  prometheus::Histogram* reconcile_duration_ = nullptr;

  std::stop_source stop_;
  std::mutex lifecycle_mu_;
  bool started_ = false;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ferry::controller

#include "controller/controller.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "log/log.h"

namespace ferry::controller {
namespace {

WorkQueueOptions QueueOptions(ControllerOptions& options) {
  WorkQueueOptions q;
  q.name = options.name;
  q.clock = options.clock;
  q.rate_limiter = std::move(options.rate_limiter);
  q.metrics = options.metrics != nullptr ? &options.metrics->workqueue : nullptr;
  return q;
}

constexpr ReconcileResult::Kind kAllKinds[] = {
    ReconcileResult::Kind::kSuccess, ReconcileResult::Kind::kRequeue,
    ReconcileResult::Kind::kRequeueAfter, ReconcileResult::Kind::kError,
    ReconcileResult::Kind::kTerminalError};

const char* KindLabel(ReconcileResult::Kind kind) {
  switch (kind) {
    case ReconcileResult::Kind::kSuccess: return "success";
    case ReconcileResult::Kind::kRequeue: return "requeue";
    case ReconcileResult::Kind::kRequeueAfter: return "requeue_after";
    case ReconcileResult::Kind::kError: return "error";
    case ReconcileResult::Kind::kTerminalError: return "terminal_error";
  }
  return "unknown";
}

}  // namespace

ReconcileResult ReconcileResult::WithStatus(Kind kind, Status status) {
  ReconcileResult r(kind);
  r.status_ = status.ok() ? InternalError("reconciler returned an error result with an OK status")
                          : std::move(status);
  return r;
}

const char* ReconcileResult::label() const { return KindLabel(kind_); }

Controller::Controller(ControllerOptions options, Reconciler& reconciler)
    : name_(options.name),
      workers_(std::max(options.workers, 1)),
      clock_(options.clock != nullptr ? *options.clock : RealClock::Get()),
      reconciler_(reconciler),
      on_terminal_error_(std::move(options.on_terminal_error)),
      on_error_(std::move(options.on_error)),
      queue_(QueueOptions(options)) {
  if (options.metrics != nullptr) {
    const ControllerMetricFamilies& m = *options.metrics;
    if (m.reconcile_total != nullptr) {
      // Every result series exists up front, so each reads 0 rather than being absent.
      for (auto kind : kAllKinds) {
        reconcile_total_[static_cast<size_t>(kind)] =
            &m.reconcile_total->Add({{"controller", name_}, {"result", KindLabel(kind)}});
      }
    }
    if (m.reconcile_errors != nullptr) {
      reconcile_errors_ = &m.reconcile_errors->Add({{"controller", name_}});
    }
    if (m.reconcile_duration != nullptr) {
      reconcile_duration_ =
          &m.reconcile_duration->Add({{"controller", name_}}, ReconcileDurationBuckets());
    }
  }
}

Controller::~Controller() { Stop(); }

void Controller::Start() {
  std::lock_guard<std::mutex> l(lifecycle_mu_);
  if (started_ || stopped_) return;
  started_ = true;
  threads_.reserve(static_cast<size_t>(workers_));
  for (int i = 0; i < workers_; ++i) {
    threads_.emplace_back([this] {
      while (ProcessNextItem()) {
      }
    });
  }
}

void Controller::Cancel() {
  stop_.request_stop();
  Stop();
}

void Controller::Stop() {
  std::lock_guard<std::mutex> l(lifecycle_mu_);
  if (stopped_) return;
  stopped_ = true;
  if (started_) {
    queue_.ShutDownWithDrain();
  } else {
    queue_.ShutDown();
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
}

bool Controller::ProcessNextItem() {
  std::optional<std::string> key = queue_.Get();
  if (!key.has_value()) return false;
  if (stop_.stop_requested()) {  // cancelled: drop the key without reconciling it
    queue_.Forget(*key);
    queue_.Done(*key);
    return true;
  }
  const auto start = clock_.Now();
  const ReconcileResult result = RunReconciler(*key);
  const Clock::Duration took = clock_.Now() - start;
  RecordMetrics(result, took);
  log::V(2)
      .Info(log::Obj("object", *key), "Reconciled")
      .With("controller", name_)
      .With("result", result.label())
      .With("durationSeconds", std::chrono::duration<double>(took).count());
  HandleResult(*key, result);
  queue_.Done(*key);
  return true;
}

ReconcileResult Controller::RunReconciler(const std::string& key) {
  // A reconciler is not supposed to throw; if one does (a bug, or a third-party exception
  // that escaped an adapter) the key is retried with backoff, like controller-runtime's
  // recovered panic, instead of killing the worker thread and the process.
  try {
    return reconciler_.Reconcile(key, stop_.get_token());
  } catch (const std::exception& e) {
    return ReconcileResult::Error(InternalError(std::string("reconciler threw: ") + e.what()));
  } catch (...) {
    return ReconcileResult::Error(InternalError("reconciler threw a non-standard exception"));
  }
}

void Controller::HandleResult(const std::string& key, const ReconcileResult& result) {
  switch (result.kind()) {
    case ReconcileResult::Kind::kSuccess: queue_.Forget(key); return;
    case ReconcileResult::Kind::kRequeue: queue_.AddRateLimited(key); return;
    case ReconcileResult::Kind::kRequeueAfter:
      queue_.Forget(key);
      queue_.AddAfter(key, result.requeue_after());
      return;
    case ReconcileResult::Kind::kError:
      queue_.AddRateLimited(key, result.status().retry_after().value_or(std::chrono::seconds(0)));
      if (on_error_) on_error_(key, result.status());
      return;
    case ReconcileResult::Kind::kTerminalError:
      queue_.Forget(key);
      if (on_terminal_error_) on_terminal_error_(key, result.status());
      return;
  }
}

void Controller::RecordMetrics(const ReconcileResult& result, Clock::Duration took) {
  if (auto* total = reconcile_total_[static_cast<size_t>(result.kind())]; total != nullptr) {
    total->Increment();
  }
  const bool is_error = result.kind() == ReconcileResult::Kind::kError ||
                        result.kind() == ReconcileResult::Kind::kTerminalError;
  if (is_error && reconcile_errors_ != nullptr) reconcile_errors_->Increment();
  if (reconcile_duration_ != nullptr) {
    reconcile_duration_->Observe(std::chrono::duration<double>(took).count());
  }
}

}  // namespace ferry::controller

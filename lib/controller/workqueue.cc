#include "controller/workqueue.h"

#include <algorithm>

namespace ferry::controller {

WorkQueue::WorkQueue(WorkQueueOptions options)
    : name_(std::move(options.name)),
      clock_(options.clock != nullptr ? *options.clock : RealClock::Get()),
      limiter_(options.rate_limiter != nullptr ? std::move(options.rate_limiter)
                                               : NewDefaultControllerRateLimiter(clock_)),
      max_idle_wait_(options.max_idle_wait > Duration::zero() ? options.max_idle_wait
                                                              : std::chrono::seconds(1)) {
  if (options.metrics != nullptr) {
    const prometheus::Labels labels{{"name", name_}};
    if (options.metrics->depth != nullptr) depth_ = &options.metrics->depth->Add(labels);
    if (options.metrics->adds != nullptr) adds_ = &options.metrics->adds->Add(labels);
    if (options.metrics->retries != nullptr) retries_ = &options.metrics->retries->Add(labels);
  }
  waiter_ = std::thread([this] { WaiterLoop(); });
}

WorkQueue::~WorkQueue() {
  ShutDown();
  if (waiter_.joinable()) waiter_.join();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  AddLocked(key);
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_) return;
  if (dirty_.contains(key)) return;  // already waiting (or re-add pending): de-duplicate
  if (adds_ != nullptr) adds_->Increment();
  dirty_.insert(key);
  if (processing_.contains(key)) return;  // re-queued by Done
  queue_.push_back(key);
  UpdateDepthLocked();
  cond_.notify_one();
}

void WorkQueue::AddAfter(const std::string& key, Duration delay) {
  std::lock_guard<std::mutex> l(mu_);
  if (shutting_down_) return;
  if (retries_ != nullptr) retries_->Increment();
  if (delay <= Duration::zero()) {
    AddLocked(key);
    return;
  }
  const auto ready_at = clock_.Now() + delay;
  auto it = waiting_ready_at_.find(key);
  if (it != waiting_ready_at_.end()) {
    if (it->second <= ready_at) return;  // keep the earlier ready time
    waiting_.erase({it->second, key});
    it->second = ready_at;
  } else {
    waiting_ready_at_.emplace(key, ready_at);
  }
  const bool earliest = waiting_.empty() || ready_at < waiting_.begin()->first;
  waiting_.emplace(ready_at, key);
  if (earliest) waiter_cond_.notify_one();
}

void WorkQueue::AddRateLimited(const std::string& key, Duration at_least) {
  AddAfter(key, std::max(limiter_->When(key), at_least));
}

void WorkQueue::Forget(const std::string& key) { limiter_->Forget(key); }

int WorkQueue::NumRequeues(const std::string& key) { return limiter_->NumRequeues(key); }

std::optional<std::string> WorkQueue::TakeLocked() {
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  UpdateDepthLocked();
  return key;
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock<std::mutex> l(mu_);
  ProcessDueLocked();
  cond_.wait(l, [this] { return !queue_.empty() || shutting_down_; });
  return TakeLocked();
}

std::optional<std::string> WorkQueue::GetFor(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  ProcessDueLocked();
  cond_.wait_for(l, timeout, [this] { return !queue_.empty() || shutting_down_; });
  return TakeLocked();
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  if (processing_.erase(key) == 0) return;
  if (dirty_.contains(key)) {
    queue_.push_back(key);
    UpdateDepthLocked();
    cond_.notify_one();
  }
  if (processing_.empty()) drain_cond_.notify_all();
}

void WorkQueue::ProcessDue() {
  std::lock_guard<std::mutex> l(mu_);
  ProcessDueLocked();
}

void WorkQueue::ProcessDueLocked() {
  if (waiting_.empty()) return;
  const auto now = clock_.Now();
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    auto node = waiting_.extract(waiting_.begin());
    waiting_ready_at_.erase(node.value().second);
    AddLocked(node.value().second);
  }
}

void WorkQueue::WaiterLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!shutting_down_) {
    ProcessDueLocked();
    Duration wait = max_idle_wait_;
    if (!waiting_.empty()) wait = std::min(wait, waiting_.begin()->first - clock_.Now());
    // Woken early by an AddAfter with an earlier ready time, or by shutdown.
    waiter_cond_.wait_for(l, wait);
  }
}

void WorkQueue::ShutDown() { ShutDownImpl(false); }

void WorkQueue::ShutDownWithDrain() { ShutDownImpl(true); }

void WorkQueue::ShutDownImpl(bool drain) {
  std::unique_lock<std::mutex> l(mu_);
  shutting_down_ = true;
  drain_ = drain;  // a plain ShutDown during a drain ends the drain's wait
  waiting_.clear();
  waiting_ready_at_.clear();
  cond_.notify_all();
  waiter_cond_.notify_all();
  drain_cond_.notify_all();
  if (drain) drain_cond_.wait(l, [this] { return processing_.empty() || !drain_; });
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard<std::mutex> l(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> l(mu_);
  return queue_.size();
}

size_t WorkQueue::NumWaiting() const {
  std::lock_guard<std::mutex> l(mu_);
  return waiting_.size();
}

size_t WorkQueue::NumProcessing() const {
  std::lock_guard<std::mutex> l(mu_);
  return processing_.size();
}

void WorkQueue::UpdateDepthLocked() {
  if (depth_ != nullptr) depth_->Set(static_cast<double>(queue_.size()));
}

}  // namespace ferry::controller

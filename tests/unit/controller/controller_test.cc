#include "controller/controller.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "metrics_testing.h"

namespace ferry::controller {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Value;

// Returns scripted results per key (Success once the script runs out) and records calls.
class ScriptedReconciler final : public Reconciler {
 public:
  explicit ScriptedReconciler(FakeClock* clock = nullptr) : clock_(clock) {}

  void Script(const std::string& key, std::vector<ReconcileResult> results) {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& r : results) script_[key].push_back(std::move(r));
  }
  // Each reconcile advances the fake clock by this much (to observe the duration metric).
  void SetTakes(Clock::Duration d) { takes_ = d; }
  void ThrowOn(const std::string& key) { throw_on_ = key; }

  ReconcileResult Reconcile(const std::string& key, std::stop_token) override {
    if (clock_ != nullptr && takes_ > Clock::Duration::zero()) clock_->Advance(takes_);
    std::lock_guard<std::mutex> l(mu_);
    calls_.push_back(key);
    if (key == throw_on_) throw std::runtime_error("boom");
    auto& q = script_[key];
    if (q.empty()) return ReconcileResult::Success();
    ReconcileResult r = q.front();
    q.pop_front();
    return r;
  }

  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }

 private:
  FakeClock* clock_;
  Clock::Duration takes_{};
  std::string throw_on_;
  std::mutex mu_;
  std::map<std::string, std::deque<ReconcileResult>> script_;
  std::vector<std::string> calls_;
};

struct HookCall {
  std::string key;
  Status status;
};

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = ControllerMetricFamilies::Register(registry_);
    ASSERT_TRUE(f.ok()) << f.status();
    families_ = *f;
  }

  std::unique_ptr<Controller> Make(Reconciler& r, int workers = 1) {
    ControllerOptions o;
    o.name = "vmm";
    o.workers = workers;
    o.clock = &clock_;
    o.metrics = &families_;
    o.on_terminal_error = [this](const std::string& key, const Status& s) {
      std::lock_guard<std::mutex> l(hook_mu_);
      terminal_.push_back({key, s});
    };
    o.on_error = [this](const std::string& key, const Status& s) {
      std::lock_guard<std::mutex> l(hook_mu_);
      errors_.push_back({key, s});
    };
    return std::make_unique<Controller>(std::move(o), r);
  }

  double Total(const std::string& result) {
    return Value(registry_, "ferry_controller_reconcile_total",
                 {{"controller", "vmm"}, {"result", result}});
  }
  double Errors() {
    return Value(registry_, "ferry_controller_reconcile_errors_total", {{"controller", "vmm"}});
  }

  FakeClock clock_;
  prometheus::Registry registry_;
  ControllerMetricFamilies families_;
  std::mutex hook_mu_;
  std::vector<HookCall> terminal_;
  std::vector<HookCall> errors_;
};

// One reconcile of "ns/a" after a first transient error (so the key has one requeue on
// record), then what the queue and the metrics look like.
TEST_F(ControllerTest, EveryResultBranch) {
  const struct {
    const char* name;
    ReconcileResult result;
    int want_requeues;          // NumRequeues after the second reconcile
    size_t want_waiting;        // delayed keys
    Clock::Duration due_after;  // when waiting: the key becomes ready after this long
    const char* label;
    double want_errors;  // errors_total after both reconciles (the first is an error)
    size_t want_terminal_hooks;
  } cases[] = {
      {"success forgets", ReconcileResult::Success(), 0, 0, {}, "success", 1, 0},
      {"error requeues rate-limited", ReconcileResult::Error(UnavailableError("apiserver down")), 2,
       1, milliseconds(10), "error", 2, 0},
      {"requeue is rate-limited without an error", ReconcileResult::Requeue(), 2, 1,
       milliseconds(10), "requeue", 1, 0},
      {"requeue_after forgets and adds after", ReconcileResult::RequeueAfter(seconds(30)), 0, 1,
       seconds(30), "requeue_after", 1, 0},
      {"terminal error forgets and does not retry",
       ReconcileResult::TerminalError(InvalidError("spec.targetNode is the source node")),
       0,
       0,
       {},
       "terminal_error",
       2,
       1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    prometheus::Registry registry;  // fresh metrics per case
    auto f = ControllerMetricFamilies::Register(registry);
    ASSERT_TRUE(f.ok());
    std::vector<HookCall> terminal;
    FakeClock clock;
    ScriptedReconciler rec;
    rec.Script("ns/a", {ReconcileResult::Error(UnavailableError("first")), c.result});
    ControllerOptions o;
    o.name = "vmm";
    o.clock = &clock;
    o.metrics = &*f;
    o.on_terminal_error = [&](const std::string& key, const Status& s) {
      terminal.push_back({key, s});
    };
    Controller ctl(std::move(o), rec);

    ctl.Enqueue("ns/a");
    ASSERT_TRUE(ctl.ProcessNextItem());
    EXPECT_EQ(ctl.queue().NumRequeues("ns/a"), 1);
    clock.Advance(milliseconds(5));  // the first retry's backoff
    ASSERT_TRUE(ctl.ProcessNextItem());
    EXPECT_EQ(rec.calls(), (std::vector<std::string>{"ns/a", "ns/a"}));

    EXPECT_EQ(ctl.queue().NumRequeues("ns/a"), c.want_requeues);
    EXPECT_EQ(ctl.queue().NumWaiting(), c.want_waiting);
    EXPECT_EQ(ctl.queue().Len(), 0u);
    EXPECT_EQ(ctl.queue().NumProcessing(), 0u);
    if (c.want_waiting > 0) {
      clock.Advance(c.due_after - Clock::Duration(1));
      ctl.queue().ProcessDue();
      EXPECT_EQ(ctl.queue().Len(), 0u) << "ready too early";
      clock.Advance(Clock::Duration(1));
      ctl.queue().ProcessDue();
      EXPECT_EQ(ctl.queue().Len(), 1u) << "not ready at the due time";
    }
    ASSERT_EQ(terminal.size(), c.want_terminal_hooks);
    if (!terminal.empty()) {
      EXPECT_EQ(terminal[0].key, "ns/a");
      EXPECT_EQ(terminal[0].status, c.result.status());
    }
    const std::map<std::string, std::string> labels{{"controller", "vmm"}, {"result", c.label}};
    const double want_total = std::string(c.label) == "error" ? 2 : 1;
    EXPECT_EQ(Value(registry, "ferry_controller_reconcile_total", labels), want_total);
    EXPECT_EQ(Value(registry, "ferry_controller_reconcile_errors_total", {{"controller", "vmm"}}),
              c.want_errors);
    EXPECT_EQ(Value(registry, "ferry_workqueue_retries_total", {{"name", "vmm"}}),
              1.0 + static_cast<double>(c.want_waiting));
  }
}

TEST_F(ControllerTest, EverySeriesExistsBeforeTheFirstReconcile) {
  ScriptedReconciler rec;
  auto ctl = Make(rec);
  for (const char* r : {"success", "error", "terminal_error", "requeue", "requeue_after"}) {
    EXPECT_EQ(Total(r), 0) << r;
  }
  EXPECT_EQ(Errors(), 0);
  EXPECT_EQ(Value(registry_, "ferry_workqueue_depth", {{"name", "vmm"}}), 0);
}

TEST_F(ControllerTest, TransientErrorBacksOffExponentiallyAndCallsTheErrorHook) {
  ScriptedReconciler rec;
  rec.Script("ns/a", {ReconcileResult::Error(UnavailableError("1")),
                      ReconcileResult::Error(UnavailableError("2")),
                      ReconcileResult::Error(UnavailableError("3"))});
  auto ctl = Make(rec);
  ctl->Enqueue("ns/a");
  for (auto backoff : {milliseconds(5), milliseconds(10), milliseconds(20)}) {
    ASSERT_TRUE(ctl->ProcessNextItem());
    clock_.Advance(backoff - Clock::Duration(1));
    EXPECT_EQ(ctl->queue().GetFor(milliseconds(0)), std::nullopt)
        << "retried before " << backoff.count() << "ms";
    clock_.Advance(Clock::Duration(1));
    ctl->queue().ProcessDue();
    ASSERT_EQ(ctl->queue().Len(), 1u);
  }
  ASSERT_TRUE(ctl->ProcessNextItem());  // script exhausted: success
  EXPECT_EQ(ctl->queue().NumRequeues("ns/a"), 0);
  EXPECT_EQ(Total("error"), 3);
  EXPECT_EQ(Total("success"), 1);
  ASSERT_EQ(errors_.size(), 3u);
  EXPECT_EQ(errors_[2].status, UnavailableError("3"));
  EXPECT_TRUE(terminal_.empty());
}

TEST_F(ControllerTest, TransientErrorWaitsAtLeastTheServersRetryAfter) {
  ScriptedReconciler rec;
  Status throttled(StatusCode::kTooManyRequests, "429 from apiserver");
  throttled.set_retry_after(seconds(3));
  rec.Script("ns/a", {ReconcileResult::Error(throttled)});
  auto ctl = Make(rec);
  ctl->Enqueue("ns/a");
  ASSERT_TRUE(ctl->ProcessNextItem());
  clock_.Advance(seconds(3) - Clock::Duration(1));  // the limiter alone would say 5 ms
  ctl->queue().ProcessDue();
  EXPECT_EQ(ctl->queue().Len(), 0u);
  clock_.Advance(Clock::Duration(1));
  ctl->queue().ProcessDue();
  EXPECT_EQ(ctl->queue().Len(), 1u);
  EXPECT_EQ(ctl->queue().NumRequeues("ns/a"), 1);
}

TEST_F(ControllerTest, ThrowingReconcilerIsATransientErrorNotACrash) {
  ScriptedReconciler rec;
  rec.ThrowOn("ns/bad");
  auto ctl = Make(rec);
  ctl->Enqueue("ns/bad");
  ASSERT_TRUE(ctl->ProcessNextItem());
  EXPECT_EQ(ctl->queue().NumRequeues("ns/bad"), 1);
  EXPECT_EQ(Total("error"), 1);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0].status.code(), StatusCode::kInternal);
  EXPECT_NE(errors_[0].status.message().find("boom"), std::string::npos);
}

TEST_F(ControllerTest, ErrorResultWithOkStatusCarriesAnInternalError) {
  EXPECT_EQ(ReconcileResult::Error(OkStatus()).status().code(), StatusCode::kInternal);
  EXPECT_EQ(ReconcileResult::TerminalError(OkStatus()).status().code(), StatusCode::kInternal);
  EXPECT_TRUE(ReconcileResult::Success().status().ok());
}

TEST_F(ControllerTest, DurationHistogramUsesTheInjectedClock) {
  ScriptedReconciler rec(&clock_);
  rec.SetTakes(milliseconds(300));
  auto ctl = Make(rec);
  ctl->Enqueue("ns/a");
  ctl->Enqueue("ns/b");
  ASSERT_TRUE(ctl->ProcessNextItem());
  ASSERT_TRUE(ctl->ProcessNextItem());
  auto m = testing::FindMetric(registry_, "ferry_controller_reconcile_duration_seconds",
                               {{"controller", "vmm"}});
  ASSERT_TRUE(m.has_value());
  const auto& h = m->metric.histogram;
  EXPECT_EQ(h.sample_count, 2u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 0.6);
  for (const auto& bucket : h.bucket) {
    // Cumulative buckets: none at or below 0.25 s, both from 0.5 s up.
    EXPECT_EQ(bucket.cumulative_count, bucket.upper_bound < 0.3 ? 0u : 2u) << bucket.upper_bound;
  }
}

// A key enqueued again while its reconcile runs (an event arrives mid-reconcile) is
// reconciled once more afterwards — level-triggered, nothing lost.
class ReenqueueingReconciler final : public Reconciler {
 public:
  Controller* ctl = nullptr;
  int calls = 0;
  ReconcileResult Reconcile(const std::string& key, std::stop_token) override {
    if (++calls == 1) {
      ctl->Enqueue(key);
      ctl->Enqueue(key);  // twice: still one more reconcile
    }
    return ReconcileResult::Success();
  }
};

TEST_F(ControllerTest, KeyEnqueuedDuringItsReconcileIsReconciledOnceMore) {
  ReenqueueingReconciler rec;
  auto ctl = Make(rec);
  rec.ctl = ctl.get();
  ctl->Enqueue("ns/a");
  ASSERT_TRUE(ctl->ProcessNextItem());
  EXPECT_EQ(ctl->queue().Len(), 1u);
  ASSERT_TRUE(ctl->ProcessNextItem());
  EXPECT_EQ(ctl->queue().Len(), 0u);
  EXPECT_EQ(rec.calls, 2);
}

TEST_F(ControllerTest, ProcessNextItemIsFalseAfterStopAndStopIsIdempotent) {
  ScriptedReconciler rec;
  auto ctl = Make(rec);
  ctl->Stop();
  ctl->Stop();
  ctl->Start();  // after Stop: no workers
  ctl->Enqueue("ns/a");
  EXPECT_FALSE(ctl->ProcessNextItem());
  EXPECT_TRUE(rec.calls().empty());
}

// Workers on a real queue: keys are enqueued repeatedly while they are being reconciled;
// no key is ever reconciled by two workers at once, and Stop drains every queued key.
class OverlapCheckingReconciler final : public Reconciler {
 public:
  ReconcileResult Reconcile(const std::string& key, std::stop_token) override {
    {
      std::lock_guard<std::mutex> l(mu);
      if (!in_flight.insert(key).second) ++overlaps;
      ++reconciles[key];
    }
    std::this_thread::yield();
    {
      std::lock_guard<std::mutex> l(mu);
      in_flight.erase(key);
    }
    return ReconcileResult::Success();
  }
  std::mutex mu;
  std::set<std::string> in_flight;
  std::map<std::string, int> reconciles;
  int overlaps = 0;
};

TEST_F(ControllerTest, WorkersNeverReconcileOneKeyConcurrentlyAndStopDrains) {
  OverlapCheckingReconciler rec;
  auto ctl = Make(rec, /*workers=*/4);
  ctl->Start();
  ctl->Start();  // no-op
  constexpr int kKeys = 20;
  std::vector<std::thread> producers;
  for (int p = 0; p < 2; ++p) {
    producers.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) ctl->Enqueue("ns/vm-" + std::to_string(i % kKeys));
    });
  }
  for (auto& t : producers) t.join();
  ctl->Enqueue("ns/last");
  ctl->Stop();
  std::lock_guard<std::mutex> l(rec.mu);
  EXPECT_EQ(rec.overlaps, 0);
  EXPECT_EQ(rec.reconciles.size(),
            static_cast<size_t>(kKeys + 1));  // every key, incl. the last add
  EXPECT_EQ(rec.reconciles["ns/last"], 1);
  EXPECT_EQ(ctl->queue().Len(), 0u);
  double total = Total("success");
  int sum = 0;
  for (const auto& [k, n] : rec.reconciles) sum += n;
  EXPECT_EQ(total, sum);
}

}  // namespace
}  // namespace ferry::controller

namespace ferry::controller {
namespace {

// Cancel: the in-flight reconcile sees its stop token requested and returns; keys still
// queued are dropped without being reconciled; Cancel returns only after the in-flight
// reconcile has returned.
TEST(ControllerCancelTest, InFlightReconcileSeesStopAndQueuedKeysAreDropped) {
  std::mutex mu;
  std::condition_variable cv;
  bool in_flight = false;
  std::atomic<bool> returned{false};
  std::vector<std::string> reconciled;
  FuncReconciler rec([&](const std::string& key, std::stop_token stop) {
    {
      std::lock_guard<std::mutex> l(mu);
      reconciled.push_back(key);
      in_flight = true;
    }
    cv.notify_all();
    std::mutex m;
    std::condition_variable_any wait;
    std::unique_lock<std::mutex> l(m);
    // Blocks until cancelled (a reconcile waiting on something slow, e.g. a long API call).
    EXPECT_TRUE(wait.wait_for(l, stop, std::chrono::seconds(30), [] { return false; }) == false);
    EXPECT_TRUE(stop.stop_requested());
    returned = true;
    return ReconcileResult::Success();
  });
  ControllerOptions o;
  o.name = "cancel";
  Controller ctl(std::move(o), rec);
  ctl.Enqueue("ns/a");
  ctl.Start();
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(10), [&] { return in_flight; }));
  }
  ctl.Enqueue("ns/b");
  ctl.Enqueue("ns/c");
  EXPECT_FALSE(ctl.Cancelled());
  ctl.Cancel();
  EXPECT_TRUE(returned.load());  // Cancel waited for the in-flight reconcile
  EXPECT_TRUE(ctl.Cancelled());
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(reconciled, std::vector<std::string>{"ns/a"});
}

}  // namespace
}  // namespace ferry::controller

#include "controller/workqueue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "metrics_testing.h"

namespace ferry::controller {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// How long a test lets a thread run to show that it is (still) blocked. Short: a blocked
// thread that wrongly returns is caught most of the time, and a correct one never fails.
constexpr auto kBlockedGrace = milliseconds(5);

WorkQueueOptions FakeClockOptions(FakeClock& clock) {
  WorkQueueOptions o;
  o.name = "test";
  o.clock = &clock;
  return o;
}

TEST(WorkQueueTest, DeduplicatesWaitingKeysAndKeepsFifoOrder) {
  FakeClock clock;
  WorkQueue q(FakeClockOptions(clock));
  q.Add("ns/a");
  q.Add("ns/b");
  q.Add("ns/a");
  q.Add("ns/a");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(q.Get(), "ns/a");
  EXPECT_EQ(q.Get(), "ns/b");
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.GetFor(milliseconds(1)), std::nullopt);
}

TEST(WorkQueueTest, KeyAddedWhileProcessingIsRequeuedOnlyAfterDone) {
  FakeClock clock;
  WorkQueue q(FakeClockOptions(clock));
  q.Add("a");
  ASSERT_EQ(q.Get(), "a");
  q.Add("a");
  q.Add("a");
  // Not handed to a second worker while the first holds it.
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.GetFor(milliseconds(1)), std::nullopt);
  EXPECT_EQ(q.NumProcessing(), 1u);
  q.Done("a");
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.Get(), "a");
  q.Done("a");
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.NumProcessing(), 0u);
}

TEST(WorkQueueTest, DoneWithoutRequeueLeavesQueueEmptyAndUnknownDoneIsIgnored) {
  FakeClock clock;
  WorkQueue q(FakeClockOptions(clock));
  q.Done("never-got");
  q.Add("a");
  ASSERT_EQ(q.Get(), "a");
  q.Done("a");
  q.Done("a");
  EXPECT_EQ(q.Len(), 0u);
  q.Add("a");  // a fresh add after Done is handed out again
  EXPECT_EQ(q.Get(), "a");
}

TEST(WorkQueueTest, GetBlocksUntilAnAdd) {
  FakeClock clock;
  WorkQueue q(FakeClockOptions(clock));
  std::atomic<bool> returned{false};
  std::optional<std::string> got;
  std::thread t([&] {
    got = q.Get();
    returned = true;
  });
  std::this_thread::sleep_for(kBlockedGrace);
  EXPECT_FALSE(returned.load());
  q.Add("x");
  t.join();
  EXPECT_EQ(got, "x");
}

TEST(WorkQueueTest, ShutDownWakesBlockedGet) {
  FakeClock clock;
  WorkQueue q(FakeClockOptions(clock));
  std::optional<std::string> got = "unset";
  std::thread t([&] { got = q.Get(); });
  std::this_thread::sleep_for(kBlockedGrace);
  q.ShutDown();
  t.join();
  EXPECT_EQ(got, std::nullopt);
  EXPECT_TRUE(q.ShuttingDown());
}

TEST(WorkQueueTest, ShutDownHandsOutQueuedKeysThenStopsAndIgnoresAdds) {
  FakeClock clock;
  WorkQueue q(FakeClockOptions(clock));
  q.Add("a");
  q.AddAfter("delayed", seconds(1));
  q.ShutDown();
  q.Add("b");
  q.AddAfter("c", Clock::Duration::zero());
  q.AddRateLimited("d");
  clock.Advance(seconds(5));
  EXPECT_EQ(q.NumWaiting(), 0u);  // delayed keys are dropped
  EXPECT_EQ(q.Get(), "a");
  EXPECT_EQ(q.Get(), std::nullopt);
  q.Done("a");
}

TEST(WorkQueueTest, ShutDownWithDrainWaitsForKeysInFlight) {
  FakeClock clock;
  WorkQueue q(FakeClockOptions(clock));
  q.Add("a");
  ASSERT_EQ(q.Get(), "a");
  std::atomic<bool> drained{false};
  std::thread t([&] {
    q.ShutDownWithDrain();
    drained = true;
  });
  std::this_thread::sleep_for(kBlockedGrace);
  EXPECT_FALSE(drained.load());
  EXPECT_TRUE(q.ShuttingDown());
  q.Done("a");
  t.join();
  EXPECT_TRUE(drained.load());
}

TEST(WorkQueueTest, ShutDownWithDrainReturnsAtOnceWhenNothingIsInFlight) {
  FakeClock clock;
  WorkQueue q(FakeClockOptions(clock));
  q.ShutDownWithDrain();
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(WorkQueueTest, PlainShutDownEndsAPendingDrain) {
  FakeClock clock;
  WorkQueue q(FakeClockOptions(clock));
  q.Add("stuck");
  ASSERT_EQ(q.Get(), "stuck");
  std::thread t([&] { q.ShutDownWithDrain(); });
  std::this_thread::sleep_for(kBlockedGrace);
  q.ShutDown();
  t.join();  // would hang if the drain kept waiting for "stuck"
  EXPECT_EQ(q.NumProcessing(), 1u);
}

// Delayed adds: each step advances the fake clock, optionally adds after a delay, calls
// ProcessDue and checks which keys are ready (in order).
struct DelayStep {
  Clock::Duration advance;
  std::string add_key;  // empty: no add in this step
  Clock::Duration delay;
  std::vector<std::string> ready;  // keys handed out by Get after this step
};

TEST(WorkQueueTest, AddAfterBecomesReadyWhenTheClockReachesTheDueTime) {
  const struct {
    const char* name;
    std::vector<DelayStep> steps;
  } cases[] = {
      {"ready exactly at the due time",
       {{{}, "a", seconds(10), {}}, {seconds(9), "", {}, {}}, {seconds(1), "", {}, {"a"}}}},
      {"non-positive delay is an immediate add",
       {{{}, "a", Clock::Duration::zero(), {"a"}}, {{}, "b", -seconds(1), {"b"}}}},
      {"due keys come out in due order",
       {{{}, "late", seconds(3), {}},
        {{}, "early", seconds(1), {}},
        {{}, "mid", seconds(2), {}},
        {seconds(5), "", {}, {"early", "mid", "late"}}}},
      {"a second AddAfter keeps the earlier time",
       {{{}, "a", seconds(10), {}},
        {{}, "a", seconds(5), {}},
        {{}, "a", seconds(20), {}},
        {seconds(5), "", {}, {"a"}},
        {seconds(20), "", {}, {}}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClock clock;
    WorkQueue q(FakeClockOptions(clock));
    int step = 0;
    for (const auto& s : c.steps) {
      SCOPED_TRACE(step++);
      clock.Advance(s.advance);
      if (!s.add_key.empty()) q.AddAfter(s.add_key, s.delay);
      q.ProcessDue();
      // Hand out and finish everything ready now.
      std::vector<std::string> got;
      while (q.Len() > 0) {
        auto key = q.Get();
        ASSERT_TRUE(key.has_value());
        got.push_back(*key);
        q.Done(*key);
      }
      EXPECT_EQ(got, s.ready);
    }
  }
}

TEST(WorkQueueTest, DueKeyAlreadyQueuedIsDeduplicated) {
  FakeClock clock;
  WorkQueue q(FakeClockOptions(clock));
  q.AddAfter("a", seconds(1));
  q.Add("a");
  clock.Advance(seconds(1));
  q.ProcessDue();
  EXPECT_EQ(q.NumWaiting(), 0u);
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.Get(), "a");
  EXPECT_EQ(q.GetFor(milliseconds(1)), std::nullopt);
}

TEST(WorkQueueTest, GetItselfMovesDueKeys) {
  FakeClock clock;
  WorkQueue q(FakeClockOptions(clock));
  q.AddAfter("a", seconds(30));
  EXPECT_EQ(q.NumWaiting(), 1u);
  EXPECT_EQ(q.GetFor(milliseconds(1)), std::nullopt);
  clock.Advance(seconds(30));
  EXPECT_EQ(q.GetFor(milliseconds(1)), "a");
  EXPECT_EQ(q.NumWaiting(), 0u);
}

TEST(WorkQueueTest, ProcessDueWakesABlockedGet) {
  FakeClock clock;
  WorkQueue q(FakeClockOptions(clock));  // waiter thread sleeps up to 1 s of real time
  q.AddAfter("a", seconds(30));
  std::optional<std::string> got;
  std::thread t([&] { got = q.Get(); });
  std::this_thread::sleep_for(kBlockedGrace);
  clock.Advance(seconds(30));
  q.ProcessDue();
  t.join();
  EXPECT_EQ(got, "a");
}

TEST(WorkQueueTest, WaiterThreadNoticesAJumpedClockWithinMaxIdleWait) {
  FakeClock clock;
  WorkQueueOptions o = FakeClockOptions(clock);
  o.max_idle_wait = milliseconds(1);
  WorkQueue q(std::move(o));
  q.AddAfter("a", seconds(30));
  clock.Advance(seconds(30));
  // No ProcessDue: the waiter thread moves the key; Get only waits on its condition.
  std::thread t([&] { EXPECT_EQ(q.Get(), "a"); });
  t.join();
}

TEST(WorkQueueTest, RealClockDelayedAddIsHandedOutAfterTheDelay) {
  WorkQueueOptions o;
  o.name = "real";
  WorkQueue q(std::move(o));
  const auto start = std::chrono::steady_clock::now();
  q.AddAfter("a", milliseconds(3));
  EXPECT_EQ(q.Get(), "a");
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(3));
}

TEST(WorkQueueTest, AddRateLimitedBacksOffPerKeyUntilForget) {
  FakeClock clock;
  WorkQueueOptions o = FakeClockOptions(clock);
  o.rate_limiter = std::make_unique<ItemExponentialFailureRateLimiter>(seconds(1), seconds(60));
  WorkQueue q(std::move(o));

  q.AddRateLimited("a");  // 1 s
  EXPECT_EQ(q.NumRequeues("a"), 1);
  EXPECT_EQ(q.GetFor(milliseconds(1)), std::nullopt);
  clock.Advance(seconds(1));
  ASSERT_EQ(q.GetFor(milliseconds(1)), "a");
  q.Done("a");

  q.AddRateLimited("a");  // 2 s
  EXPECT_EQ(q.NumRequeues("a"), 2);
  clock.Advance(seconds(1));
  EXPECT_EQ(q.GetFor(milliseconds(1)), std::nullopt);
  clock.Advance(seconds(1));
  ASSERT_EQ(q.GetFor(milliseconds(1)), "a");
  q.Done("a");

  q.Forget("a");
  EXPECT_EQ(q.NumRequeues("a"), 0);
  q.AddRateLimited("a");  // back to 1 s
  clock.Advance(seconds(1));
  EXPECT_EQ(q.GetFor(milliseconds(1)), "a");
}

TEST(WorkQueueTest, AddRateLimitedWaitsAtLeastTheGivenDelay) {
  const struct {
    const char* name;
    Clock::Duration at_least;
    Clock::Duration want;  // limiter says 1 s
  } cases[] = {{"limiter longer", milliseconds(500), seconds(1)},
               {"at_least longer", seconds(4), seconds(4)},
               {"zero", Clock::Duration::zero(), seconds(1)}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClock clock;
    WorkQueueOptions o = FakeClockOptions(clock);
    o.rate_limiter = std::make_unique<ItemExponentialFailureRateLimiter>(seconds(1), seconds(60));
    WorkQueue q(std::move(o));
    q.AddRateLimited("a", c.at_least);
    clock.Advance(c.want - Clock::Duration(1));
    EXPECT_EQ(q.GetFor(milliseconds(0)), std::nullopt);
    clock.Advance(Clock::Duration(1));
    EXPECT_EQ(q.GetFor(milliseconds(0)), "a");
    EXPECT_EQ(q.NumRequeues("a"), 1);
  }
}

TEST(WorkQueueTest, MetricsTrackDepthEffectiveAddsAndRetries) {
  prometheus::Registry registry;
  auto families = WorkQueueMetricFamilies::Register(registry);
  ASSERT_TRUE(families.ok()) << families.status();
  FakeClock clock;
  WorkQueueOptions o = FakeClockOptions(clock);
  o.name = "vm";
  o.metrics = &*families;
  WorkQueue q(std::move(o));
  const std::map<std::string, std::string> labels{{"name", "vm"}};
  using testing::Value;

  EXPECT_EQ(Value(registry, "ferry_workqueue_depth", labels), 0);
  q.Add("a");
  q.Add("a");  // de-duplicated: not an add
  q.Add("b");
  EXPECT_EQ(Value(registry, "ferry_workqueue_depth", labels), 2);
  EXPECT_EQ(Value(registry, "ferry_workqueue_adds_total", labels), 2);
  ASSERT_EQ(q.Get(), "a");
  EXPECT_EQ(Value(registry, "ferry_workqueue_depth", labels), 1);
  q.AddRateLimited("a");
  q.AddAfter("c", seconds(1));
  EXPECT_EQ(Value(registry, "ferry_workqueue_retries_total", labels), 2);
  EXPECT_EQ(Value(registry, "ferry_workqueue_depth", labels), 1);  // delayed keys are not depth
  clock.Advance(seconds(1));
  q.ProcessDue();
  // "a" is still processing, so it only becomes dirty; "c" is queued.
  EXPECT_EQ(Value(registry, "ferry_workqueue_depth", labels), 2);
  EXPECT_EQ(Value(registry, "ferry_workqueue_adds_total", labels), 4);
  q.Done("a");
  EXPECT_EQ(Value(registry, "ferry_workqueue_depth", labels), 3);
}

// Several producers add keys with increasing versions while several workers process them.
// Checks the two promises: no key is ever held by two workers at once, and every add is
// followed by a processing that sees it (the last processing of each key sees its last
// version).
TEST(WorkQueueConcurrencyTest, NoKeyProcessedConcurrentlyAndEveryAddIsProcessed) {
  constexpr int kKeys = 40;
  constexpr int kProducers = 3;
  constexpr int kAddsPerProducer = 3000;
  constexpr int kWorkers = 4;
  WorkQueue q;  // real clock

  std::vector<std::atomic<int>> latest(kKeys);
  std::vector<int> seen(kKeys, -1);  // guarded by mu
  std::mutex mu;
  std::set<int> in_flight;  // guarded by mu
  std::atomic<int> overlaps{0};
  std::atomic<int> processed{0};

  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.Get()) {
        const int k = std::stoi(*key);
        {
          std::lock_guard<std::mutex> l(mu);
          if (!in_flight.insert(k).second) ++overlaps;
          seen[k] = latest[k].load();
        }
        std::this_thread::yield();
        {
          std::lock_guard<std::mutex> l(mu);
          in_flight.erase(k);
        }
        ++processed;
        q.Done(*key);
      }
    });
  }
  std::vector<std::thread> producers;
  std::atomic<int> version{0};
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kAddsPerProducer; ++i) {
        const int k = (i * 7 + p) % kKeys;
        int v = ++version;
        // Publish a version no older than the current one, then add.
        int cur = latest[k].load();
        while (cur < v && !latest[k].compare_exchange_weak(cur, v)) {
        }
        q.Add(std::to_string(k));
      }
    });
  }
  for (auto& t : producers) t.join();
  q.ShutDownWithDrain();
  for (auto& t : workers) t.join();

  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_GT(processed.load(), 0);
  EXPECT_LE(processed.load(), kProducers * kAddsPerProducer);
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(seen[k], latest[k].load()) << "key " << k;
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.NumProcessing(), 0u);
}

}  // namespace
}  // namespace ferry::controller

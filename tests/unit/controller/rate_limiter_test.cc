#include "controller/rate_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace ferry::controller {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Duration = RateLimiter::Duration;

// Per-item exponential limiter: the n-th When of one item, starting at 0.
struct ExponentialCase {
  const char* name;
  Duration base;
  Duration max;
  std::vector<Duration> expected;  // successive When("one") results
};

TEST(ItemExponentialFailureRateLimiterTest, Sequences) {
  const std::vector<ExponentialCase> cases = {
      {"client-go defaults",
       ItemExponentialFailureRateLimiter::kDefaultBase,
       ItemExponentialFailureRateLimiter::kDefaultMax,
       {milliseconds(5), milliseconds(10), milliseconds(20), milliseconds(40), milliseconds(80)}},
      {"caps at max",
       milliseconds(1),
       milliseconds(5),
       {milliseconds(1), milliseconds(2), milliseconds(4), milliseconds(5), milliseconds(5)}},
      {"max below base is raised to base",
       milliseconds(10),
       milliseconds(1),
       {milliseconds(10), milliseconds(10)}},
      {"non-positive base becomes 1ns",
       Duration::zero(),
       Duration(4),
       {Duration(1), Duration(2), Duration(4), Duration(4)}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ItemExponentialFailureRateLimiter limiter(c.base, c.max);
    for (size_t i = 0; i < c.expected.size(); ++i) {
      EXPECT_EQ(limiter.When("one"), c.expected[i]) << "requeue " << i;
      EXPECT_EQ(limiter.NumRequeues("one"), static_cast<int>(i + 1));
    }
  }
}

TEST(ItemExponentialFailureRateLimiterTest, DefaultReachesThousandSecondCapAndNeverOverflows) {
  ItemExponentialFailureRateLimiter limiter;
  Duration last{};
  // 5ms * 2^17 = 655.36 s < 1000 s; the 19th When (exponent 18) is the first at the cap.
  for (int i = 0; i < 18; ++i) last = limiter.When("k");
  EXPECT_EQ(last, milliseconds(655360));
  EXPECT_EQ(limiter.When("k"), seconds(1000));
  for (int i = 0; i < 2000; ++i) last = limiter.When("k");
  EXPECT_EQ(last, seconds(1000));
}

TEST(ItemExponentialFailureRateLimiterTest, ItemsAreIndependentAndForgetResets) {
  ItemExponentialFailureRateLimiter limiter(milliseconds(1), seconds(1));
  EXPECT_EQ(limiter.When("a"), milliseconds(1));
  EXPECT_EQ(limiter.When("a"), milliseconds(2));
  EXPECT_EQ(limiter.When("b"), milliseconds(1));
  EXPECT_EQ(limiter.NumRequeues("a"), 2);
  EXPECT_EQ(limiter.NumRequeues("b"), 1);
  EXPECT_EQ(limiter.NumRequeues("never"), 0);
  limiter.Forget("a");
  EXPECT_EQ(limiter.NumRequeues("a"), 0);
  EXPECT_EQ(limiter.When("a"), milliseconds(1));
  EXPECT_EQ(limiter.NumRequeues("b"), 1);
}

// Token bucket: a sequence of steps, each advancing the clock then calling When.
struct BucketStep {
  Duration advance;
  Duration expected;
};
struct BucketCase {
  const char* name;
  double qps;
  int burst;
  std::vector<BucketStep> steps;
};

TEST(BucketRateLimiterTest, Sequences) {
  const std::vector<BucketCase> cases = {
      {"burst then 1/qps per reservation",
       10,
       2,
       {{{}, {}},
        {{}, {}},
        {{}, milliseconds(100)},
        {{}, milliseconds(200)},
        {{}, milliseconds(300)}}},
      {"refill after the deficit is paid back",
       10,
       1,
       {{{}, {}},
        {{}, milliseconds(100)},
        {milliseconds(100), milliseconds(100)},
        {milliseconds(200), {}}}},
      {"refill never exceeds burst",
       10,
       2,
       {{{}, {}}, {{}, {}}, {seconds(100), {}}, {{}, {}}, {{}, milliseconds(100)}}},
      {"qps <= 0 means no limit", 0, 1, {{{}, {}}, {{}, {}}, {{}, {}}}},
      {"burst < 1 becomes 1", 1, 0, {{{}, {}}, {{}, seconds(1)}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClock clock;
    BucketRateLimiter limiter(clock, c.qps, c.burst);
    for (size_t i = 0; i < c.steps.size(); ++i) {
      clock.Advance(c.steps[i].advance);
      EXPECT_EQ(std::chrono::duration_cast<milliseconds>(limiter.When("x")),
                std::chrono::duration_cast<milliseconds>(c.steps[i].expected))
          << "step " << i;
    }
  }
}

TEST(BucketRateLimiterTest, DefaultsAllowBurstOfHundredThenTenPerSecond) {
  FakeClock clock;
  BucketRateLimiter limiter(clock);
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(limiter.When("k" + std::to_string(i)), Duration::zero()) << i;
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(limiter.When("a")), milliseconds(100));
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(limiter.When("b")), milliseconds(200));
  // The bucket is global: Forget and NumRequeues are per-item no-ops.
  limiter.Forget("a");
  EXPECT_EQ(limiter.NumRequeues("a"), 0);
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(limiter.When("a")), milliseconds(300));
}

class FixedLimiter final : public RateLimiter {
 public:
  FixedLimiter(Duration d, int requeues, int* forgets)
      : d_(d), requeues_(requeues), forgets_(forgets) {}
  Duration When(const std::string&) override { return d_; }
  void Forget(const std::string&) override { ++*forgets_; }
  int NumRequeues(const std::string&) override { return requeues_; }

 private:
  Duration d_;
  int requeues_;
  int* forgets_;
};

TEST(MaxOfRateLimiterTest, TakesTheWorstAndForgetsEverywhere) {
  struct Case {
    const char* name;
    std::vector<std::pair<Duration, int>> limiters;  // (When, NumRequeues)
    Duration want_when;
    int want_requeues;
  };
  const std::vector<Case> cases = {
      {"none", {}, Duration::zero(), 0},
      {"one", {{milliseconds(3), 2}}, milliseconds(3), 2},
      {"max of three",
       {{milliseconds(3), 7}, {milliseconds(9), 1}, {milliseconds(1), 0}},
       milliseconds(9),
       7},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    int forgets = 0;
    std::vector<std::unique_ptr<RateLimiter>> limiters;
    for (auto [d, n] : c.limiters)
      limiters.push_back(std::make_unique<FixedLimiter>(d, n, &forgets));
    limiters.push_back(nullptr);  // ignored, not dereferenced
    MaxOfRateLimiter limiter(std::move(limiters));
    EXPECT_EQ(limiter.When("x"), c.want_when);
    EXPECT_EQ(limiter.NumRequeues("x"), c.want_requeues);
    limiter.Forget("x");
    EXPECT_EQ(forgets, static_cast<int>(c.limiters.size()));
  }
}

TEST(DefaultControllerRateLimiterTest, ExponentialPerItemUntilTheBucketDominates) {
  FakeClock clock;
  auto limiter = NewDefaultControllerRateLimiter(clock);
  EXPECT_EQ(limiter->When("a"), milliseconds(5));
  EXPECT_EQ(limiter->When("a"), milliseconds(10));
  EXPECT_EQ(limiter->NumRequeues("a"), 2);
  limiter->Forget("a");
  EXPECT_EQ(limiter->NumRequeues("a"), 0);
  EXPECT_EQ(limiter->When("a"), milliseconds(5));
  // Three tokens used; 97 left. Exhaust them with distinct items (each at 5 ms) ...
  for (int i = 0; i < 97; ++i) ASSERT_EQ(limiter->When("i" + std::to_string(i)), milliseconds(5));
  // ... then the global bucket's 100 ms beats a fresh item's 5 ms.
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(limiter->When("fresh")), milliseconds(100));
}

TEST(RateLimiterConcurrencyTest, CountsEveryWhenFromManyThreads) {
  ItemExponentialFailureRateLimiter limiter(milliseconds(1), seconds(1));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) (void)limiter.When("shared");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(limiter.NumRequeues("shared"), 1000);
}

}  // namespace
}  // namespace ferry::controller

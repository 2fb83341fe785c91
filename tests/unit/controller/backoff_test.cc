#include "controller/backoff.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <vector>

namespace ferry::controller {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Duration = Backoff::Duration;

struct NoJitterCase {
  const char* name;
  Duration initial;
  Duration max;
  double factor;
  std::vector<Duration> expected;
};

TEST(BackoffTest, SequencesWithoutJitter) {
  const std::vector<NoJitterCase> cases = {
      {"doubles to the cap",
       milliseconds(100),
       milliseconds(1000),
       2.0,
       {milliseconds(100), milliseconds(200), milliseconds(400), milliseconds(800),
        milliseconds(1000), milliseconds(1000)}},
      {"factor 1.5",
       milliseconds(100),
       seconds(10),
       1.5,
       {milliseconds(100), milliseconds(150), milliseconds(225)}},
      {"factor below 1 becomes constant",
       milliseconds(100),
       seconds(1),
       0.5,
       {milliseconds(100), milliseconds(100)}},
      {"non-finite factor becomes constant",
       milliseconds(7),
       seconds(1),
       std::numeric_limits<double>::quiet_NaN(),
       {milliseconds(7), milliseconds(7)}},
      {"non-positive initial becomes 1 ms",
       Duration::zero(),
       milliseconds(3),
       2.0,
       {milliseconds(1), milliseconds(2), milliseconds(3)}},
      {"max below initial is raised to initial",
       seconds(2),
       seconds(1),
       2.0,
       {seconds(2), seconds(2)}},
      {"huge factor saturates at max",
       milliseconds(1),
       seconds(30),
       1e300,
       {milliseconds(1), seconds(30), seconds(30)}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClock clock;
    Backoff b(c.initial, c.max, c.factor, /*jitter=*/0.0, clock, /*seed=*/1);
    for (size_t i = 0; i < c.expected.size(); ++i) EXPECT_EQ(b.Next(), c.expected[i]) << i;
  }
}

TEST(BackoffTest, JitterStaysWithinBandAndUnderTheCap) {
  const struct {
    const char* name;
    double jitter;
    double low;  // fraction of the un-jittered delay
  } cases[] = {{"quarter", 0.25, 0.75},
               {"half", 0.5, 0.5},
               {"full", 1.0, 0.0},
               {"above 1 clamps to 1", 7.0, 0.0},
               {"negative clamps to 0", -1.0, 1.0}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClock clock;
    Backoff b(milliseconds(100), seconds(2), 2.0, c.jitter, clock, 42);
    bool varied = false;
    Duration first = b.Next();
    EXPECT_GE(first, std::chrono::duration_cast<Duration>(milliseconds(100) * c.low));
    EXPECT_LE(first, milliseconds(100));
    b.Reset();
    for (int i = 0; i < 200; ++i) {
      const Duration base = b.Current();
      const Duration d = b.Next();
      EXPECT_LE(d, base);
      EXPECT_LE(d, seconds(2));
      EXPECT_GE(d.count(),
                static_cast<Duration::rep>(static_cast<double>(base.count()) * c.low) - 1);
      if (d != base) varied = true;
    }
    EXPECT_EQ(varied, c.low < 1.0);  // jitter 0 never varies; any other jitter does
  }
}

TEST(BackoffTest, SameSeedSameSequenceOtherSeedDiffers) {
  FakeClock clock;
  Backoff a(milliseconds(10), seconds(5), 2.0, 0.5, clock, 7);
  Backoff b(milliseconds(10), seconds(5), 2.0, 0.5, clock, 7);
  Backoff c(milliseconds(10), seconds(5), 2.0, 0.5, clock, 8);
  std::vector<Duration> sa, sb, sc;
  for (int i = 0; i < 12; ++i) {
    sa.push_back(a.Next());
    sb.push_back(b.Next());
    sc.push_back(c.Next());
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(BackoffTest, ResetStartsOver) {
  FakeClock clock;
  Backoff b(milliseconds(100), seconds(10), 2.0, 0.0, clock, 1);
  b.Next();
  b.Next();
  EXPECT_EQ(b.Next(), milliseconds(400));
  b.Reset();
  EXPECT_EQ(b.Current(), milliseconds(100));
  EXPECT_EQ(b.Next(), milliseconds(100));
}

TEST(BackoffTest, QuietPeriodLongerThanResetAfterStartsOver) {
  const struct {
    const char* name;
    Duration reset_after;  // zero: default 4 * max
    Duration quiet;
    Duration want;
  } cases[] = {
      {"default: just under 4*max keeps growing", Duration::zero(), seconds(4), milliseconds(400)},
      {"default: past 4*max resets", Duration::zero(), seconds(4) + milliseconds(1),
       milliseconds(100)},
      {"explicit: past reset_after resets", seconds(2), seconds(3), milliseconds(100)},
      {"explicit: within reset_after keeps growing", seconds(2), seconds(1), milliseconds(400)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeClock clock;
    Backoff b(milliseconds(100), seconds(1), 2.0, 0.0, clock, 1, c.reset_after);
    EXPECT_EQ(b.Next(), milliseconds(100));
    EXPECT_EQ(b.Next(), milliseconds(200));
    clock.Advance(c.quiet);
    EXPECT_EQ(b.Next(), c.want);
  }
}

TEST(BackoffTest, HugeMaxDoesNotOverflowTheDefaultReset) {
  FakeClock clock;
  Backoff b(milliseconds(1), Duration::max(), 2.0, 0.0, clock, 1);
  EXPECT_EQ(b.Next(), milliseconds(1));
  clock.Advance(std::chrono::hours(24 * 365));
  EXPECT_EQ(b.Next(), milliseconds(2));  // reset_after saturated at Duration::max()
}

}  // namespace
}  // namespace ferry::controller

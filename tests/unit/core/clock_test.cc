#include "core/clock.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(FakeClockTest, MovesOnlyWhenAdvanced) {
  FakeClock clock;
  const auto t0 = clock.Now();
  const auto w0 = clock.WallNow();
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.Now() - t0, std::chrono::milliseconds(1500));
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(clock.WallNow() - w0).count(), 1500);
}

}  // namespace
}  // namespace ferry

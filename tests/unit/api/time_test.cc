#include "api/time.h"

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace ferry::api {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

WallTime At(int64_t unix_seconds, int64_t micros = 0) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(unix_seconds) +
                                                                  std::chrono::microseconds(micros)));
}

TEST(Time, FormatsRfc3339InUtcWithWholeSeconds) {
  EXPECT_EQ(FormatTime(At(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(At(1714564800)), "2024-05-01T12:00:00Z");
  EXPECT_EQ(FormatTime(At(1714564800, 999999)), "2024-05-01T12:00:00Z");  // truncates
  EXPECT_EQ(FormatTime(At(1709164800)), "2024-02-29T00:00:00Z");
  EXPECT_EQ(FormatTime(At(-1)), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatTime(At(4102444799)), "2099-12-31T23:59:59Z");
}

TEST(Time, FormatsMicroTimeWithSixDigits) {
  EXPECT_EQ(FormatMicroTime(At(1714564800, 123456)), "2024-05-01T12:00:00.123456Z");
  EXPECT_EQ(FormatMicroTime(At(1714564800)), "2024-05-01T12:00:00.000000Z");
  EXPECT_EQ(FormatMicroTime(At(-1, 500000)), "1969-12-31T23:59:59.500000Z");
}

TEST(Time, ParsesOffsetsAndFractions) {
  struct Case {
    const char* in;
    WallTime want;
  };
  const Case cases[] = {
      {"2024-05-01T12:00:00Z", At(1714564800)},
      {"2024-05-01T14:00:00+02:00", At(1714564800)},
      {"2024-05-01T07:30:00-04:30", At(1714564800)},
      {"2024-05-01T12:00:00.5Z", At(1714564800, 500000)},
      {"2024-05-01T12:00:00.123456Z", At(1714564800, 123456)},
      {"2024-05-01T12:00:00.123456789Z", At(1714564800, 123456) + std::chrono::duration_cast<WallTime::duration>(789ns)},
      {"1970-01-01T00:00:00Z", At(0)},
      {"1969-12-31T23:59:59Z", At(-1)},
      {"2024-02-29T00:00:00Z", At(1709164800)},
  };
  for (const auto& c : cases) {
    auto t = ParseTime(c.in);
    ASSERT_TRUE(t.ok()) << c.in << ": " << t.status();
    EXPECT_EQ(*t, c.want) << c.in;
  }
}

TEST(Time, BeforeTheEpochFractionsRoundTowardThePast) {  // found by fuzzing
  auto t = ParseTime("1969-12-31T23:59:59.2222222222Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatMicroTime(*t), "1969-12-31T23:59:59.222222Z");
  EXPECT_EQ(FormatTime(*t), "1969-12-31T23:59:59Z");
}

TEST(Time, TheClocksRangeEndsParse) {
  EXPECT_TRUE(ParseTime("2262-04-11T00:00:00Z").ok());
  EXPECT_TRUE(ParseTime("1678-09-22T00:00:00Z").ok());
}

TEST(Time, RejectsMalformedTimes) {
  for (const char* bad : {"", "2024-05-01", "2024-05-01 12:00:00Z", "2024-13-01T00:00:00Z",
                          "2024-05-01T24:00:00Z", "2024-05-01T12:00:00", "2024-05-01T12:00:00.Z",
                          "2024-05-01T12:00:00Zjunk", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
                          "2024-05-01T12:60:00Z", "24-05-01T12:00:00Z", "2024-05-01T12:00:00+0200",
                          "2024-05-01t12:00:00z", "yesterday",
                          // outside the int64 nanoseconds of the clock (found by fuzzing)
                          "3000-01-01T00:00:00Z", "1012-05-01T00:00:00Z", "2262-04-12T00:00:00Z"}) {
    auto t = ParseTime(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_NE(t.status().message().find("RFC3339"), std::string::npos);
    }
  }
}

TEST(Time, RoundTrips) {
  for (int64_t s : {int64_t{0}, int64_t{1714564800}, int64_t{-86401}, int64_t{4102444800}}) {
    auto t = ParseTime(FormatTime(At(s)));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(*t, At(s));
    auto m = ParseTime(FormatMicroTime(At(s, 654321)));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(*m, At(s, 654321));
  }
}

TEST(Duration, FormatsLikeGo) {
  // Go's time.Duration.String() table.
  const std::pair<nanoseconds, const char*> cases[] = {
      {0ns, "0s"},
      {1ns, "1ns"},
      {1100ns, "1.1µs"},
      {2200us, "2.2ms"},
      {3300ms, "3.3s"},
      {4min + 5s, "4m5s"},
      {4min + 5001ms, "4m5.001s"},
      {5h + 6min + 7001ms, "5h6m7.001s"},
      {8min + 1ns, "8m0.000000001s"},
      {300ms, "300ms"},
      {150s, "2m30s"},
      {1h, "1h0m0s"},
      {-5s, "-5s"},
      {-1ns, "-1ns"},
      {nanoseconds(std::numeric_limits<int64_t>::max()), "2562047h47m16.854775807s"},
      {nanoseconds(std::numeric_limits<int64_t>::min()), "-2562047h47m16.854775808s"},
  };
  for (const auto& [d, want] : cases) EXPECT_EQ(FormatDuration(d), want) << d.count();
}

TEST(Duration, ParsesLikeGo) {
  const std::pair<const char*, nanoseconds> cases[] = {
      {"0", 0ns},
      {"5s", 5s},
      {"30s", 30s},
      {"1478s", 1478s},
      {"-5s", -5s},
      {"+5s", 5s},
      {"-0", 0ns},
      {"5.0s", 5s},
      {"5.6s", 5600ms},
      {"5.s", 5s},
      {".5s", 500ms},
      {"1.004s", 1004ms},
      {"10ns", 10ns},
      {"11us", 11us},
      {"12µs", 12us},
      {"13ms", 13ms},
      {"15m", 15min},
      {"16h", 16h},
      {"3h30m", 3h + 30min},
      {"10.5s4m", 4min + 10500ms},
      {"-2m3.4s", -(2min + 3400ms)},
      {"1h2m3s4ms5us6ns", 1h + 2min + 3s + 4ms + 5us + 6ns},
      {"39h9m14.425s", 39h + 9min + 14425ms},
      {"52763797000ns", 52763797000ns},
      {"0.100000000000000000000h", 6min},
      {"9223372036854775807ns", nanoseconds(std::numeric_limits<int64_t>::max())},
      {"9223372036.854775807s", nanoseconds(std::numeric_limits<int64_t>::max())},
      {"-9223372036854775808ns", nanoseconds(std::numeric_limits<int64_t>::min())},
  };
  for (const auto& [in, want] : cases) {
    auto d = ParseDuration(in);
    ASSERT_TRUE(d.ok()) << in << ": " << d.status();
    EXPECT_EQ(d->count(), want.count()) << in;
  }
}

TEST(Duration, RejectsMalformedDurations) {
  for (const char* bad : {"", "3", "-", "s", ".", "-.", ".s", "+.s", "1d", "3000000h", "9223372036854775808ns",
                          "1.5.3s", "5 s", "300"}) {
    auto d = ParseDuration(bad);
    EXPECT_FALSE(d.ok()) << bad << " parsed as " << (d.ok() ? d->count() : 0);
    if (!d.ok()) {
      EXPECT_NE(d.status().message().find("duration"), std::string::npos);
    }
  }
}

TEST(Duration, FormatThenParseRoundTrips) {
  for (int64_t n : {int64_t{1}, int64_t{999}, int64_t{1500}, int64_t{123456789}, int64_t{3600000000000},
                    int64_t{-42000000}, std::numeric_limits<int64_t>::max()}) {
    auto d = ParseDuration(FormatDuration(nanoseconds(n)));
    ASSERT_TRUE(d.ok()) << FormatDuration(nanoseconds(n));
    EXPECT_EQ(d->count(), n);
  }
}

}  // namespace
}  // namespace ferry::api

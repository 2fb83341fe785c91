#include "core/status.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(StatusTest, CodesAndStrings) {
  struct Case {
    Status status;
    bool ok;
    bool transient;
    std::string text;
  };
  const Case cases[] = {
      {OkStatus(), true, false, "OK"},
      {NotFoundError("vm a"), false, false, "NotFound: vm a"},
      {ConflictError("stale"), false, false, "Conflict: stale"},
      {UnavailableError("reset"), false, true, "Unavailable: reset"},
      {Status(StatusCode::kTooManyRequests, "slow").set_http_status(429).set_retry_after(std::chrono::seconds(3)),
       false, true, "TooManyRequests (HTTP 429): slow (retry after 3s)"},
      {Status(StatusCode::kGone, "expired").set_http_status(410), false, false, "Gone (HTTP 410): expired"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.status.ok(), c.ok) << c.text;
    EXPECT_EQ(c.status.IsTransient(), c.transient) << c.text;
    EXPECT_EQ(c.status.ToString(), c.text);
  }
}

TEST(StatusTest, WithContextKeepsCode) {
  Status s = NotFoundError("x").WithContext("get vm");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "get vm: x");
  EXPECT_TRUE(OkStatus().WithContext("ignored").ok());
}

StatusOr<int> Parse(const std::string& s) {
  if (s.empty()) return InvalidError("empty");
  return static_cast<int>(s.size());
}

Status UseParse(const std::string& s, int* out) {
  auto v = Parse(s);
  FERRY_RETURN_IF_ERROR(v.status());
  *out = *v;
  return OkStatus();
}

TEST(StatusOrTest, ValueOrError) {
  auto good = Parse("abc");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 3);
  auto bad = Parse("");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalid);
  int out = 0;
  EXPECT_EQ(UseParse("", &out).code(), StatusCode::kInvalid);
  EXPECT_TRUE(UseParse("ab", &out).ok());
  EXPECT_EQ(out, 2);
}

TEST(StatusOrTest, OkStatusIsNotAValue) {
  StatusOr<int> v{OkStatus()};
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace ferry

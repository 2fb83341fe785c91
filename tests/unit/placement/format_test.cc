#include "placement/format.h"

#include <gtest/gtest.h>

namespace ferry::placement {
namespace {

struct BytesCase {
  int64_t bytes;
  const char* want;
};

TEST(FormatBytesTest, KubernetesStyle) {
  const BytesCase cases[] = {
      {0, "0"},
      {1023, "1023"},
      {kKi, "1Ki"},
      {4 * kGi, "4Gi"},
      {1536 * kMi, "1536Mi"},
      {2 * kTi, "2Ti"},
      {3000000000, "2.79Gi"},  // truncated, never overstated
      {kGi + 1, "1.00Gi"},
      {-2 * kGi, "-2Gi"},
      {INT64_MIN, "-7.99Ei"},
  };
  for (const BytesCase& c : cases) EXPECT_EQ(FormatBytes(c.bytes), c.want) << c.bytes;
}

TEST(FormatMillicoresTest, WholeCpusOrMillis) {
  EXPECT_EQ(FormatMillicores(4000), "4");
  EXPECT_EQ(FormatMillicores(2500), "2500m");
  EXPECT_EQ(FormatMillicores(0), "0");
  EXPECT_EQ(FormatMillicores(-1000), "-1");
}

TEST(FormatVersionTest, LibvirtEncoding) {
  EXPECT_EQ(FormatVersion(MakeVersion(9, 0, 0)), "9.0.0");
  EXPECT_EQ(FormatVersion(MakeVersion(7, 2, 11)), "7.2.11");
  EXPECT_EQ(MakeVersion(9, 1, 2), 9001002);
}

}  // namespace
}  // namespace ferry::placement

#include "controller/key.h"

#include <gtest/gtest.h>

namespace ferry::controller {
namespace {

TEST(KeyTest, MakeKey) {
  EXPECT_EQ(MakeKey("ns", "vm-1"), "ns/vm-1");
  EXPECT_EQ(MakeKey("", "node-1"), "node-1");
}

TEST(KeyTest, SplitKey) {
  const struct {
    const char* key;
    bool ok;
    ObjectKey want;
  } cases[] = {
      {"ns/vm-1", true, {"ns", "vm-1"}},
      {"node-1", true, {"", "node-1"}},
      {"", false, {}},
      {"/name", false, {}},
      {"ns/", false, {}},
      {"/", false, {}},
      {"a/b/c", false, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.key);
    auto got = SplitKey(c.key);
    ASSERT_EQ(got.ok(), c.ok) << got.status();
    if (c.ok) {
      EXPECT_EQ(*got, c.want);
      EXPECT_EQ(MakeKey(got->namespace_, got->name), c.key);
    } else {
      EXPECT_EQ(got.status().code(), StatusCode::kInvalid);
      EXPECT_FALSE(got.status().message().empty());
    }
  }
}

}  // namespace
}  // namespace ferry::controller

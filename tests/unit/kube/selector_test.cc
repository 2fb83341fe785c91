#include "kube/selector.h"

#include <gtest/gtest.h>

namespace ferry::kube {
namespace {

Json Labelled(Json labels) {
  return {{"metadata", {{"name", "x"}, {"labels", std::move(labels)}}}};
}

TEST(LabelSelectorTest, MatchesTable) {
  const Json a = Labelled({{"ferry.dev/node", "node-a"}, {"env", "prod"}});
  const Json b = Labelled({{"ferry.dev/node", "node-b"}});
  const Json none = {{"metadata", {{"name", "x"}}}};
  struct Case {
    std::string sel;
    bool a, b, none;
  };
  const Case cases[] = {
      {"", true, true, true},
      {"ferry.dev/node=node-a", true, false, false},
      {"ferry.dev/node==node-a", true, false, false},
      {"ferry.dev/node!=node-a", false, true, true},
      {"ferry.dev/node in (node-a, node-c)", true, false, false},
      {"ferry.dev/node notin (node-a)", false, true, true},
      {"env", true, false, false},
      {"!env", false, true, true},
      {"ferry.dev/node=node-a,env=prod", true, false, false},
      {"ferry.dev/node=node-a, env=dev", false, false, false},
  };
  for (const auto& c : cases) {
    auto s = LabelSelector::Parse(c.sel);
    ASSERT_TRUE(s.ok()) << c.sel << ": " << s.status();
    EXPECT_EQ(s->Matches(a), c.a) << c.sel;
    EXPECT_EQ(s->Matches(b), c.b) << c.sel;
    EXPECT_EQ(s->Matches(none), c.none) << c.sel;
  }
}

TEST(LabelSelectorTest, Invalid) {
  for (const char* bad : {"a in (b", "a)", "a,,b", "=x", "a foo (b)", "a b"}) {
    EXPECT_EQ(LabelSelector::Parse(bad).status().code(), StatusCode::kInvalid) << bad;
  }
}

}  // namespace
}  // namespace ferry::kube

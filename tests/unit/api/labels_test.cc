// Label values for every name the CRDs accept (docs/adr/0006 §8): a value a label cannot hold
// becomes `h-<40 hex of its SHA-256>` with the full value in the annotation of the same key.
#include "api/labels.h"

#include <gtest/gtest.h>

#include <vector>

namespace ferry::api {
namespace {

const std::string k253 = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                         std::string(63, 'c') + "." + std::string(61, 'd');

TEST(Labels, ShortValuesStayAsTheyAre) {
  for (const std::string& v :
       std::vector<std::string>{"", "web", "a.b-c_d", std::string(63, 'x')}) {
    SCOPED_TRACE(v);
    EXPECT_TRUE(IsValidLabelValue(v));
    EXPECT_EQ(LabelValue(v), v);
  }
}

TEST(Labels, LongOrInvalidValuesAreHashed) {
  ASSERT_EQ(k253.size(), 253u);
  for (const std::string& v : std::vector<std::string>{std::string(64, 'x'), k253, "-web", "a/b"}) {
    SCOPED_TRACE(v);
    EXPECT_FALSE(IsValidLabelValue(v));
    const std::string l = LabelValue(v);
    EXPECT_EQ(l.size(), 42u);
    EXPECT_EQ(l.rfind("h-", 0), 0u);
    EXPECT_TRUE(IsValidLabelValue(l));
    EXPECT_EQ(LabelValue(v), l) << "deterministic";
  }
  // The first 40 hex digits of SHA-256 (as `printf %s "$name" | sha256sum | cut -c1-40`): a
  // selector anyone can compute.
  EXPECT_EQ(LabelValue(std::string(64, 'x')), "h-7ce100971f64e7001e8fe5a51973ecdfe1ced42b");
  EXPECT_NE(LabelValue(std::string(64, 'x')), LabelValue(std::string(65, 'x')));
}

TEST(Labels, SetAndReadBackThroughTheAnnotation) {
  ObjectMeta m;
  SetLongLabel(&m, "ferry.dev/vm", k253);
  EXPECT_EQ(m.labels.at("ferry.dev/vm"), LabelValue(k253));
  EXPECT_EQ(m.annotations.at("ferry.dev/vm"), k253);
  EXPECT_EQ(FullLabelValue(m, "ferry.dev/vm"), k253);
  SetLongLabel(&m, "ferry.dev/vm", "web");
  EXPECT_EQ(m.labels.at("ferry.dev/vm"), "web");
  EXPECT_EQ(m.annotations.count("ferry.dev/vm"), 0u) << "a stale annotation is removed";
  EXPECT_EQ(FullLabelValue(m, "ferry.dev/vm"), "web");
  EXPECT_EQ(FullLabelValue(m, "ferry.dev/group-move"), std::nullopt);

  Json obj = {{"metadata", {{"name", "m"}}}};
  SetLongLabel(&obj, "ferry.dev/group-move", k253);
  EXPECT_EQ(obj["metadata"]["labels"]["ferry.dev/group-move"], LabelValue(k253));
  EXPECT_EQ(obj["metadata"]["annotations"]["ferry.dev/group-move"], k253);
  EXPECT_EQ(FullLabelValue(obj, "ferry.dev/group-move"), k253);
  EXPECT_EQ(FullLabelValue(obj, "ferry.dev/vm"), std::nullopt);
}

TEST(Labels, AVmNamedLikeAHashIsItsOwnName) {
  const std::string hashlike = LabelValue(k253);  // a valid VM name of 42 characters
  ObjectMeta m;
  SetLongLabel(&m, "ferry.dev/vm", hashlike);
  EXPECT_EQ(m.labels.at("ferry.dev/vm"), hashlike);
  EXPECT_EQ(FullLabelValue(m, "ferry.dev/vm"), hashlike);
  m.annotations["ferry.dev/vm"] = "something-else";  // an annotation that does not hash to it
  EXPECT_EQ(FullLabelValue(m, "ferry.dev/vm"), hashlike);
}

}  // namespace
}  // namespace ferry::api

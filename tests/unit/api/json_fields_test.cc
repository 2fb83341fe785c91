#include "api/json_fields.h"

#include <string>

#include <gtest/gtest.h>

#include "api/meta.h"

namespace ferry::api {
namespace {

using namespace std::chrono_literals;

TEST(FieldReader, ReadsPresentFieldsAndLeavesMissingOnesAlone) {
  Json j = {{"s", "x"}, {"b", true}, {"i", 7}, {"f", 2.0}, {"q", "1Gi"}, {"t", "2024-05-01T12:00:00Z"},
            {"d", "1m30s"}, {"m", {{"a", "1"}}}, {"l", {"p", "q"}}, {"n", nullptr}};
  FieldReader r(j, "spec");
  std::string s = "keep", missing = "keep", null_str = "keep";
  bool b = false;
  int64_t i = 0, f = 0;
  Quantity q;
  std::optional<WallTime> t;
  std::optional<std::chrono::nanoseconds> d;
  StringMap m;
  std::vector<std::string> l;
  r.String("s", &s);
  r.String("absent", &missing);
  r.String("n", &null_str);
  r.Bool("b", &b);
  r.Int("i", &i);
  r.Int("f", &f);
  r.Qty("q", &q);
  r.Time("t", &t);
  r.Duration("d", &d);
  r.StrMap("m", &m);
  r.StrList("l", &l);
  ASSERT_TRUE(r.status().ok()) << r.status();
  EXPECT_EQ(s, "x");
  EXPECT_EQ(missing, "keep");
  EXPECT_EQ(null_str, "keep");  // null is the same as missing
  EXPECT_TRUE(b);
  EXPECT_EQ(i, 7);
  EXPECT_EQ(f, 2);
  EXPECT_EQ(q.Value(), 1 << 30);
  EXPECT_EQ(FormatTime(*t), "2024-05-01T12:00:00Z");
  EXPECT_EQ(*d, 90s);
  EXPECT_EQ(m, (StringMap{{"a", "1"}}));
  EXPECT_EQ(l, (std::vector<std::string>{"p", "q"}));
}

TEST(FieldReader, ReportsTheFirstErrorWithItsPath) {
  struct Case {
    Json obj;
    std::string want;
  };
  const Case cases[] = {
      {{{"name", 3}}, "spec.name: must be a string, got number"},
      {{{"flag", "yes"}}, "spec.flag: must be a boolean, got string"},
      {{{"count", 1.5}}, "spec.count: must be an integer, got number"},
      {{{"count", "3"}}, "spec.count: must be an integer, got string"},
      {{{"count", 18446744073709551615ULL}}, "spec.count: integer out of range"},
      {{{"count", 2.1e62}}, "spec.count: must be an integer, got number"},  // found by fuzzing
      {{{"small", 4294967296LL}}, "spec.small: integer out of int32 range"},
      {{{"memory", "4Gx"}}, "spec.memory: invalid quantity \"4Gx\""},
      {{{"when", "noon"}}, "spec.when: invalid RFC3339 time \"noon\""},
      {{{"wait", "5"}}, "spec.wait: invalid duration \"5\": missing unit"},
      {{{"labels", {{"a", 1}}}}, "spec.labels.a: must be a string, got number"},
      {{{"labels", "a=b"}}, "spec.labels: must be a map of strings, got string"},
      {{{"list", {{"k", "v"}}}}, "spec.list: must be a list, got object"},
      {{{"list", {"ok", 2}}}, "spec.list[1]: must be a string, got number"},
      {{{"op", "Like"}}, "spec.op: unsupported value \"Like\" (accepted: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\")"},
      {{{"name", 3}, {"flag", "yes"}}, "spec.flag: must be a boolean"},  // first in read order
  };
  for (const auto& c : cases) {
    FieldReader r(c.obj, "spec");
    bool flag = false;
    std::string name;
    int64_t count = 0;
    int32_t small = 0;
    Quantity memory;
    std::optional<WallTime> when;
    std::optional<std::chrono::nanoseconds> wait;
    StringMap labels;
    std::vector<std::string> list;
    SelectorOperator op{};
    r.Bool("flag", &flag);
    r.String("name", &name);
    r.Int("count", &count);
    r.Int("small", &small);
    r.Qty("memory", &memory);
    r.Time("when", &when);
    r.Duration("wait", &wait);
    r.StrMap("labels", &labels);
    r.StrList("list", &list);
    r.Enum("op", &op);
    ASSERT_FALSE(r.status().ok()) << c.obj.dump();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalid);
    EXPECT_NE(r.status().message().find(c.want), std::string::npos)
        << "got: " << r.status().message() << "\nwant substring: " << c.want;
  }
}

TEST(FieldReader, RequireAndNonObjects) {
  const Json obj = {{"a", 1}};
  FieldReader r(obj, "spec");
  r.Require("a");
  EXPECT_TRUE(r.status().ok());
  r.Require("b");
  EXPECT_EQ(r.status().message(), "spec.b: Required value");
  // An empty string is no value: encoding omits it (found by fuzzing).
  const Json empty = {{"vmName", ""}};
  FieldReader e(empty, "spec");
  e.Require("vmName");
  EXPECT_EQ(e.status().message(), "spec.vmName: Required value");
  const Json array = Json::array();
  FieldReader arr(array, "status");
  EXPECT_EQ(arr.status().message(), "status: must be an object, got array");
  const Json null_json = nullptr;
  FieldReader null(null_json, "status");
  EXPECT_TRUE(null.status().ok());
}

TEST(Put, EmptyValuesRemoveKeysAndZeroesStayExplicit) {
  Json j = {{"s", "old"}, {"running", false}, {"n", 5}, {"list", {"a"}}, {"opt", 3}};
  PutString(j, "s", "");
  PutBool(j, "running", false);  // present: stays explicit
  PutBool(j, "absentFalse", false);
  PutInt(j, "n", 0);
  PutInt(j, "absentZero", 0);
  PutStrList(j, "list", {});
  PutOptInt(j, "opt", std::nullopt);
  EXPECT_EQ(j, (Json{{"running", false}, {"n", 0}}));
}

TEST(Put, KeepsEquivalentTextForQuantitiesTimesAndDurations) {
  Json j = {{"mem", "1024Mi"}, {"wait", "150s"}, {"at", "2024-05-01T14:00:00+02:00"}, {"cpu", 2}};
  PutQty(j, "mem", *Quantity::Parse("1Gi"));  // same value: keep the user's spelling
  PutDuration(j, "wait", 150s);
  auto at = ParseTime("2024-05-01T12:00:00Z");
  ASSERT_TRUE(at.ok());
  PutTime(j, "at", *at);
  PutQty(j, "cpu", Quantity::FromInt(2));
  EXPECT_EQ(j, (Json{{"mem", "1024Mi"}, {"wait", "150s"}, {"at", "2024-05-01T14:00:00+02:00"}, {"cpu", 2}}));
  PutQty(j, "mem", *Quantity::Parse("2Gi"));  // a new value is written canonically
  PutDuration(j, "wait", 90s);
  PutTime(j, "at", *at + 1s);
  PutQty(j, "cpu", *Quantity::Parse("1500m"));
  EXPECT_EQ(j, (Json{{"mem", "2Gi"}, {"wait", "1m30s"}, {"at", "2024-05-01T12:00:01Z"}, {"cpu", "1500m"}}));
}

TEST(Enum, ParseAndPrint) {
  EXPECT_EQ(ToString(ConditionStatus::kTrue), "True");
  auto s = ParseEnum<ConditionStatus>("False");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, ConditionStatus::kFalse);
  auto bad = ParseEnum<ConditionStatus>("true");  // case matters, as in Kubernetes
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "unsupported value \"true\" (accepted: \"True\", \"False\", \"Unknown\")");
}

TEST(Enum, DefaultedEnumIsNotAddedButKeptWhenPresent) {
  Json j = Json::object();
  PutEnum(j, "op", SelectorOperator::kIn, SelectorOperator::kIn);
  EXPECT_FALSE(j.contains("op"));
  j["op"] = "NotIn";
  PutEnum(j, "op", SelectorOperator::kIn, SelectorOperator::kIn);
  EXPECT_EQ(j["op"], "In");
}

TEST(CheckTypeMeta, MismatchIsAnError) {
  EXPECT_TRUE(CheckTypeMeta(Json::object(), "v1", "Node").ok());
  EXPECT_TRUE(CheckTypeMeta(Json{{"apiVersion", "v1"}, {"kind", "Node"}}, "v1", "Node").ok());
  auto s = CheckTypeMeta(Json{{"apiVersion", "v1"}, {"kind", "Pod"}}, "v1", "Node");
  EXPECT_EQ(s.message(), "kind: expected \"Node\", got \"Pod\"");
  EXPECT_FALSE(CheckTypeMeta(Json{{"apiVersion", "apps/v1"}}, "v1", "Node").ok());
  EXPECT_FALSE(CheckTypeMeta(Json::array(), "v1", "Node").ok());
}

}  // namespace
}  // namespace ferry::api

#include "output.h"

#include <gtest/gtest.h>

namespace ferry::kubectl {
namespace {

TEST(OutputFormatTest, ParsesKubectlNames) {
  EXPECT_EQ(*ParseOutputFormat(""), OutputFormat::kTable);
  EXPECT_EQ(*ParseOutputFormat("json"), OutputFormat::kJson);
  EXPECT_EQ(*ParseOutputFormat("yaml"), OutputFormat::kYaml);
  auto bad = ParseOutputFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalid);
}

TEST(TableTest, AlignsColumnsWithThreeSpacesAndNoTrailingBlanks) {
  Table t({"NODE", "VERDICT", "REASON"});
  t.AddRow({"node-a", "Rejected", "current node"});
  t.AddRow({"node-bb", "Selected"});  // a short row is padded with empty cells
  EXPECT_EQ(t.Render(),
            "NODE      VERDICT    REASON\n"
            "node-a    Rejected   current node\n"
            "node-bb   Selected\n");
}

TEST(YamlTest, KeepsOrderAndQuotesWhatWouldReadAsAnotherType) {
  Json m = Json::parse(R"({"node":"node-a","ready":true,"count":3,"word":"true","num":"42",
                          "empty":"","list":["x",1],"obj":{"k":null}})");
  const std::string y = ToYaml(m);
  EXPECT_NE(y.find("node: node-a\n"), std::string::npos) << y;
  EXPECT_NE(y.find("ready: true\n"), std::string::npos) << y;
  EXPECT_NE(y.find("count: 3\n"), std::string::npos) << y;
  EXPECT_NE(y.find("word: \"true\"\n"), std::string::npos) << y;
  EXPECT_NE(y.find("num: \"42\"\n"), std::string::npos) << y;
  EXPECT_NE(y.find("empty: \"\"\n"), std::string::npos) << y;
  EXPECT_NE(y.find("  - x\n  - 1\n"), std::string::npos) << y;
  EXPECT_LT(y.find("node:"), y.find("ready:"));  // the model's order (nlohmann sorts keys)
}

TEST(RenderDataTest, JsonIsIndentedAndParsesBack) {
  Json m = {{"a", 1}, {"b", {{"c", "d"}}}};
  const std::string j = RenderData(m, OutputFormat::kJson);
  EXPECT_EQ(Json::parse(j), m);
  EXPECT_NE(j.find("\n  \"a\": 1"), std::string::npos) << j;
}

TEST(ModelFieldsTest, MissingOrWrongTypesAreEmpty) {
  Json m = {{"s", "x"}, {"i", 7}};
  EXPECT_EQ(Str(m, "s"), "x");
  EXPECT_EQ(Str(m, "i"), "");
  EXPECT_EQ(Str(m, "none"), "");
  EXPECT_EQ(Int(m, "i"), 7);
  EXPECT_EQ(Int(m, "s"), 0);
  EXPECT_EQ(Int(Json::array(), "i"), 0);
}

}  // namespace
}  // namespace ferry::kubectl

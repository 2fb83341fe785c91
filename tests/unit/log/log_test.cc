#include "log/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ferry::log {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Lines(const std::string &s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// Captures what lib/log writes; restores text at -v 0 and stderr afterwards.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override { SetOutputForTesting(&out_); }
  void TearDown() override {
    Configure(Options{});
    SetOutputForTesting(nullptr);
  }
  std::ostringstream out_;
};

TEST(RenderTextTest, QuotesTheMessageAndNamesTheObjectFirst) {
  Record r;
  r.about = Obj("vmm", "default/web-1");
  r.message = "Phase changed";
  r.fields = {{"phase", std::string("Running")},
              {"attempt", int64_t{3}},
              {"ratio", 0.25},
              {"postCopy", true},
              {"vm", Obj("vm", "default", "web")},
              {"bad key", std::string("x")}};
  EXPECT_EQ(RenderText(r),
            R"("Phase changed" vmm="default/web-1" phase="Running" attempt=3 ratio=0.25 )"
            R"(postCopy=true vm="default/web" bad_key="x")");
}

TEST(RenderTextTest, EscapesSoARecordStaysOnOneLine) {
  Record r;
  r.about = Obj("node", "node-a");  // cluster-scoped: no namespace
  r.message = "libvirt said \"no\"\nsecond line\t\x01";
  r.fields = {{"path", std::string("C:\\x")}};
  EXPECT_EQ(RenderText(r),
            R"("libvirt said \"no\"\nsecond line\t\x01" node="node-a" path="C:\\x")");
}

TEST(RenderJsonTest, FollowsKubernetesJsonSchema) {
  Record r;
  r.verbosity = 2;
  r.about = Obj("vmm", "ns1/m1");
  r.message = "Progress";
  r.fields = {{"percent", int64_t{42}},
              {"rate", 1.5},
              {"nan", std::nan("")},
              {"ok", false},
              {"node", Obj("node", "node-b")},
              {"bytes", std::string("\xff\xfe")}};  // invalid UTF-8 is replaced, never thrown
  const auto j = nlohmann::json::parse("{" + RenderJson(r) + "}");
  EXPECT_EQ(j["v"], 2);
  EXPECT_EQ(j["msg"], "Progress");
  EXPECT_EQ(j["vmm"], (nlohmann::json{{"name", "m1"}, {"namespace", "ns1"}}));
  EXPECT_EQ(j["percent"], 42);
  EXPECT_EQ(j["rate"], 1.5);
  EXPECT_EQ(j["nan"], "NaN");
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["node"], (nlohmann::json{{"name", "node-b"}}));
  EXPECT_TRUE(j["bytes"].is_string());
}

TEST(ObjTest, SplitsInformerKeys) {
  EXPECT_EQ(Obj("vm", "a/b").ns, "a");
  EXPECT_EQ(Obj("vm", "a/b").name, "b");
  EXPECT_EQ(Obj("node", "n1").ns, "");
  EXPECT_EQ(Obj("node", "n1").Key(), "n1");
  EXPECT_EQ(Obj("vm", "a", "b").Key(), "a/b");
}

TEST(ParseFormatTest, TextAndJsonOnly) {
  EXPECT_EQ(*ParseFormat("text"), Format::kText);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_FALSE(ParseFormat("yaml").ok());
}

TEST_F(LogTest, TextLineHasKlogHeader) {
  Info(Obj("lease", "ferry-system/ferry-operator"), "Acquired the lease").With("holder", "op-1");
  Warning(Obj("node", "node-a"), "Heartbeat late");
  Error(Obj("vm", "default/x"), "Cannot define").Err(UnavailableError("libvirtd down"));
  const auto lines = Lines(out_.str());
  ASSERT_EQ(lines.size(), 3u) << out_.str();
  const std::regex header(R"(^([IWE])\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ log_test\.cc:\d+\] (.*)$)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[0], m, header)) << lines[0];
  EXPECT_EQ(m[1], "I");
  EXPECT_EQ(m[2], R"("Acquired the lease" lease="ferry-system/ferry-operator" holder="op-1")");
  ASSERT_TRUE(std::regex_match(lines[1], m, header)) << lines[1];
  EXPECT_EQ(m[1], "W");
  ASSERT_TRUE(std::regex_match(lines[2], m, header)) << lines[2];
  EXPECT_EQ(m[1], "E");
  EXPECT_THAT(lines[2], HasSubstr(R"(vm="default/x" err="Unavailable: libvirtd down")"));
}

TEST_F(LogTest, JsonLineIsOneObjectWithCaller) {
  Configure(Options{Format::kJson, 0});
  Info(Obj("vmm", "ns/m"), "Succeeded").With("downtimeSeconds", 0.012);
  Error(Obj("vmm", "ns/m"), "Failed").Err(InvalidError("bad"));
  const auto lines = Lines(out_.str());
  ASSERT_EQ(lines.size(), 2u) << out_.str();
  const auto a = nlohmann::json::parse(lines[0]);
  EXPECT_TRUE(a["ts"].is_number_float());
  EXPECT_GT(a["ts"].get<double>(), 1.6e9);
  EXPECT_THAT(a["caller"].get<std::string>(), ::testing::MatchesRegex(R"(log_test\.cc:[0-9]+)"));
  EXPECT_EQ(a["level"], "info");
  EXPECT_EQ(a["v"], 0);
  EXPECT_EQ(a["msg"], "Succeeded");
  EXPECT_EQ(a["vmm"]["namespace"], "ns");
  EXPECT_EQ(a["downtimeSeconds"], 0.012);
  const auto b = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(b["level"], "error");
  EXPECT_EQ(b["err"], "Invalid: bad");
}

TEST_F(LogTest, VerbosityFiltersInfoLinesOnly) {
  Configure(Options{Format::kText, 2});
  EXPECT_TRUE(V(2).enabled());
  EXPECT_FALSE(V(3).enabled());
  V(2).Info(Obj("informer", "virtualmachines"), "shown at 2");
  V(3).Info(Obj("informer", "virtualmachines"), "hidden at 3").With("k", "v");
  Warning(Obj("informer", "virtualmachines"), "warnings always");
  Configure(Options{Format::kText, 0});
  V(1).Info(Obj("informer", "virtualmachines"), "hidden at 1");
  Info(Obj("informer", "virtualmachines"), "level 0 always");
  const std::string s = out_.str();
  EXPECT_THAT(s, HasSubstr("shown at 2"));
  EXPECT_THAT(s, Not(HasSubstr("hidden")));
  EXPECT_THAT(s, HasSubstr("warnings always"));
  EXPECT_THAT(s, HasSubstr("level 0 always"));
  EXPECT_EQ(Lines(s).size(), 3u);
}

TEST_F(LogTest, JsonCarriesTheVerbosityOfTheLine) {
  Configure(Options{Format::kJson, 4});
  V(4).Info(Obj("process", "ferry-operator"), "Request");
  EXPECT_EQ(nlohmann::json::parse(out_.str())["v"], 4);
}

TEST_F(LogTest, ConcurrentLinesStayWhole) {
  Configure(Options{Format::kJson, 0});
  constexpr int kThreads = 4, kLines = 200;
  {
    std::vector<std::jthread> ts;
    for (int t = 0; t < kThreads; ++t) {
      ts.emplace_back([t] {
        for (int i = 0; i < kLines; ++i) {
          Info(Obj("vm", "ns/vm-" + std::to_string(t)), "Line")
              .With("i", i)
              .With("pad", std::string(200, 'x'));
        }
      });
    }
  }
  const auto lines = Lines(out_.str());
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  for (const auto &l : lines) EXPECT_TRUE(nlohmann::json::accept(l)) << l;
}

TEST_F(LogTest, MovedLineIsWrittenOnce) {
  {
    Line a = Info(Obj("vm", "ns/a"), "once");
    Line b(std::move(a));
    b.With("k", 1);
  }
  EXPECT_EQ(Lines(out_.str()).size(), 1u);
  EXPECT_THAT(out_.str(), HasSubstr(R"("once" vm="ns/a" k=1)"));
}

}  // namespace
}  // namespace ferry::log

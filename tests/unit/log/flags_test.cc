#include "log/flags.h"

#include <gtest/gtest.h>

#include <sstream>

namespace ferry::log {
namespace {

class LogFlagsTest : public ::testing::Test {
 protected:
  void TearDown() override { Configure(Options{}); }
  // Parses `args` (after the program name) with only the logging flags.
  int Parse(std::vector<std::string> args, Options *o) {
    CLI::App app{"test"};
    AddFlags(app, o);
    std::vector<const char *> argv{"prog"};
    for (const auto &a : args) argv.push_back(a.c_str());
    try {
      app.parse(static_cast<int>(argv.size()), const_cast<char **>(argv.data()));
    } catch (const CLI::ParseError &e) {
      return e.get_exit_code() == 0 ? -1 : e.get_exit_code();
    }
    return 0;
  }
};

TEST_F(LogFlagsTest, DefaultsAreTextAtZero) {
  Options o;
  EXPECT_EQ(Parse({}, &o), 0);
  EXPECT_EQ(o.format, Format::kText);
  EXPECT_EQ(o.verbosity, 0);
}

TEST_F(LogFlagsTest, ShortAndLongVerbosityAndJson) {
  Options o;
  EXPECT_EQ(Parse({"-v", "3", "--log-format", "json"}, &o), 0);
  EXPECT_EQ(o.verbosity, 3);
  EXPECT_EQ(o.format, Format::kJson);
  EXPECT_EQ(Current().verbosity, 3);
  EXPECT_EQ(Current().format, Format::kJson);
  Options o2;
  EXPECT_EQ(Parse({"--v=5"}, &o2), 0);
  EXPECT_EQ(o2.verbosity, 5);
}

TEST_F(LogFlagsTest, RejectsUnknownFormatAndNegativeLevel) {
  Options o;
  EXPECT_NE(Parse({"--log-format", "yaml"}, &o), 0);
  EXPECT_NE(Parse({"-v", "-1"}, &o), 0);
}

TEST_F(LogFlagsTest, HelpListsBoth) {
  CLI::App app{"test"};
  Options o;
  AddFlags(app, &o);
  const std::string help = app.help();
  EXPECT_NE(help.find("--log-format"), std::string::npos);
  EXPECT_NE(help.find("-v,--v"), std::string::npos);
}

}  // namespace
}  // namespace ferry::log

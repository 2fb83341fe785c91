#include "cli/migrate_command.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ferry::cli {
namespace {

const std::vector<std::string> kBase{"vm1", "--from", "qemu:///system", "--to",
                                     "qemu+tcp://10.0.0.2/system"};

std::vector<std::string> With(std::vector<std::string> extra) {
  auto v = kBase;
  v.insert(v.end(), extra.begin(), extra.end());
  return v;
}

TEST(ParseMigrateArgs, Defaults) {
  auto c = ParseMigrateArgs(kBase);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->options.domain, "vm1");
  EXPECT_EQ(c->options.mode, migration::Mode::kAuto);
  EXPECT_EQ(c->target_client_uri, "qemu+tcp://10.0.0.2/system");
  EXPECT_EQ(c->tls, migration::TlsSetting::kAuto);
  EXPECT_EQ(c->tls_dir, "/etc/pki/qemu");
  EXPECT_FALSE(c->recover);
  EXPECT_TRUE(c->options.allow_postcopy);
  EXPECT_EQ(c->options.max_downtime_ms, 300u);
}

TEST(ParseMigrateArgs, AllOptions) {
  auto c = ParseMigrateArgs(With({"--mode",
                                  "precopy",
                                  "--bandwidth",
                                  "32",
                                  "--max-downtime",
                                  "500",
                                  "--downtime-schedule",
                                  "100,250,500",
                                  "--timeout-per-gib",
                                  "60",
                                  "--parallel",
                                  "4",
                                  "--no-postcopy",
                                  "--no-auto-converge",
                                  "--copy-storage",
                                  "--migrate-uri",
                                  "tcp://10.0.0.2:49152",
                                  "--poll-ms",
                                  "200",
                                  "--to-client",
                                  "qemu+unix:///system?socket=/x",
                                  "--quiet"}));
  ASSERT_TRUE(c.ok()) << c.status();
  const auto& o = c->options;
  EXPECT_EQ(o.mode, migration::Mode::kPreCopy);
  EXPECT_EQ(o.bandwidth_bytes_per_s, 32u << 20);
  EXPECT_EQ(o.max_downtime_ms, 500u);
  EXPECT_EQ(o.downtime_schedule_ms, (std::vector<std::uint32_t>{100, 250, 500}));
  EXPECT_DOUBLE_EQ(o.completion_timeout_per_gib_s, 60);
  EXPECT_EQ(o.parallel_connections, 4u);
  EXPECT_FALSE(o.allow_postcopy);
  EXPECT_FALSE(o.allow_auto_converge);
  EXPECT_TRUE(o.copy_storage);
  EXPECT_EQ(o.migrate_uri, "tcp://10.0.0.2:49152");
  EXPECT_EQ(o.poll_interval, migration::Millis(200));
  EXPECT_EQ(c->target_client_uri, "qemu+unix:///system?socket=/x");
  EXPECT_TRUE(c->quiet);
}

TEST(ParseMigrateArgs, FractionalBandwidthStaysACap) {
  auto c = ParseMigrateArgs(With({"--bandwidth", "0.5"}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->options.bandwidth_bytes_per_s, 512u << 10);
  auto z = ParseMigrateArgs(With({"--bandwidth", "0"}));
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_EQ(z->options.bandwidth_bytes_per_s, 0u);
}

TEST(ParseMigrateArgs, TlsRecoverAndLimit) {
  auto c =
      ParseMigrateArgs({"vm1", "--from", "qemu:///system", "--to", "qemu+tls://10.0.0.2/system",
                        "--tls", "on", "--tls-dir", "/x", "--recover", "--recovery-limit", "30"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls, migration::TlsSetting::kOn);
  EXPECT_TRUE(c->options.tls);
  EXPECT_EQ(c->tls_dir, "/x");
  EXPECT_TRUE(c->recover);
  EXPECT_EQ(c->options.postcopy_recovery_limit, migration::Millis(30000));
}

// --tls on against a directory without the certificates: refused, naming what is missing.
TEST(ResolveTlsOption, OnWithoutCertificatesIsRefusedWithTheMissingFiles) {
  auto c =
      ParseMigrateArgs({"vm1", "--from", "qemu:///system", "--to", "qemu+tls://10.0.0.2/system",
                        "--tls", "on", "--tls-dir", "/nonexistent-ferry-pki"});
  ASSERT_TRUE(c.ok()) << c.status();
  const Status st = ResolveTlsOption(*c);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("client-cert.pem"), std::string::npos) << st;
  EXPECT_NE(st.message().find("/nonexistent-ferry-pki"), std::string::npos) << st;
}

TEST(ResolveTlsOption, AutoWithoutCertificatesIsPlain) {
  auto c = ParseMigrateArgs(With({"--tls-dir", "/nonexistent-ferry-pki"}));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(ResolveTlsOption(*c).ok());
  EXPECT_FALSE(c->options.tls);
}

TEST(ParseMigrateArgs, AFlagGivenTwiceTakesTheLast) {
  auto c = ParseMigrateArgs(With({"--to", "qemu+tls://10.0.0.3/system", "--mode", "precopy",
                                  "--mode", "postcopy", "--bandwidth", "8", "--bandwidth", "16"}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->options.destination_uri, "qemu+tls://10.0.0.3/system");
  EXPECT_EQ(c->options.mode, migration::Mode::kPostCopy);
  EXPECT_EQ(c->options.bandwidth_bytes_per_s, 16u << 20);
}

TEST(ParseMigrateArgs, Offline) {
  auto c = ParseMigrateArgs(With({"--offline", "--shutdown"}));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->options.offline);
  EXPECT_TRUE(c->options.stop_running);
}

struct Bad {
  std::vector<std::string> args;
  std::string contains;
};

TEST(ParseMigrateArgs, DirtyRateMeasurement) {
  auto d = ParseMigrateArgs(kBase);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->options.premeasure, migration::Millis(2000));  // on by default, 2 s
  auto one = ParseMigrateArgs(With({"--premeasure", "1"}));
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->options.premeasure, migration::Millis(1000));
  for (const auto& off : {With({"--premeasure", "0"}), With({"--no-premeasure"})}) {
    auto c = ParseMigrateArgs(off);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->options.premeasure, migration::Millis(0));
  }
}

TEST(ParseMigrateArgs, BadInputIsAClearError) {
  for (const Bad& b :
       {Bad{{}, "missing DOMAIN"}, Bad{{"vm1", "--to", "x"}, "--from"},
        Bad{{"vm1", "--from", "x"}, "--to"}, Bad{With({"--mode", "warp"}), "--mode"},
        Bad{With({"--bandwidth", "-3"}), "--bandwidth"},
        Bad{With({"--bandwidth", "12abc"}), "--bandwidth"},
        Bad{With({"--bandwidth"}), "needs a value"},
        Bad{With({"--max-downtime", "0"}), "--max-downtime"},
        Bad{With({"--timeout-per-gib", "0"}), "positive"},
        Bad{With({"--frobnicate"}), "unknown option"}, Bad{With({"vm2"}), "unexpected argument"},
        Bad{With({"--downtime-schedule", "100,,300"}), "--downtime-schedule"},
        Bad{With({"--mode", "postcopy", "--no-postcopy"}), "contradicts"},
        Bad{With({"--poll-ms", "1"}), "--poll-ms"}, Bad{With({"--tls", "maybe"}), "--tls"},
        Bad{With({"--tls", "on"}), "qemu+tls://"},
        Bad{With({"--premeasure", "61"}), "--premeasure"},
        Bad{With({"--premeasure", "-1"}), "--premeasure"}}) {
    auto c = ParseMigrateArgs(b.args);
    ASSERT_FALSE(c.ok()) << b.contains;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalid);
    EXPECT_NE(c.status().message().find(b.contains), std::string::npos) << c.status();
  }
}

TEST(ResultJson, Fields) {
  migration::MigrationResult r;
  r.outcome = migration::Outcome::kSucceeded;
  r.mode_used = "postcopy";
  r.total_time = migration::Millis(7532);
  r.downtime = migration::Millis(11);
  r.bytes_sent = 323u << 20;
  r.memory_bytes = 256u << 20;
  r.iterations = 4;
  r.guest_location = migration::GuestLocation::kDestination;
  r.actions.push_back(
      {migration::ActionKind::kSwitchToPostCopy, migration::Millis(2100), "pre-copy cannot win"});
  const auto j = nlohmann::json::parse(ResultJson(r));
  EXPECT_EQ(j["outcome"], "Succeeded");
  EXPECT_EQ(j["mode"], "postcopy");
  EXPECT_EQ(j["total_ms"], 7532);
  EXPECT_EQ(j["downtime_ms"], 11);
  EXPECT_EQ(j["guest"], "destination");
  EXPECT_EQ(j["target_followup"], "none");
  EXPECT_EQ(j["tls"], false);
  EXPECT_EQ(j["actions"][0]["kind"], "SwitchToPostCopy");
  EXPECT_EQ(j["actions"][0]["at_ms"], 2100);
  r.downtime.reset();
  r.status = CancelledError("cancelled: x");
  const auto k = nlohmann::json::parse(ResultJson(r));
  EXPECT_TRUE(k["downtime_ms"].is_null());
  EXPECT_EQ(k["reason"], "cancelled: x");
}

}  // namespace
}  // namespace ferry::cli

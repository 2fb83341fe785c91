#include <gtest/gtest.h>

#include "agent/agent_config.h"

namespace ferry::agent {
namespace {

TEST(ParseAgentFlags, LabNode) {
  auto c = ParseAgentFlags({"--libvirt-uri",
                            "qemu+unix:///system?socket=/tmp/a.sock",
                            "--emulator=/q",
                            "--virt-type",
                            "qemu",
                            "--machine",
                            "pc-i440fx-7.2",
                            "--default-cpu-model",
                            "qemu64",
                            "--console-log-dir",
                            "/var/log/libvirt/qemu",
                            "--migration-address",
                            "10.251.0.1",
                            "--reserved-cpus",
                            "0",
                            "--reserved-memory",
                            "1Gi",
                            "--dedicated-cpus",
                            "2-3",
                            "--ops-address",
                            "127.0.0.1:0",
                            "--heartbeat",
                            "5s",
                            "-v",
                            "2",
                            "--log-format",
                            "json"},
                           "node-a");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->node_name, "node-a");
  EXPECT_EQ(c->domain.emulator, "/q");
  EXPECT_EQ(c->domain.virt_type, "qemu");
  EXPECT_EQ(c->MigrationUri(), "qemu+tcp://10.251.0.1/system");
  EXPECT_EQ(c->reserved_cpus, (std::vector<int>{0}));
  EXPECT_EQ(c->dedicated_cpus, (std::vector<int>{2, 3}));
  EXPECT_EQ(c->reserved_memory_bytes, 1LL << 30);
  EXPECT_EQ(c->ops_port, 0);
  EXPECT_EQ(c->heartbeat, std::chrono::seconds(5));
  EXPECT_EQ(c->log.verbosity, 2);
  EXPECT_EQ(c->log.format, log::Format::kJson);
}

TEST(ParseAgentFlags, Errors) {
  EXPECT_EQ(ParseAgentFlags({"--migration-address", "x"}, "").status().message(),
            "no node name: set NODE_NAME or --node");
  EXPECT_EQ(ParseAgentFlags({}, "n").status().message(),
            "--migration-address (or --migration-uri) is required");
  EXPECT_FALSE(ParseAgentFlags({"--migration-address", "x", "--virt-type", "xen"}, "n").ok());
  const auto bogus = ParseAgentFlags({"--migration-address", "x", "--bogus", "1"}, "n");
  ASSERT_FALSE(bogus.ok());
  EXPECT_NE(bogus.status().message().find("--bogus"), std::string::npos) << bogus.status();
  const auto memory = ParseAgentFlags({"--migration-address", "x", "--reserved-memory", "lots"}, "n");
  ASSERT_FALSE(memory.ok());
  EXPECT_NE(memory.status().message().find("--reserved-memory"), std::string::npos)
      << memory.status();
  EXPECT_FALSE(ParseAgentFlags({"--migration-address", "x", "--cpu-allocation-ratio", "0"}, "n").ok());
  EXPECT_FALSE(ParseAgentFlags({"--migration-address", "x", "--console-log-dir", "rel"}, "n").ok());
  EXPECT_FALSE(
      ParseAgentFlags(
          {"--migration-address", "x", "--reserved-cpus", "1", "--dedicated-cpus", "1-2"}, "n")
          .ok());
  EXPECT_FALSE(ParseAgentFlags({"--migration-address", "x", "--heartbeat", "0s"}, "n").ok());
  EXPECT_FALSE(ParseAgentFlags({"--migration-address"}, "n").ok());
  // A port that is not a number or out of range is a usage error (it was an uncaught
  // std::invalid_argument from stoi, which ended the process).
  for (const char* bad : {"0.0.0.0:http", "0.0.0.0:", "0.0.0.0:65536", "0.0.0.0:-1", "8080"}) {
    const auto ops = ParseAgentFlags({"--migration-address", "x", "--ops-address", bad}, "n");
    ASSERT_FALSE(ops.ok()) << bad;
    EXPECT_NE(ops.status().message().find("--ops-address"), std::string::npos) << ops.status();
  }
  auto v6 = ParseAgentFlags({"--migration-address", "x", "--ops-address", "[::1]:9000"}, "n");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->ops_host, "[::1]");
  EXPECT_EQ(v6->ops_port, 9000);
  auto c = ParseAgentFlags({"--migration-uri", "qemu+tls://node-a/system", "--node", "other"}, "n");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->node_name, "other");
  EXPECT_EQ(c->MigrationUri(), "qemu+tls://node-a/system");
}

}  // namespace
}  // namespace ferry::agent

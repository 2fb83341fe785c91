#include "api/hypervisor.h"

#include <string>

#include <gtest/gtest.h>

namespace ferry::api {
namespace {

const char* kHv = R"({
  "apiVersion": "ferry.dev/v1alpha1", "kind": "Hypervisor",
  "metadata": {"name": "node-a"},
  "status": {
    "ready": true, "lastHeartbeatTime": "2026-11-29T10:00:00Z",
    "migrationAddress": "10.251.0.1", "migrationTLS": true,
    "cpuVendor": "AMD", "cpuModel": "EPYC-Rome", "cpuFeatures": ["avx2", "sse4.2"],
    "cpuModels": ["qemu64", "Westmere"],
    "libvirtVersion": "9.0.0", "qemuVersion": "10.0.2", "handlerVersion": "0.1.0",
    "capacity": {"cpus": 2, "memory": "24Gi", "dedicatedCpus": 0, "hugepages": {"2Mi": "1Gi"}},
    "allocatable": {"cpus": 2, "memory": "22Gi", "dedicatedCpus": 0},
    "used": {"cpus": 1, "memory": "256Mi", "dedicatedCpus": 0},
    "numaCells": [{"id": 0, "cpus": 2, "memory": "24Gi", "hugepages": {"2Mi": "1Gi"}}],
    "domains": 1, "migrationsIn": 0, "migrationsOut": 1,
    "orphans": [{"name": "stray", "uuid": "f0000000-0000-4000-8000-0000000000c1", "state": "running"}],
    "futureField": {"kept": true}
  }
})";

TEST(Hypervisor, DecodesAndRoundTrips) {
  const Json in = Json::parse(kHv);
  auto hv = Hypervisor::FromJson(in);
  ASSERT_TRUE(hv.ok()) << hv.status();
  EXPECT_TRUE(hv->status.ready);
  EXPECT_EQ(hv->status.migration_address, "10.251.0.1");
  EXPECT_TRUE(hv->status.migration_tls);
  EXPECT_EQ(hv->status.capacity.cpus, 2);
  EXPECT_EQ(hv->status.allocatable.memory, *Quantity::Parse("22Gi"));
  EXPECT_EQ(hv->status.capacity.hugepages.at("2Mi"), *Quantity::Parse("1Gi"));
  ASSERT_EQ(hv->status.numa_cells.size(), 1u);
  EXPECT_EQ(hv->status.numa_cells[0].cpus, 2);
  ASSERT_EQ(hv->status.orphans.size(), 1u);
  EXPECT_EQ(hv->status.orphans[0].state, "running");
  EXPECT_EQ(hv->status.migrations_out, 1);
  EXPECT_EQ(hv->ToJson(), in);  // unknown fields survive
}

TEST(Hypervisor, NewObjectWritesCountersAndResources) {
  Hypervisor hv;
  hv.metadata.name = "node-b";
  const Json j = hv.ToJson();
  EXPECT_FALSE(j.contains("spec"));
  EXPECT_EQ(j["status"]["ready"], false);
  EXPECT_EQ(j["status"]["domains"], 0);
  EXPECT_EQ(j["status"]["allocatable"]["cpus"], 0);
  EXPECT_EQ(j["status"]["allocatable"]["memory"], "0");
}

TEST(Hypervisor, RejectsMalformedStatus) {
  struct Case {
    const char* status;
    const char* error;
  } cases[] = {
      {R"({"ready": "yes"})", "status.ready"},
      {R"({"capacity": {"memory": "lots"}})", "status.capacity.memory"},
      {R"({"numaCells": [{"cpus": 2}]})", "status.numaCells[0].id"},
      {R"({"orphans": [{"uuid": "x"}]})", "status.orphans[0].name"},
      {R"({"lastHeartbeatTime": "yesterday"})", "status.lastHeartbeatTime"},
  };
  for (const auto& c : cases) {
    Json j = {{"apiVersion", "ferry.dev/v1alpha1"}, {"kind", "Hypervisor"},
              {"metadata", {{"name", "n"}}}, {"status", Json::parse(c.status)}};
    auto hv = Hypervisor::FromJson(j);
    ASSERT_FALSE(hv.ok()) << c.status;
    EXPECT_NE(hv.status().message().find(c.error), std::string::npos)
        << c.status << " -> " << hv.status().message();
  }
}

TEST(Hypervisor, IsAliveNeedsReadyAndAFreshHeartbeat) {
  const WallTime t0 = *ParseTime("2026-11-29T10:00:00Z");
  struct Case {
    bool ready;
    std::optional<WallTime> heartbeat;
    std::chrono::seconds age;
    bool alive;
  } cases[] = {
      {true, t0, std::chrono::seconds(0), true},
      {true, t0, kHypervisorHeartbeatTimeout, true},
      {true, t0, kHypervisorHeartbeatTimeout + std::chrono::seconds(1), false},
      {false, t0, std::chrono::seconds(0), false},
      {true, std::nullopt, std::chrono::seconds(0), false},
  };
  for (const auto& c : cases) {
    Hypervisor hv;
    hv.status.ready = c.ready;
    hv.status.last_heartbeat_time = c.heartbeat;
    EXPECT_EQ(hv.IsAlive(t0 + c.age), c.alive) << c.ready << " " << c.age.count();
  }
}

TEST(Hypervisor, ParseVersionNumber) {
  struct Case {
    const char* text;
    int64_t want;  // -1: error
  } cases[] = {
      {"9.0.0", 9'000'000}, {"10.0.2", 10'000'002}, {"7.2", 7'002'000}, {"8", 8'000'000},
      {"1.2.3.4", -1},      {"", -1},               {"9..0", -1},       {"9.0.", -1},
      {"v9.0.0", -1},       {"9.1000.0", -1},       {"-1.0.0", -1},
  };
  for (const auto& c : cases) {
    auto v = ParseVersionNumber(c.text);
    if (c.want < 0) {
      EXPECT_FALSE(v.ok()) << c.text;
    } else {
      ASSERT_TRUE(v.ok()) << c.text << ": " << v.status();
      EXPECT_EQ(*v, c.want) << c.text;
    }
  }
}

}  // namespace
}  // namespace ferry::api

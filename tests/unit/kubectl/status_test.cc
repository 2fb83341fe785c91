#include "status.h"

#include <gtest/gtest.h>

#include "cluster_builders.h"

namespace ferry::kubectl {
namespace {

using namespace std::chrono_literals;
using testing::Decode;

TEST(StatusModelTest, LeaderHandlersNodesAndActiveMigrations) {
  FakeClock clock;
  const auto now = clock.WallNow();
  ClusterObjects c;
  c.nodes.push_back(Decode<api::Node>(testing::NodeJson("node-a", true)));
  c.hypervisors.push_back(Decode<api::Hypervisor>(testing::HypervisorJson("node-a", now - 5s)));
  c.hypervisors.push_back(Decode<api::Hypervisor>(testing::HypervisorJson("node-b", now - 90s)));
  c.migrations.push_back(Decode<api::VirtualMachineMigration>(Json::parse(R"({
    "metadata":{"name":"m1","namespace":"default"},"spec":{"vmName":"web-1"},
    "status":{"phase":"Running","sourceNode":"node-a","targetNode":"node-b",
              "progress":{"percent":40,"estimatedTimeRemaining":"3s"}}})")));
  c.migrations.push_back(Decode<api::VirtualMachineMigration>(Json::parse(R"({
    "metadata":{"name":"m0","namespace":"default"},"spec":{"vmName":"web-2"},"status":{"phase":"Succeeded"}})")));
  api::Lease lease;
  lease.spec.holder_identity = "operator-2";
  lease.spec.renew_time = now - 2s;
  lease.spec.lease_duration_seconds = 15;

  const Json m = StatusModel(c, lease, now, 40s);
  EXPECT_EQ(m["leader"]["holder"], "operator-2");
  EXPECT_EQ(m["leader"]["renewedSecondsAgo"], 2);
  ASSERT_EQ(m["handlers"].size(), 2u);
  EXPECT_TRUE(m["handlers"][0]["alive"]);
  EXPECT_FALSE(m["handlers"][1]["alive"]) << "a heartbeat older than the timeout is a lost handler";
  EXPECT_EQ(m["nodes"][0]["schedulable"], false);
  ASSERT_EQ(m["migrations"].size(), 1u) << "terminal migrations are not listed";
  EXPECT_EQ(m["migrations"][0]["percent"], 40);
  EXPECT_EQ(m["migrations"][0]["eta"], "3.0s");

  const std::string t = StatusTable(m);
  EXPECT_NE(t.find("operator leader: operator-2 (lease renewed 2s ago)"), std::string::npos) << t;
  EXPECT_NE(t.find("node-b   silent"), std::string::npos) << t;
  EXPECT_NE(t.find("cordoned"), std::string::npos) << t;
  EXPECT_NE(t.find("default/m1"), std::string::npos) << t;
}

TEST(StatusModelTest, NoLeaseHolder) {
  FakeClock clock;
  const Json m = StatusModel({}, std::nullopt, clock.WallNow(), 40s);
  EXPECT_TRUE(m["leader"].is_null());
  EXPECT_NE(StatusTable(m).find("no replica holds the lease"), std::string::npos);
}

}  // namespace
}  // namespace ferry::kubectl

#include "follow.h"

#include <gtest/gtest.h>

#include "cluster_builders.h"

namespace ferry::kubectl {
namespace {

using namespace std::chrono_literals;
using testing::Decode;

Json NodeWithEvacuation(const std::string& annotation) {
  Json n = testing::NodeJson("node-a", true);
  n["metadata"]["annotations"] = {{"ferry.dev/evacuation", annotation}};
  return n;
}

api::VirtualMachineMigration Vmm(const std::string& name, const std::string& phase) {
  return Decode<api::VirtualMachineMigration>(
      {{"metadata", {{"name", name}, {"namespace", "default"}}},
       {"spec", {{"vmName", name}}},
       {"status", {{"phase", phase}, {"sourceNode", "node-a"}, {"targetNode", "node-c"}}}});
}

TEST(DrainStateTest, ReadsTheOperatorsAnnotation) {
  const DrainState s = ReadDrainState(
      NodeWithEvacuation(
          R"({"planned":4,"remaining":3,"migrating":2,"blocked":[{"vm":"default/db-1","reason":"may not move alone"}]})"),
      {Vmm("a", "Running"), Vmm("b", "Succeeded"), Vmm("c", "PreparingTarget")});
  EXPECT_TRUE(s.annotated);
  EXPECT_EQ(s.planned, 4);
  EXPECT_EQ(s.remaining, 3);
  EXPECT_EQ(s.migrating, 2);
  ASSERT_EQ(s.blocked.size(), 1u);
  EXPECT_EQ(s.blocked[0].first, "default/db-1");
  EXPECT_EQ(s.in_flight, 2);
  EXPECT_FALSE(ReadDrainState(testing::NodeJson("node-a"), {}).annotated);
  EXPECT_FALSE(ReadDrainState(NodeWithEvacuation("not json"), {}).annotated);
}

TEST(JudgeDrainTest, Table) {
  struct Case {
    const char* name;
    DrainState s;
    DrainVerdict want;
  } cases[] = {
      {"operator has not judged yet", {false, 0, 0, 0, {}, 0}, DrainVerdict::kGoing},
      {"moving", {true, 4, 2, 2, {}, 2}, DrainVerdict::kGoing},
      {"nothing left", {true, 4, 0, 0, {}, 0}, DrainVerdict::kDone},
      {"last migration still ending", {true, 4, 0, 0, {}, 1}, DrainVerdict::kGoing},
      {"only blocked VMs left",
       {true, 4, 2, 0, {{"a", "x"}, {"b", "y"}}, 0},
       DrainVerdict::kBlocked},
      {"blocked but others still going",
       {true, 4, 3, 1, {{"a", "x"}, {"b", "y"}}, 1},
       DrainVerdict::kGoing},
      {"a VM left that is not blocked", {true, 4, 2, 0, {{"a", "x"}}, 0}, DrainVerdict::kGoing},
  };
  for (const auto& c : cases) EXPECT_EQ(JudgeDrain(c.s), c.want) << c.name;
}

TEST(TimelineTest, LineAndJson) {
  const std::vector<PhaseMark> t = {
      {"Scheduling", 12ms}, {"Running", 1500ms}, {"Succeeded", 9300ms}};
  EXPECT_EQ(TimelineLine(t), "Scheduling +12ms  Running +1.5s  Succeeded +9.3s");
  const Json j = TimelineJson(t);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[1]["phase"], "Running");
  EXPECT_DOUBLE_EQ(j[1]["seconds"].get<double>(), 1.5);
}

TEST(DrainSummaryTest, WhereEveryVmWentAndWhatStayed) {
  auto done = Decode<api::VirtualMachineMigration>(Json::parse(R"({
    "metadata":{"name":"evac-web-1-abc","namespace":"default"},"spec":{"vmName":"web-1"},
    "status":{"phase":"Succeeded","sourceNode":"node-a","targetNode":"node-c","effectiveMode":"PreCopy",
              "startTime":"2024-05-01T12:00:00Z","completionTime":"2024-05-01T12:00:07Z","downtime":"31ms"}})"));
  DrainState s;
  s.blocked = {{"default/db-1", "may not move alone"}};
  const Json m = DrainSummaryModel("node-a", s, {done});
  EXPECT_EQ(m["migrations"][0]["target"], "node-c");
  EXPECT_EQ(m["migrations"][0]["downtimeMs"], 31);
  EXPECT_DOUBLE_EQ(m["migrations"][0]["seconds"].get<double>(), 7.0);
  const std::string t = DrainSummaryTable(m);
  EXPECT_NE(t.find("default/web-1   node-a   node-c   Succeeded   PreCopy   7.0s   31ms"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("STAYS ON node-a   WHY"), std::string::npos) << t;
  EXPECT_NE(t.find("default/db-1      may not move alone"), std::string::npos) << t;
}

}  // namespace
}  // namespace ferry::kubectl

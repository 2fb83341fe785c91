#include "format.h"

#include <gtest/gtest.h>

#include "output.h"

namespace ferry::kubectl {
namespace {

using namespace std::chrono_literals;

api::VirtualMachineMigration Vmm(const std::string& json) {
  auto v = api::VirtualMachineMigration::FromJson(Json::parse(json));
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : api::VirtualMachineMigration{};
}

const api::WallTime kNow = *api::ParseTime("2024-05-01T12:00:10Z");

TEST(HumanDurationTest, Table) {
  struct Case {
    std::chrono::nanoseconds d;
    const char* want;
  } cases[] = {{0ns, "0ms"},   {850ms, "850ms"}, {4200ms, "4.2s"}, {12s, "12s"},
               {72s, "1m12s"}, {120s, "2m"},     {3723s, "1h2m"},  {-2s, "-2.0s"}};
  for (const auto& c : cases) EXPECT_EQ(HumanDuration(c.d), c.want) << c.d.count();
}

TEST(AgeTest, KubectlUnits) {
  EXPECT_EQ(Age(std::nullopt, kNow), "<unknown>");
  EXPECT_EQ(Age(kNow - 42s, kNow), "42s");
  EXPECT_EQ(Age(kNow - 300s, kNow), "5m");
  EXPECT_EQ(Age(kNow - 3h, kNow), "3h");
  EXPECT_EQ(Age(kNow - 72h, kNow), "3d");
  EXPECT_EQ(Age(kNow + 5s, kNow), "0s");  // clock skew never shows a negative age
}

TEST(ProgressLineTest, ByPhase) {
  struct Case {
    const char* name;
    const char* status;
    const char* want;
  } cases[] = {
      {"waiting for a slot",
       R"({"phase":"Scheduling","message":"cluster limit: 5 of 5 migrations active"})",
       "Scheduling  waiting: cluster limit: 5 of 5 migrations active"},
      {"preparing", R"({"phase":"PreparingTarget","sourceNode":"node-a","targetNode":"node-b"})",
       "PreparingTarget  node-a -> node-b"},
      {"running before the first report",
       R"({"phase":"Running","sourceNode":"node-a","targetNode":"node-b"})",
       "Running  node-a -> node-b  starting"},
      {"pre-copy",
       R"({"phase":"Running","progress":{"percent":43,"remainingBytes":12582912,"totalBytes":134217728,
           "dirtyRateBytesPerSecond":3145728,"transferRateBytesPerSecond":33554432,"iteration":3,
           "estimatedTimeRemaining":"4s"}})",
       "Running  43%  remaining 12Mi of 128Mi  dirty 3Mi/s vs transfer 32Mi/s  iteration 3  ETA "
       "4.0s"},
      {"post-copy without an estimate",
       R"({"phase":"Running","progress":{"percent":96,"remainingBytes":4194304,"totalBytes":134217728,
           "postCopyStartedAt":"2024-05-01T12:00:08Z"}})",
       "Running  post-copy since 2.0s  96%  remaining 4Mi of 128Mi  dirty 0/s vs transfer 0/s  ETA "
       "-"},
      {"succeeded",
       R"({"phase":"Succeeded","sourceNode":"node-a","targetNode":"node-b","downtime":"23ms"})",
       "Succeeded  node-a -> node-b  downtime 23ms"},
      {"failed",
       R"({"phase":"Failed","sourceNode":"node-a","targetNode":"node-c","reason":"TargetRejected"})",
       "Failed  node-a -> node-c  TargetRejected"},
  };
  for (const auto& c : cases) {
    const auto v = Vmm(
        std::string(
            R"({"metadata":{"name":"m","namespace":"default"},"spec":{"vmName":"web-1"},"status":)") +
        c.status + "}");
    EXPECT_EQ(ProgressLine(v, kNow), c.want) << c.name;
  }
}

TEST(CompletedModeTest, InferredWhenTheHandlerLeftAuto) {
  const std::string head =
      R"({"metadata":{"name":"m","namespace":"default"},"spec":{"vmName":"v"},"status":)";
  EXPECT_EQ(CompletedMode(Vmm(head + R"({"phase":"Succeeded","effectiveMode":"PostCopy"}})")),
            "PostCopy");
  EXPECT_EQ(CompletedMode(Vmm(head + R"({"phase":"Succeeded"}})")), "PreCopy");
  EXPECT_EQ(
      CompletedMode(
          Vmm(head +
              R"({"phase":"Succeeded","progress":{"postCopyStartedAt":"2024-05-01T12:00:08Z"}}})")),
      "PostCopy");
  EXPECT_EQ(CompletedMode(Vmm(head + R"({"phase":"Failed"}})")), "-");
}

TEST(OutcomeLineTest, SaysWhereTheGuestIs) {
  const std::string head =
      R"({"metadata":{"name":"m","namespace":"default"},"spec":{"vmName":"web-1"},"status":)";
  EXPECT_EQ(
      OutcomeLine(Vmm(head + R"({"phase":"Succeeded","sourceNode":"node-a","targetNode":"node-b",
                                       "effectiveMode":"PreCopy","downtime":"23ms"}})"),
                  9300ms),
      "Succeeded: default/web-1 moved node-a -> node-b in 9.3s (PreCopy, downtime 23ms)");
  EXPECT_EQ(
      OutcomeLine(Vmm(head + R"({"phase":"Cancelled","sourceNode":"node-a"}})"), std::nullopt),
      "Cancelled: default/web-1 stays on node-a");
  EXPECT_EQ(
      OutcomeLine(Vmm(head + R"({"phase":"Failed","sourceNode":"node-a","reason":"TargetRejected",
                                       "message":"anti-affinity: group web already on node-c"}})"),
                  std::nullopt),
      "Failed (TargetRejected): default/web-1 stays on node-a: anti-affinity: group web already on "
      "node-c");
}

}  // namespace
}  // namespace ferry::kubectl

#include "placement/explain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_builders.h"

namespace ferry::placement {
namespace {

using ::ferry::placement::testing::MakeNode;
using ::ferry::placement::testing::MakeVm;
using ::ferry::placement::testing::MustBuild;

TEST(NeedHaveTest, ShowsExactBytesWhenRoundingHidesTheGap) {
  EXPECT_EQ(NeedHave(Filter::kMemory, 4 * kGi, 2 * kGi), "needs 4Gi, free 2Gi");
  EXPECT_EQ(NeedHave(Filter::kMemory, 3000000001, 3000000000), "needs 3000000001, free 3000000000");
  EXPECT_EQ(NeedHave(Filter::kCpu, 1500, 1000), "needs 1500m, free 1");
  EXPECT_EQ(NeedHave(Filter::kDedicatedCpus, 4, 2), "needs 4, free 2");
  EXPECT_EQ(NeedHave(Filter::kMemory, 4 * kGi, -kGi), "needs 4Gi, free -1Gi");
}

TEST(DescribeScoreTest, ShowsEveryWeightedTerm) {
  ScoreBreakdown s{80, 100, 50, 100, 430, true};
  EXPECT_EQ(DescribeScore(s, Weights{}),
            "score 430 = group 3x50 + load 1x80 + pinned 1x100 + in-flight 1x100");
  s.compliant = false;
  EXPECT_EQ(DescribeScore(s, Weights{1, 1, 1, 1}),
            "score 430 = group 1x50 + load 1x80 + pinned 1x100 + in-flight 1x100 (breaks the "
            "best-effort group rule)");
}

TEST(DescribeTallyTest, CountsPerFilterWithTheFirstExample) {
  ClusterSnapshot s;
  s.nodes = {MakeNode("n1"), MakeNode("n2"), MakeNode("n3")};
  s.vms = {MakeVm("v", 2, 4)};
  ClusterIndex index = MustBuild(s);
  RejectionTally tally;
  tally.Add(0, {Filter::kMemory, 4 * kGi, kGi});
  tally.Add(1, {Filter::kNotReady});
  tally.Add(2, {Filter::kMemory, 4 * kGi, 2 * kGi});
  EXPECT_EQ(DescribeTally(index, 0, tally),
            "1 node not ready (n2: not ready: node is not Ready); "
            "2 nodes memory (n1: memory: needs 4Gi, free 1Gi)");
}

}  // namespace
}  // namespace ferry::placement

#include "migration/limits.h"

#include <gtest/gtest.h>

namespace ferry::op::migration {
namespace {

const api::WallTime kT0 = api::WallTime{} + std::chrono::hours(1000);

QueuedMigration Q(std::string key, std::string src, int64_t prio = 0, int age_s = 0,
                  std::string dst = "") {
  return {std::move(key), std::move(src), std::move(dst), prio, kT0 - std::chrono::seconds(age_s),
          false};
}

TEST(Limits, ClusterLimitServesHighestPriorityThenOldest) {
  MigrationLimits limits{3, 10, 10};
  ActiveCounts active;
  active.cluster = 1;
  std::vector<QueuedMigration> q = {Q("a", "n1", 0, 50), Q("b", "n2", 5, 1), Q("c", "n3", 0, 90),
                                    Q("d", "n4", 0, 10)};
  // Two slots left: b (priority 5), then c (oldest of the rest).
  EXPECT_TRUE(DecideSlot(q, active, limits, "b").granted);
  EXPECT_TRUE(DecideSlot(q, active, limits, "c").granted);
  SlotDecision a = DecideSlot(q, active, limits, "a");
  EXPECT_FALSE(a.granted);
  EXPECT_EQ(a.reason, "cluster limit: 3 of 3 migrations active (2 ahead in the queue)");
  EXPECT_FALSE(DecideSlot(q, active, limits, "d").granted);
}

TEST(Limits, TenWaitingClusterLimitThreeNeverMoreThanThree) {
  MigrationLimits limits{3, 10, 10};
  std::vector<QueuedMigration> q;
  for (int i = 0; i < 10; ++i)
    q.push_back(Q("m" + std::to_string(i), "n" + std::to_string(i), 0, 100 - i));
  ActiveCounts active;
  int granted = 0;
  for (const auto& m : q) granted += DecideSlot(q, active, limits, m.key).granted ? 1 : 0;
  EXPECT_EQ(granted, 3);
  active.cluster = 3;
  granted = 0;
  for (const auto& m : q) granted += DecideSlot(q, active, limits, m.key).granted ? 1 : 0;
  EXPECT_EQ(granted, 0);
}

TEST(Limits, OutboundLimitBlocksOneNodeNotTheCluster) {
  MigrationLimits limits{5, 2, 2};
  ActiveCounts active;
  active.cluster = 2;
  active.outbound["busy"] = 2;
  std::vector<QueuedMigration> q = {Q("old-on-busy", "busy", 0, 100),
                                    Q("young-elsewhere", "calm", 0, 1)};
  SlotDecision busy = DecideSlot(q, active, limits, "old-on-busy");
  EXPECT_FALSE(busy.granted);
  EXPECT_EQ(busy.reason, "outbound limit of busy: 2 of 2 migrations leaving it");
  EXPECT_TRUE(DecideSlot(q, active, limits, "young-elsewhere").granted);
}

TEST(Limits, InboundLimitOnRequestedTargetAndFullTargetsForTheEngine) {
  MigrationLimits limits{5, 2, 1};
  ActiveCounts active;
  active.cluster = 1;
  active.inbound["full"] = 1;
  std::vector<QueuedMigration> q = {Q("to-full", "n1", 0, 10, "full"), Q("anywhere", "n2", 0, 5)};
  SlotDecision to_full = DecideSlot(q, active, limits, "to-full");
  EXPECT_FALSE(to_full.granted);
  EXPECT_EQ(to_full.reason, "inbound limit of full: 1 of 1 migrations arriving");
  SlotDecision anywhere = DecideSlot(q, active, limits, "anywhere");
  EXPECT_TRUE(anywhere.granted);
  EXPECT_EQ(anywhere.full_targets, std::vector<std::string>{"full"});
}

TEST(Limits, RefusedBeforeGoesToTheBackSoItNeverHoldsTheQueue) {
  MigrationLimits limits{1, 2, 2};
  ActiveCounts active;
  std::vector<QueuedMigration> q = {Q("stuck", "n1", 10, 100), Q("next", "n2", 0, 1)};
  q[0].refused_before = true;
  EXPECT_TRUE(DecideSlot(q, active, limits, "next").granted);
  EXPECT_FALSE(DecideSlot(q, active, limits, "stuck").granted);
  EXPECT_TRUE(RanksBefore(q[1], q[0]));
}

}  // namespace
}  // namespace ferry::op::migration

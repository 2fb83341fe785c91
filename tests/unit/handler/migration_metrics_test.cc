#include "migration/migration_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "migration/migration_plan.h"

namespace ferry::migration {
namespace {

std::string Scrape(prometheus::Registry& r) {
  return prometheus::TextSerializer().Serialize(r.Collect());
}

TEST(MigrationMetrics, SeriesLiveOnlyWhileMigrating) {
  prometheus::Registry reg;
  MigrationMetrics m(reg);
  MigrationOptions o;
  o.domain = "dom1";
  o.namespace_label = "prod";
  o.vm_label = "web-1";
  const std::string key = m.OnStart(o);
  JobSample s;
  s.data_total = 1000;
  s.data_processed = 250;
  s.data_remaining = 750;
  s.dirty_rate_bytes_per_s = 4096;
  s.transfer_rate_bytes_per_s = 8192;
  s.iteration = 2;
  s.throttle_percent = 30;
  m.OnSample(key, s);
  std::string text = Scrape(reg);
  EXPECT_NE(text.find(R"(ferry_migration_data_processed_bytes{namespace="prod",vm="web-1"} 250)"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(ferry_migration_dirty_rate_bytes_per_second{namespace="prod",vm="web-1"} 4096)"),
      std::string::npos);
  EXPECT_NE(text.find(R"(ferry_migration_cpu_throttle_ratio{namespace="prod",vm="web-1"} 0.3)"),
            std::string::npos);
  EXPECT_NE(text.find("# HELP ferry_migration_iteration "), std::string::npos);

  Action a;
  a.kind = ActionKind::kSwitchToPostCopy;
  m.OnAction(a);
  MigrationResult r;
  r.outcome = Outcome::kSucceeded;
  r.mode_used = "postcopy";
  r.total_time = Millis(7500);
  r.downtime = Millis(11);
  m.OnFinish(key, r);
  text = Scrape(reg);
  EXPECT_EQ(text.find(R"(vm="web-1")"), std::string::npos)
      << "per-migration series must be removed:\n"
      << text;
  EXPECT_NE(text.find(R"(ferry_migration_results_total{mode="postcopy",result="Succeeded"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(ferry_migration_actions_total{action="SwitchToPostCopy"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(ferry_migration_duration_seconds_sum{mode="postcopy"} 7.5)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(ferry_migration_downtime_seconds_count{mode="postcopy"} 1)"),
            std::string::npos);
}

// A counter or histogram series first exported at 1 has no earlier sample: increase() and
// rate() would miss that first migration. Every known label value is exported at 0 before.
TEST(MigrationMetrics, OutcomeAndActionSeriesExistAtZeroBeforeTheFirstMigration) {
  prometheus::Registry reg;
  MigrationMetrics m(reg);
  const std::string text = Scrape(reg);
  for (const char* want : {
           R"(ferry_migration_results_total{mode="precopy",result="Succeeded"} 0)",
           R"(ferry_migration_results_total{mode="postcopy",result="Failed"} 0)",
           R"(ferry_migration_results_total{mode="offline",result="Aborted"} 0)",
           R"(ferry_migration_results_total{mode="precopy",result="Cancelled"} 0)",
           R"(ferry_migration_actions_total{action="SetMaxDowntime"} 0)",
           R"(ferry_migration_actions_total{action="Abort"} 0)",
           R"(ferry_migration_duration_seconds_count{mode="precopy"} 0)",
           R"(ferry_migration_downtime_seconds_bucket{mode="postcopy",le="0.3"} 0)",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << want << " missing in:\n" << text;
  }
}

TEST(MigrationMetrics, ConcurrentMigrationsKeepTheirSeries) {
  prometheus::Registry reg;
  MigrationMetrics m(reg);
  MigrationOptions a, b;
  a.domain = "a";
  b.domain = "b";
  const auto ka = m.OnStart(a);
  const auto kb = m.OnStart(b);
  MigrationResult r;
  r.mode_used = "precopy";
  m.OnFinish(ka, r);
  const std::string text = Scrape(reg);
  EXPECT_EQ(text.find(R"(vm="a")"), std::string::npos);
  EXPECT_NE(text.find(R"(vm="b")"), std::string::npos);
  EXPECT_NE(text.find(R"(ferry_migration_results_total{mode="precopy",result="Failed"} 1)"),
            std::string::npos)
      << text;
  // A failed migration has no downtime observation.
  EXPECT_NE(text.find(R"(ferry_migration_downtime_seconds_count{mode="precopy"} 0)"),
            std::string::npos)
      << text;
  m.OnFinish(kb, r);
}

}  // namespace
}  // namespace ferry::migration

#include "metrics/operator_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <string>

namespace ferry::op {
namespace {

std::string Scrape(prometheus::Registry& r) {
  return prometheus::TextSerializer().Serialize(r.Collect());
}

// A counter or histogram series first exported at 1 has no earlier sample: increase() and
// rate() miss that first event (the first Failed after a restart, the first placement).
// Every known label value is exported at 0 before anything happens.
TEST(OperatorMetrics, TransitionAndPlacementSeriesExistAtZeroBeforeTheFirstEvent) {
  prometheus::Registry reg;
  OperatorMetrics m(reg);
  const std::string text = Scrape(reg);
  for (const char* want : {
           R"(ferry_migration_transitions_total{phase="Failed"} 0)",
           R"(ferry_migration_transitions_total{phase="Cancelled"} 0)",
           R"(ferry_migration_transitions_total{phase="Scheduled"} 0)",
           R"(ferry_placement_decision_duration_seconds_count{decision="vm"} 0)",
           R"(ferry_placement_decision_duration_seconds_count{decision="migration"} 0)",
           R"(ferry_placement_decision_duration_seconds_count{decision="drain"} 0)",
           R"(ferry_placement_decision_duration_seconds_count{decision="rebalance"} 0)",
           R"(ferry_migrations{phase="Pending"} 0)",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << want << " missing in:\n" << text;
  }
}

TEST(OperatorMetrics, CountsOnTopOfTheZeroSeries) {
  prometheus::Registry reg;
  OperatorMetrics m(reg);
  m.CountTransition(api::MigrationPhase::kFailed);
  m.ObservePlacement("migration", 0.0002);
  const std::string text = Scrape(reg);
  EXPECT_NE(text.find(R"(ferry_migration_transitions_total{phase="Failed"} 1)"), std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(ferry_placement_decision_duration_seconds_count{decision="migration"} 1)"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace ferry::op

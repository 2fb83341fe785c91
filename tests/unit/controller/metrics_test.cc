#include "controller/metrics.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "metrics_testing.h"

namespace ferry::controller {
namespace {

TEST(MetricsTest, RegistersEveryFamilyWithHelpText) {
  prometheus::Registry registry;
  auto f = ControllerMetricFamilies::Register(registry);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_NE(f->reconcile_total, nullptr);
  ASSERT_NE(f->reconcile_errors, nullptr);
  ASSERT_NE(f->reconcile_duration, nullptr);
  ASSERT_NE(f->workqueue.depth, nullptr);
  ASSERT_NE(f->workqueue.adds, nullptr);
  ASSERT_NE(f->workqueue.retries, nullptr);
  // Families without children are not collected; add one child each to see them.
  f->reconcile_total->Add({{"controller", "c"}, {"result", "success"}});
  f->reconcile_errors->Add({{"controller", "c"}});
  f->reconcile_duration->Add({{"controller", "c"}}, ReconcileDurationBuckets());
  f->workqueue.depth->Add({{"name", "c"}});
  f->workqueue.adds->Add({{"name", "c"}});
  f->workqueue.retries->Add({{"name", "c"}});
  std::set<std::string> names;
  for (const auto& family : registry.Collect()) {
    EXPECT_FALSE(family.help.empty()) << family.name;
    names.insert(family.name);
  }
  EXPECT_EQ(names,
            (std::set<std::string>{
                "ferry_controller_reconcile_total", "ferry_controller_reconcile_errors_total",
                "ferry_controller_reconcile_duration_seconds", "ferry_workqueue_depth",
                "ferry_workqueue_adds_total", "ferry_workqueue_retries_total"}));
}

TEST(MetricsTest, RegisteringTwiceReusesTheFamilies) {
  prometheus::Registry registry;
  auto a = ControllerMetricFamilies::Register(registry);
  auto b = ControllerMetricFamilies::Register(registry);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->reconcile_total, b->reconcile_total);
  EXPECT_EQ(a->workqueue.depth, b->workqueue.depth);
}

TEST(MetricsTest, NameTakenByAnotherTypeIsAnErrorNotACrash) {
  prometheus::Registry registry;
  prometheus::BuildGauge().Name("ferry_workqueue_adds_total").Help("wrong type").Register(registry);
  auto f = ControllerMetricFamilies::Register(registry);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kInternal);
  EXPECT_NE(f.status().message().find("work queue"), std::string::npos) << f.status();
}

TEST(MetricsTest, DurationBucketsAreIncreasingSeconds) {
  const auto& b = ReconcileDurationBuckets();
  ASSERT_GE(b.size(), 5u);
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
  EXPECT_LE(b.front(), 0.001);
  EXPECT_GE(b.back(), 30.0);
}

}  // namespace
}  // namespace ferry::controller

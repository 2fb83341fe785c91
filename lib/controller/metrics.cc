#include "controller/metrics.h"

#include <exception>
#include <string>

namespace ferry::controller {

StatusOr<WorkQueueMetricFamilies> WorkQueueMetricFamilies::Register(
    prometheus::Registry& registry) {
  WorkQueueMetricFamilies f;
  try {
    f.depth = &prometheus::BuildGauge()
                   .Name("ferry_workqueue_depth")
                   .Help("Number of keys waiting in the work queue to be processed.")
                   .Register(registry);
    f.adds =
        &prometheus::BuildCounter()
             .Name("ferry_workqueue_adds_total")
             .Help("Keys added to the work queue (an add of a key already waiting is not counted).")
             .Register(registry);
    f.retries =
        &prometheus::BuildCounter()
             .Name("ferry_workqueue_retries_total")
             .Help("Delayed re-adds to the work queue (rate-limited retries and requeue-after).")
             .Register(registry);
  } catch (const std::exception& e) {
    return InternalError(std::string("registering work queue metrics: ") + e.what());
  }
  return f;
}

StatusOr<ControllerMetricFamilies> ControllerMetricFamilies::Register(
    prometheus::Registry& registry) {
  ControllerMetricFamilies f;
  auto wq = WorkQueueMetricFamilies::Register(registry);
  if (!wq.ok()) return wq.status();
  f.workqueue = *wq;
  try {
    f.reconcile_total = &prometheus::BuildCounter()
                             .Name("ferry_controller_reconcile_total")
                             .Help(
                                 "Reconciles per controller, by result (success, error, "
                                 "terminal_error, requeue, requeue_after).")
                             .Register(registry);
    f.reconcile_errors = &prometheus::BuildCounter()
                              .Name("ferry_controller_reconcile_errors_total")
                              .Help(
                                  "Reconciles per controller that returned an error "
                                  "(transient or terminal).")
                              .Register(registry);
    f.reconcile_duration = &prometheus::BuildHistogram()
                                .Name("ferry_controller_reconcile_duration_seconds")
                                .Help("Time taken by one reconcile, in seconds.")
                                .Register(registry);
  } catch (const std::exception& e) {
    return InternalError(std::string("registering controller metrics: ") + e.what());
  }
  return f;
}

const prometheus::Histogram::BucketBoundaries& ReconcileDurationBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return kBuckets;
}

}  // namespace ferry::controller

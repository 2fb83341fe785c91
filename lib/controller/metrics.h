// Prometheus metric families of the work queue and the controller runner
// (controller-runtime's pkg/internal/controller/metrics and client-go's workqueue metrics,
// renamed to Ferry's ferry_<entity>_<metric>_<unit> scheme). The families are registered once
// per prometheus::Registry; each queue/controller adds its own children, labelled by name.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "core/status.h"

namespace ferry::controller {

// Labels: name (the queue's name, bounded by the number of controllers).
struct WorkQueueMetricFamilies {
  prometheus::Family<prometheus::Gauge>* depth = nullptr;      // ferry_workqueue_depth
  prometheus::Family<prometheus::Counter>* adds = nullptr;     // ferry_workqueue_adds_total
  prometheus::Family<prometheus::Counter>* retries = nullptr;  // ferry_workqueue_retries_total

  // Registers (or, when already registered in `registry`, reuses) the families.
  // Fails with kInternal when a family of another type already holds one of the names.
  static StatusOr<WorkQueueMetricFamilies> Register(prometheus::Registry& registry);
};

// Labels: controller; reconcile_total also result (success, error, terminal_error, requeue,
// requeue_after).
struct ControllerMetricFamilies {
  prometheus::Family<prometheus::Counter>* reconcile_total = nullptr;
  prometheus::Family<prometheus::Counter>* reconcile_errors = nullptr;
  prometheus::Family<prometheus::Histogram>* reconcile_duration = nullptr;
  WorkQueueMetricFamilies workqueue;

  static StatusOr<ControllerMetricFamilies> Register(prometheus::Registry& registry);
};

// Buckets of ferry_controller_reconcile_duration_seconds: a reconcile is normally a few
// cache reads and at most a couple of API writes (ms), but a slow API server can stretch
// it to tens of seconds.
const prometheus::Histogram::BucketBoundaries& ReconcileDurationBuckets();

}  // namespace ferry::controller

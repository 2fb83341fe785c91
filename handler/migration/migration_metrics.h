// Prometheus families of the migration engine (DESIGN §6: ferry_<entity>_<metric>_<unit>,
// base units). Per-migration gauges carry {namespace, vm} and are removed when the migration
// ends; duration/downtime histograms are by mode, result and action counters are totals.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <string>

#include "migration/migration_types.h"

namespace ferry::migration {

struct MigrationOptions;

class MigrationMetrics {
 public:
  explicit MigrationMetrics(prometheus::Registry& registry);

  // Called by the engine. Concurrent migrations share one MigrationMetrics; OnStart returns
  // the key of the migration's series ("namespace/vm").
  std::string OnStart(const MigrationOptions& o);
  void OnSample(const std::string& key, const JobSample& s);
  void OnAction(const Action& a);
  void OnFinish(const std::string& key, const MigrationResult& r);

 private:
  struct Series {
    prometheus::Gauge* total = nullptr;
    prometheus::Gauge* processed = nullptr;
    prometheus::Gauge* remaining = nullptr;
    prometheus::Gauge* dirty = nullptr;
    prometheus::Gauge* transfer = nullptr;
    prometheus::Gauge* iteration = nullptr;
    prometheus::Gauge* throttle = nullptr;
    prometheus::Gauge* postcopy = nullptr;
  };
  void RemoveSeries(Series& s);

  prometheus::Family<prometheus::Gauge>& total_;
  prometheus::Family<prometheus::Gauge>& processed_;
  prometheus::Family<prometheus::Gauge>& remaining_;
  prometheus::Family<prometheus::Gauge>& dirty_;
  prometheus::Family<prometheus::Gauge>& transfer_;
  prometheus::Family<prometheus::Gauge>& iteration_;
  prometheus::Family<prometheus::Gauge>& throttle_;
  prometheus::Family<prometheus::Gauge>& postcopy_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Histogram>& downtime_;
  prometheus::Family<prometheus::Counter>& results_;
  prometheus::Family<prometheus::Counter>& actions_;

  std::mutex mu_;
  std::map<std::string, Series> series_;
};

}  // namespace ferry::migration

// Reads collected samples out of a prometheus::Registry for assertions.
#pragma once

#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>
#include <prometheus/registry.h>

#include <map>
#include <optional>
#include <string>

namespace ferry::controller::testing {

struct FoundMetric {
  prometheus::MetricType type;
  std::string help;
  prometheus::ClientMetric metric;
};

// The metric of family `name` whose labels include all of `labels`, if any.
inline std::optional<FoundMetric> FindMetric(prometheus::Registry& registry,
                                             const std::string& name,
                                             const std::map<std::string, std::string>& labels) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      size_t matched = 0;
      for (const auto& label : metric.label) {
        auto it = labels.find(label.name);
        if (it != labels.end() && it->second == label.value) ++matched;
      }
      if (matched == labels.size()) return FoundMetric{family.type, family.help, metric};
    }
  }
  return std::nullopt;
}

// Counter or gauge value; -1 when the series does not exist (so a test cannot pass by
// absence) or is of another type.
inline double Value(prometheus::Registry& registry, const std::string& name,
                    const std::map<std::string, std::string>& labels) {
  auto m = FindMetric(registry, name, labels);
  if (!m.has_value()) return -1;
  if (m->type == prometheus::MetricType::Counter) return m->metric.counter.value;
  if (m->type == prometheus::MetricType::Gauge) return m->metric.gauge.value;
  return -1;
}

}  // namespace ferry::controller::testing

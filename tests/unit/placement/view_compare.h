// Compares two views by everything a caller can see: state, problems, per-node usage, and
// every decision and plan. Used by the view property test.
#pragma once

#include <string>

#include "placement/cluster_view.h"

namespace ferry::placement::testing {

struct ViewComparison {
  std::string difference;  // "" when the views agree; else the first difference found
  int decisions = 0;
  int scheduled = 0;
  int drain_steps = 0;
};

ViewComparison CompareViews(const ClusterView& a, const ClusterView& b);

}  // namespace ferry::placement::testing

// Small builders for placement tests: plain structs with sensible defaults, nothing more.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "placement/cluster_view.h"
#include "placement/format.h"
#include "placement/types.h"

namespace ferry::placement::testing {

inline constexpr int64_t kLibvirt9 = MakeVersion(9, 0, 0);
inline constexpr int64_t kQemu72 = MakeVersion(7, 2, 0);

inline Node MakeNode(std::string name, int64_t cpus = 16, int64_t memory_gi = 64) {
  Node n;
  n.name = std::move(name);
  n.cpu_millis = cpus * 1000;
  n.memory_bytes = memory_gi * kGi;
  n.cpu_model = "Skylake";
  n.version = {kLibvirt9, kQemu72};
  return n;
}

inline Vm MakeVm(std::string name, int64_t cpus = 2, int64_t memory_gi = 4, std::string node = "",
                 std::string group = "") {
  Vm v;
  v.name = std::move(name);
  v.cpu_millis = cpus * 1000;
  v.memory_bytes = memory_gi * kGi;
  v.node = std::move(node);
  v.server_group = std::move(group);
  return v;
}

inline ServerGroup MakeGroup(std::string name, GroupPolicy policy, bool best_effort,
                             int max_per_node = 1) {
  ServerGroup g;
  g.name = std::move(name);
  g.policy = policy;
  g.best_effort = best_effort;
  g.max_per_node = max_per_node;
  return g;
}

// Builds the index; a test whose snapshot is invalid fails here with the reason.
inline ClusterView MustBuild(ClusterSnapshot snapshot) {
  StatusOr<ClusterView> index = ClusterView::Build(std::move(snapshot));
  if (!index.ok()) {
    ADD_FAILURE() << "ClusterView::Build: " << index.status();
    return std::move(ClusterView::Build({})).value();
  }
  return std::move(index).value();
}

}  // namespace ferry::placement::testing

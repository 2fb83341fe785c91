// PlaceDomain and CPU sets: which host CPUs a dedicatedCpus VM gets.
#include "domain/cpu_allocation.h"

#include <gtest/gtest.h>

#include "builders.h"
#include "domain/cpuset.h"

namespace ferry::domain {
namespace {

std::vector<HostCell> TwoCells() {
  HostCell a;
  a.id = 0;
  a.cpus = {0, 1, 2, 3};
  HostCell b;
  b.id = 1;
  b.cpus = {4, 5, 6, 7};
  return {a, b};
}

api::VirtualMachineSpec Spec(int64_t cpus, bool dedicated,
                             std::optional<int64_t> numa = std::nullopt) {
  api::VirtualMachineSpec s;
  s.cpus = cpus;
  s.dedicated_cpus = dedicated;
  s.numa_nodes = numa;
  return s;
}

TEST(CpuSet, ParseAndFormat) {
  EXPECT_EQ(*ParseCpuSet("0-3,8,10-11"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(*ParseCpuSet("0-7,^2,^5-6"), (std::vector<int>{0, 1, 3, 4, 7}));
  EXPECT_EQ(*ParseCpuSet(" 3, 1 ,1"), (std::vector<int>{1, 3}));
  EXPECT_TRUE(ParseCpuSet("")->empty());
  EXPECT_FALSE(ParseCpuSet("3-1").ok());
  EXPECT_FALSE(ParseCpuSet("a").ok());
  EXPECT_FALSE(ParseCpuSet("1-").ok());
  EXPECT_EQ(FormatCpuSet({5, 0, 1, 2, 9, 10}), "0-2,5,9-10");
  EXPECT_EQ(FormatCpuSet({}), "");
}

TEST(PlaceDomain, NothingPinnedWithoutDedicatedCpus) {
  auto p = PlaceDomain(Spec(4, false, 2), TwoCells(), {0, 1, 2, 3, 4, 5, 6, 7}, {});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->pinned_cpus.empty());
  EXPECT_TRUE(p->host_cells.empty());
}

TEST(PlaceDomain, OneCellWithTheMostFreeDedicatedCpus) {
  // Dedicated: 2,3 on cell 0 and 4-7 on cell 1; 4 is taken: cell 1 still has 3 free.
  auto p = PlaceDomain(Spec(2, true), TwoCells(), {2, 3, 4, 5, 6, 7}, {4});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->pinned_cpus, (std::vector<int>{5, 6}));
  EXPECT_TRUE(p->host_cells.empty());  // numaNodes unset: memory not bound
}

TEST(PlaceDomain, GuestNumaNodesEachInOneHostCell) {
  auto p = PlaceDomain(Spec(4, true, 2), TwoCells(), {0, 1, 2, 3, 4, 5, 6, 7}, {0});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->pinned_cpus,
            (std::vector<int>{4, 5, 1, 2}));  // node 0 → cell 1 (4 free), node 1 → cell 0
  EXPECT_EQ(p->host_cells, (std::vector<int>{1, 0}));
}

TEST(PlaceDomain, NeverStraddlesCells) {
  // 3 free CPUs in all, but at most 2 in one cell: a guest node of 3 vCPUs does not fit.
  auto p = PlaceDomain(Spec(3, true), TwoCells(), {2, 3, 6, 7}, {});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      p.status().message(),
      "not enough free dedicated CPUs: the VM needs 3 (3 in one host NUMA cell for guest node 0), "
      "the node has 4 free of 4 dedicated (2-3,6-7)");
}

}  // namespace
}  // namespace ferry::domain

// Placement engine benchmark (issue 3): decisions per second and latency percentiles at
// 100, 1,000 and 5,000 nodes (10 VMs per node, 20% of VMs in server groups, half of the
// groups strict), and the time to plan the drain of a node holding 100 VMs.
//
//   cmake --build build-placement-rel --target placement_bench
//   build-placement-rel/tests/bench/placement/placement_bench
//
// Decisions alternate between migrations of running VMs and first starts of pending ones,
// cycling through a seeded shuffle. Latency percentiles are measured per call, both in
// wall time (steady_clock: includes waiting for a CPU on a loaded machine) and in thread
// CPU time (CLOCK_THREAD_CPUTIME_ID), and reported as counters (p50/p99 wall and cpu, in us).
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include "bench_cluster.h"
#include "placement/drain.h"
#include "placement/group_move.h"
#include "placement/placement.h"
#include "placement/rebalance.h"

namespace ferry::placement::bench {
namespace {

constexpr int kBigNodeVms = 100;

struct Fixture {
  BenchCluster cluster;
  std::unique_ptr<ClusterIndex> index;
  std::vector<PlacementRequest> requests;
};

const Fixture& GetFixture(int nodes) {
  static std::map<int, std::unique_ptr<Fixture>> cache;
  auto& slot = cache[nodes];
  if (!slot) {
    slot = std::make_unique<Fixture>();
    BenchShape shape;
    shape.nodes = nodes;
    shape.big_node_vms = kBigNodeVms;
    slot->cluster = MakeBenchCluster(shape);
    StatusOr<ClusterIndex> index = ClusterIndex::Build(slot->cluster.snapshot);
    if (!index.ok()) {
      std::fprintf(stderr, "fixture invalid: %s\n", index.status().ToString().c_str());
      std::abort();
    }
    slot->index = std::make_unique<ClusterIndex>(std::move(index).value());
    const auto& placed = slot->cluster.placed_vms;
    const auto& pending = slot->cluster.pending_vms;
    for (size_t i = 0; i < 2000; ++i) {
      slot->requests.push_back(
          {i % 2 == 0 ? placed[i % placed.size()] : pending[i % pending.size()], ""});
    }
  }
  return *slot;
}

// Wall and thread-CPU stopwatch for one call.
struct Stopwatch {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = ThreadCpuMicros();

  static double ThreadCpuMicros() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
  }
};

struct Latencies {
  std::vector<double> wall;
  std::vector<double> cpu;
  void Add(const Stopwatch& w) {
    wall.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - w.wall)
            .count());
    cpu.push_back(Stopwatch::ThreadCpuMicros() - w.cpu);
  }
};

double Percentile(std::vector<double>& v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

void ReportLatency(benchmark::State& state, Latencies& l) {
  if (l.wall.empty()) return;
  state.counters["p50_wall_us"] = Percentile(l.wall, 0.50);
  state.counters["p99_wall_us"] = Percentile(l.wall, 0.99);
  state.counters["p50_cpu_us"] = Percentile(l.cpu, 0.50);
  state.counters["p99_cpu_us"] = Percentile(l.cpu, 0.99);
}

// Args: nodes, explain_nodes (1 = one verdict per node in the decision).
void BM_ChooseTarget(benchmark::State& state) {
  const Fixture& f = GetFixture(static_cast<int>(state.range(0)));
  PlacementOptions options;
  options.explain_nodes = state.range(1) != 0;
  Latencies latencies;
  size_t i = 0;
  int64_t scheduled = 0;
  for (auto _ : state) {
    const Stopwatch watch;
    {
      TargetDecision d = ChooseTarget(*f.index, f.requests[i++ % f.requests.size()], options);
      scheduled += d.scheduled ? 1 : 0;
      benchmark::DoNotOptimize(d);
    }
    latencies.Add(watch);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["scheduled_pct"] =
      100.0 * static_cast<double>(scheduled) / static_cast<double>(state.iterations());
  ReportLatency(state, latencies);
}
BENCHMARK(BM_ChooseTarget)
    ->ArgsProduct({{100, 1000, 5000}, {0, 1}})
    ->ArgNames({"nodes", "explain"})
    ->Unit(benchmark::kMicrosecond);

// A decision plus formatting its one line per node (what a status writer would do).
void BM_ChooseTargetAndExplainLines(benchmark::State& state) {
  const Fixture& f = GetFixture(static_cast<int>(state.range(0)));
  size_t i = 0;
  for (auto _ : state) {
    TargetDecision d = ChooseTarget(*f.index, f.requests[i++ % f.requests.size()]);
    std::vector<std::string> lines = ExplainNodes(*f.index, d);
    benchmark::DoNotOptimize(lines);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChooseTargetAndExplainLines)
    ->Arg(5000)
    ->ArgName("nodes")
    ->Unit(benchmark::kMillisecond);

void BM_BuildIndex(benchmark::State& state) {
  const Fixture& f = GetFixture(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    ClusterSnapshot copy = f.cluster.snapshot;
    state.ResumeTiming();
    StatusOr<ClusterIndex> index = ClusterIndex::Build(std::move(copy));
    benchmark::DoNotOptimize(index);
  }
  state.counters["vms"] = static_cast<double>(f.cluster.snapshot.vms.size());
}
BENCHMARK(BM_BuildIndex)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(5000)
    ->ArgName("nodes")
    ->Unit(benchmark::kMillisecond);

void BM_PlanDrain100Vms(benchmark::State& state) {
  const Fixture& f = GetFixture(static_cast<int>(state.range(0)));
  DrainOptions options;
  options.allow_group_moves = true;
  size_t steps = 0;
  size_t blockers = 0;
  Latencies latencies;
  for (auto _ : state) {
    const Stopwatch watch;
    StatusOr<DrainPlan> plan = PlanDrain(*f.index, "big-0", options);
    latencies.Add(watch);
    steps = plan->steps.size();
    blockers = plan->blockers.size();
    benchmark::DoNotOptimize(plan);
  }
  state.counters["steps"] = static_cast<double>(steps);
  state.counters["blockers"] = static_cast<double>(blockers);
  ReportLatency(state, latencies);
}
BENCHMARK(BM_PlanDrain100Vms)
    ->Arg(1000)
    ->Arg(5000)
    ->ArgName("nodes")
    ->Unit(benchmark::kMillisecond);

void BM_PlanRebalance(benchmark::State& state) {
  const Fixture& f = GetFixture(static_cast<int>(state.range(0)));
  size_t moves = 0;
  for (auto _ : state) {
    RebalancePlan plan = PlanRebalance(*f.index);
    moves = plan.moves.size() + plan.still_violating.size();
    benchmark::DoNotOptimize(plan);
  }
  state.counters["violators"] = static_cast<double>(moves);
}
BENCHMARK(BM_PlanRebalance)->Arg(5000)->ArgName("nodes")->Unit(benchmark::kMillisecond);

void BM_PlanGroupMove(benchmark::State& state) {
  const Fixture& f = GetFixture(static_cast<int>(state.range(0)));
  std::string group;
  for (const ServerGroup& g : f.index->groups()) {
    if (g.policy == GroupPolicy::kAffinity && !g.best_effort) {
      group = g.name;
      break;
    }
  }
  GroupMoveOptions options;
  options.explain_nodes = false;
  bool feasible = false;
  for (auto _ : state) {
    GroupMoveDecision d = PlanGroupMove(*f.index, group, options);
    feasible = d.feasible;
    benchmark::DoNotOptimize(d);
  }
  state.counters["feasible"] = feasible ? 1 : 0;
}
BENCHMARK(BM_PlanGroupMove)->Arg(5000)->ArgName("nodes")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ferry::placement::bench

BENCHMARK_MAIN();

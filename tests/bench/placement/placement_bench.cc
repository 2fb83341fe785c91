// Placement engine benchmark (issues 3 and 10): decisions per second and latency percentiles
// at 100, 1,000 and 5,000 nodes (10 VMs per node, 20% of VMs in server groups, half of the
// groups strict), the drain plan of a node holding 100 VMs, rebalance, group move, building
// a view, and (update_bench.cc) the cost of one update event. docs/placement.md has the
// command, the machine and the figures.
//
// Decisions alternate between migrations of running VMs and first starts of pending ones,
// cycling through a seeded shuffle. Latency percentiles are measured per call, both in
// wall time (steady_clock: includes waiting for a CPU on a loaded machine) and in thread
// CPU time (CLOCK_THREAD_CPUTIME_ID), and reported as counters (p50/p99 wall and cpu, in us).
#include <cstdio>
#include <cstdlib>
#include <map>

#include "bench_util.h"
#include "placement/drain.h"
#include "placement/group_move.h"
#include "placement/rebalance.h"

namespace ferry::placement::bench {

namespace {

ClusterView MustBuild(const ClusterSnapshot& s) {
  StatusOr<ClusterView> view = ClusterView::Build(s);
  if (!view.ok()) {
    std::fprintf(stderr, "fixture invalid: %s\n", view.status().ToString().c_str());
    std::abort();
  }
  return std::move(view).value();
}

BenchShape ShapeOf(int nodes) {
  BenchShape shape;
  shape.nodes = nodes;
  shape.big_node_vms = kBigNodeVms;
  return shape;
}

}  // namespace

const Fixture& GetFixture(int nodes) {
  static std::map<int, std::unique_ptr<Fixture>> cache;
  auto& slot = cache[nodes];
  if (!slot) {
    slot = std::make_unique<Fixture>();
    slot->cluster = MakeBenchCluster(ShapeOf(nodes));
    slot->built = std::make_unique<ClusterView>(MustBuild(slot->cluster.snapshot));
    slot->fed = std::make_unique<ClusterView>(FeedShuffled(slot->cluster.snapshot, 7));
    const auto& placed = slot->cluster.placed_vms;
    const auto& pending = slot->cluster.pending_vms;
    for (size_t i = 0; i < 2000; ++i) {
      slot->requests.push_back(
          {i % 2 == 0 ? placed[i % placed.size()] : pending[i % pending.size()], ""});
    }
  }
  return *slot;
}

ClusterView& MutableView(int nodes) {
  static std::map<int, std::unique_ptr<ClusterView>> cache;
  auto& slot = cache[nodes];
  if (!slot)
    slot = std::make_unique<ClusterView>(FeedShuffled(GetFixture(nodes).cluster.snapshot, 7));
  return *slot;
}

namespace {

// Args: nodes, explain_nodes (1 = one verdict per node in the decision), fed (1 = the view
// fed event by event in a shuffled order, 0 = built from the snapshot).
void BM_ChooseTarget(benchmark::State& state) {
  const Fixture& f = GetFixture(static_cast<int>(state.range(0)));
  const ClusterView& view = state.range(2) != 0 ? *f.fed : *f.built;
  PlacementOptions options;
  options.explain_nodes = state.range(1) != 0;
  Latencies latencies;
  size_t i = 0;
  int64_t scheduled = 0;
  for (auto _ : state) {
    const Stopwatch watch;
    {
      TargetDecision d = ChooseTarget(view, f.requests[i++ % f.requests.size()], options);
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
    ->Apply(WithRange)
    ->ArgsProduct({{100, 1000, 5000}, {0, 1}, {0}})
    ->Args({5000, 0, 1})
    ->Args({5000, 1, 1})
    ->ArgNames({"nodes", "explain", "fed"})
    ->Unit(benchmark::kMicrosecond);

// A decision plus formatting its one line per node (what a status writer would do).
void BM_ChooseTargetAndExplainLines(benchmark::State& state) {
  const Fixture& f = GetFixture(static_cast<int>(state.range(0)));
  size_t i = 0;
  for (auto _ : state) {
    TargetDecision d = ChooseTarget(*f.built, f.requests[i++ % f.requests.size()]);
    std::vector<std::string> lines = ExplainNodes(*f.built, d);
    benchmark::DoNotOptimize(lines);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChooseTargetAndExplainLines)
    ->Apply(WithRange)
    ->Arg(5000)
    ->ArgName("nodes")
    ->Unit(benchmark::kMillisecond);

void BM_BuildView(benchmark::State& state) {
  const Fixture& f = GetFixture(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    ClusterSnapshot copy = f.cluster.snapshot;
    state.ResumeTiming();
    StatusOr<ClusterView> view = ClusterView::Build(std::move(copy));
    benchmark::DoNotOptimize(view);
  }
  state.counters["vms"] = static_cast<double>(f.cluster.snapshot.vms.size());
}
BENCHMARK(BM_BuildView)
    ->Apply(WithRange)
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
    StatusOr<DrainPlan> plan = PlanDrain(*f.built, "big-0", options);
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
    ->Apply(WithRange)
    ->Arg(1000)
    ->Arg(5000)
    ->ArgName("nodes")
    ->Unit(benchmark::kMillisecond);

void BM_PlanRebalance(benchmark::State& state) {
  const Fixture& f = GetFixture(static_cast<int>(state.range(0)));
  size_t moves = 0;
  for (auto _ : state) {
    RebalancePlan plan = PlanRebalance(*f.built);
    moves = plan.moves.size() + plan.still_violating.size();
    benchmark::DoNotOptimize(plan);
  }
  state.counters["violators"] = static_cast<double>(moves);
}
BENCHMARK(BM_PlanRebalance)
    ->Apply(WithRange)
    ->Arg(5000)
    ->ArgName("nodes")
    ->Unit(benchmark::kMillisecond);

void BM_PlanGroupMove(benchmark::State& state) {
  const Fixture& f = GetFixture(static_cast<int>(state.range(0)));
  std::string group;
  for (const GroupId g : f.built->group_ids()) {
    const ServerGroup& sg = f.built->group(g);
    if (sg.policy == GroupPolicy::kAffinity && !sg.best_effort) {
      group = sg.name;
      break;
    }
  }
  GroupMoveOptions options;
  options.explain_nodes = false;
  bool feasible = false;
  for (auto _ : state) {
    GroupMoveDecision d = PlanGroupMove(*f.built, group, options);
    feasible = d.feasible;
    benchmark::DoNotOptimize(d);
  }
  state.counters["feasible"] = feasible ? 1 : 0;
}
BENCHMARK(BM_PlanGroupMove)
    ->Apply(WithRange)
    ->Arg(5000)
    ->ArgName("nodes")
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ferry::placement::bench

BENCHMARK_MAIN();

// Shared pieces of the placement benchmarks: the seeded fixtures (built once per size and
// kept), and per-call latency percentiles in wall and thread-CPU time.
#pragma once

#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "bench_cluster.h"
#include "placement/placement.h"

namespace ferry::placement::bench {

inline constexpr int kBigNodeVms = 100;  // the node a drain plan empties

struct Fixture {
  BenchCluster cluster;
  std::unique_ptr<ClusterView> built;  // ClusterView::Build(snapshot)
  std::unique_ptr<ClusterView> fed;    // the same state fed one event at a time, shuffled
  std::vector<PlacementRequest> requests;
};

// The fixture of `nodes` nodes (plus big-0 with kBigNodeVms VMs), built on first use.
const Fixture& GetFixture(int nodes);
// A view of the same state that update benchmarks may change (they restore it).
ClusterView& MutableView(int nodes);

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

inline double Percentile(std::vector<double>& v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// Reports p50/p99 wall and CPU time per call, in microseconds, as counters.
inline void ReportLatency(benchmark::State& state, Latencies& l) {
  if (l.wall.empty()) return;
  state.counters["p50_wall_us"] = Percentile(l.wall, 0.50);
  state.counters["p99_wall_us"] = Percentile(l.wall, 0.99);
  state.counters["p50_cpu_us"] = Percentile(l.cpu, 0.50);
  state.counters["p99_cpu_us"] = Percentile(l.cpu, 0.99);
}

// With --benchmark_repetitions=N, also report the smallest and largest of the N runs (the
// range a newcomer will see), beside Google Benchmark's mean, median and stddev.
inline void WithRange(benchmark::internal::Benchmark* b) {
  b->ComputeStatistics(
      "min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
  b->ComputeStatistics(
      "max", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); });
}

}  // namespace ferry::placement::bench

// Work queue throughput: keys added and handed out (Add + Get + Done) per second.
//   build-*/tests/bench/kube/workqueue_bench
#include <benchmark/benchmark.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "controller/workqueue.h"

namespace ferry::controller {
namespace {

std::vector<std::string> Keys(int n) {
  std::vector<std::string> keys;
  keys.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    keys.push_back("namespace-" + std::to_string(i % 50) + "/vm-" + std::to_string(i));
  return keys;
}

// Single thread: add a batch of distinct keys, then take and finish each.
void BM_AddGetDone(benchmark::State& state) {
  const auto keys = Keys(static_cast<int>(state.range(0)));
  WorkQueue q;
  for (auto _ : state) {
    for (const auto& k : keys) q.Add(k);
    for (size_t i = 0; i < keys.size(); ++i) {
      auto k = q.Get();
      q.Done(*k);
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AddGetDone)->Arg(1000)->Arg(10000);

// Adds of keys that are already waiting (the informer resync / event-storm case).
void BM_DuplicateAdd(benchmark::State& state) {
  const auto keys = Keys(1000);
  WorkQueue q;
  for (const auto& k : keys) q.Add(k);
  size_t i = 0;
  for (auto _ : state) {
    q.Add(keys[i]);
    i = (i + 1) % keys.size();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DuplicateAdd);

// One producer thread adding, `range(0)` worker threads doing Get + Done.
void BM_ProducerWorkers(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  const auto keys = Keys(10000);
  for (auto _ : state) {
    WorkQueue q;
    std::atomic<long> handled{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([&] {
        while (auto k = q.Get()) {
          q.Done(*k);
          ++handled;
        }
      });
    }
    for (const auto& k : keys) q.Add(k);
    q.ShutDownWithDrain();
    for (auto& t : threads) t.join();
    benchmark::DoNotOptimize(handled.load());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(keys.size()));
}
BENCHMARK(BM_ProducerWorkers)->Arg(1)->Arg(2)->Arg(4)->UseRealTime();

// AddAfter with a fake clock, then one clock step making them all due.
void BM_AddAfterProcessDue(benchmark::State& state) {
  const auto keys = Keys(static_cast<int>(state.range(0)));
  FakeClock clock;
  WorkQueueOptions o;
  o.clock = &clock;
  WorkQueue q(std::move(o));
  for (auto _ : state) {
    for (size_t i = 0; i < keys.size(); ++i)
      q.AddAfter(keys[i], std::chrono::milliseconds(1 + static_cast<int>(i % 1000)));
    clock.Advance(std::chrono::seconds(1));
    q.ProcessDue();
    for (size_t i = 0; i < keys.size(); ++i) q.Done(*q.Get());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AddAfterProcessDue)->Arg(10000);

}  // namespace
}  // namespace ferry::controller

BENCHMARK_MAIN();

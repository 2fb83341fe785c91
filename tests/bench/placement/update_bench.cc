// Cost of one update event on the view at 5,000 nodes / 50,000 VMs: what a controller pays
// per informer event instead of rebuilding. Each benchmark changes a view fed in shuffled
// order and puts it back, so they can run in any order; every call is one event, timed on
// its own (p50/p99 per event; items_per_second = events per second).
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "bench_util.h"

namespace ferry::placement::bench {
namespace {

constexpr int kNodes = 5000;

void Check(const Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "update failed: %s\n", s.ToString().c_str());
    std::abort();
  }
}

// A placed VM without a group, and a node it can go to.
struct Subject {
  Vm vm;
  std::string other_node;
};

Subject PickSubject() {
  const Fixture& f = GetFixture(kNodes);
  for (const Vm& v : f.cluster.snapshot.vms) {
    if (!v.node.empty() && v.server_group.empty() && v.numa_nodes == 0 && !v.dedicated_cpus &&
        v.cpu_model.empty() && v.name.rfind("vm-", 0) == 0) {
      return {v, v.node == "node-1" ? "node-2" : "node-1"};
    }
  }
  std::abort();
}

// Runs `events` (each one update call) round-robin, timing each call.
void RunEvents(benchmark::State& state, const std::vector<std::function<Status()>>& events) {
  Latencies latencies;
  size_t i = 0;
  for (auto _ : state) {
    const Stopwatch watch;
    Check(events[i++ % events.size()]());
    latencies.Add(watch);
  }
  // Leave the view as it was: finish the cycle.
  while (i % events.size() != 0) Check(events[i++ % events.size()]());
  state.SetItemsProcessed(state.iterations());
  ReportLatency(state, latencies);
}

void BM_UpdateVmMovesNode(benchmark::State& state) {
  ClusterView& view = MutableView(kNodes);
  const Subject s = PickSubject();
  Vm moved = s.vm;
  moved.node = s.other_node;
  RunEvents(state, {[&] { return view.UpsertVm(moved); }, [&] { return view.UpsertVm(s.vm); }});
}
BENCHMARK(BM_UpdateVmMovesNode)->Apply(WithRange);

void BM_UpdateVmResized(benchmark::State& state) {
  ClusterView& view = MutableView(kNodes);
  const Subject s = PickSubject();
  Vm bigger = s.vm;
  bigger.memory_bytes += int64_t{1} << 30;
  RunEvents(state, {[&] { return view.UpsertVm(bigger); }, [&] { return view.UpsertVm(s.vm); }});
}
BENCHMARK(BM_UpdateVmResized)->Apply(WithRange);

void BM_UpdateVmSameState(benchmark::State& state) {
  ClusterView& view = MutableView(kNodes);
  const Subject s = PickSubject();
  RunEvents(state, {[&] { return view.UpsertVm(s.vm); }});
}
BENCHMARK(BM_UpdateVmSameState)->Apply(WithRange);

void BM_UpdateVmCreatedAndDeleted(benchmark::State& state) {
  ClusterView& view = MutableView(kNodes);
  Vm fresh = PickSubject().vm;
  fresh.name = "bench-new-vm";
  RunEvents(state,
            {[&] { return view.UpsertVm(fresh); }, [&] { return view.RemoveVm(fresh.name); }});
}
BENCHMARK(BM_UpdateVmCreatedAndDeleted)->Apply(WithRange);

void BM_UpdateMigrationReservedAndFailed(benchmark::State& state) {
  ClusterView& view = MutableView(kNodes);
  const Subject s = PickSubject();
  const InFlightMigration m{s.vm.name, s.vm.node, s.other_node, "bench-mig"};
  RunEvents(state, {[&] { return view.UpsertMigration(m); },
                    [&] { return view.RemoveMigration(m.name); }});
}
BENCHMARK(BM_UpdateMigrationReservedAndFailed)->Apply(WithRange);

void BM_UpdateMigrationReservedAndFinished(benchmark::State& state) {
  ClusterView& view = MutableView(kNodes);
  const Subject s = PickSubject();
  const InFlightMigration there{s.vm.name, s.vm.node, s.other_node, "bench-mig-there"};
  const InFlightMigration back{s.vm.name, s.other_node, s.vm.node, "bench-mig-back"};
  RunEvents(state, {[&] { return view.UpsertMigration(there); },
                    [&] { return view.FinishMigration(there.name); },
                    [&] { return view.UpsertMigration(back); },
                    [&] { return view.FinishMigration(back.name); }});
}
BENCHMARK(BM_UpdateMigrationReservedAndFinished)->Apply(WithRange);

void BM_UpdateNodeCordoned(benchmark::State& state) {
  ClusterView& view = MutableView(kNodes);
  const Node& n = GetFixture(kNodes).cluster.snapshot.nodes[42];
  NodeInfo cordoned = NodeInfoOf(n);
  cordoned.unschedulable = !cordoned.unschedulable;
  const NodeInfo original = NodeInfoOf(n);
  RunEvents(state,
            {[&] { return view.UpsertNode(cordoned); }, [&] { return view.UpsertNode(original); }});
}
BENCHMARK(BM_UpdateNodeCordoned)->Apply(WithRange);

void BM_UpdateHypervisorHeartbeatNoChange(benchmark::State& state) {
  ClusterView& view = MutableView(kNodes);
  const HypervisorInfo same = HypervisorInfoOf(GetFixture(kNodes).cluster.snapshot.nodes[42]);
  RunEvents(state, {[&] { return view.UpsertHypervisor(same); }});
}
BENCHMARK(BM_UpdateHypervisorHeartbeatNoChange)->Apply(WithRange);

void BM_UpdateHypervisorCapacityChanged(benchmark::State& state) {
  ClusterView& view = MutableView(kNodes);
  const HypervisorInfo original = HypervisorInfoOf(GetFixture(kNodes).cluster.snapshot.nodes[42]);
  HypervisorInfo changed = original;
  changed.memory_bytes -= int64_t{1} << 30;
  RunEvents(state, {[&] { return view.UpsertHypervisor(changed); },
                    [&] { return view.UpsertHypervisor(original); }});
}
BENCHMARK(BM_UpdateHypervisorCapacityChanged)->Apply(WithRange);

// A node joins in the middle of the name order and leaves again (Node and Hypervisor each).
void BM_UpdateNodeAddedAndRemoved(benchmark::State& state) {
  ClusterView& view = MutableView(kNodes);
  Node fresh = GetFixture(kNodes).cluster.snapshot.nodes[42];
  fresh.name = "node-2500a";
  RunEvents(state, {[&] { return view.UpsertNode(NodeInfoOf(fresh)); },
                    [&] { return view.UpsertHypervisor(HypervisorInfoOf(fresh)); },
                    [&] { return view.RemoveNode(fresh.name); },
                    [&] { return view.RemoveHypervisor(fresh.name); }});
}
BENCHMARK(BM_UpdateNodeAddedAndRemoved)->Apply(WithRange);

}  // namespace
}  // namespace ferry::placement::bench

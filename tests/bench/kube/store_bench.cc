// store_bench: what keeping informer objects packed (CBOR) costs the readers.
//   build/release/tests/bench/kube/store_bench
// Pack/Unpack of a VirtualMachine as the API server returns it, and the Store operations a
// controller does per reconcile (Get, ByIndex) with 10,000 VMs cached. See docs/kube-client.md.
#include <benchmark/benchmark.h>

#include <string>

#include "kube/store.h"

namespace {

using ferry::kube::Json;
using ferry::kube::ObjectPtr;
using ferry::kube::PackedObject;
using ferry::kube::Store;

// A VirtualMachine as kube-apiserver 1.20 returns it for tests/bench/kube's objects (CRD
// defaults applied, managedFields dropped), with the status a running VM has.
Json Vm(int i) {
  const std::string name = "vm-" + std::to_string(i);
  return Json::parse(R"({"apiVersion":"ferry.dev/v1alpha1","kind":"VirtualMachine","metadata":{
    "creationTimestamp":"2026-11-26T05:03:30Z","generation":1,"labels":{"app":"db","tier":"backend"},
    "name":")" + name + R"(","namespace":"bench","resourceVersion":")" + std::to_string(1000 + i) + R"(",
    "uid":"ae33c59a-eff6-4758-8914-1495ed054d99"},
    "spec":{"cpuModel":"host-passthrough","cpus":4,"dedicatedCpus":false,
      "disks":[{"format":"raw","name":"root","path":"/srv/shared/)" + name + R"(.qcow2","type":"Shared"}],
      "evictionStrategy":"LiveMigrate","memory":"8Gi","nodeSelector":{"ferry.dev/pool":"general"},
      "running":true,"serverGroup":"db-group"},
    "status":{"phase":"Running","nodeName":"node-)" + std::to_string(i % 100) + R"(",
      "conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-26T05:03:31Z"}]}})");
}

std::vector<std::string> NodeOf(const Json& o) { return {o["status"]["nodeName"].get<std::string>()}; }

void BM_Pack(benchmark::State& state) {
  const Json vm = Vm(1);
  for (auto _ : state) {
    PackedObject p(vm);
    benchmark::DoNotOptimize(p);
  }
  state.counters["packed_bytes"] = static_cast<double>(PackedObject(vm).size());
  state.counters["json_bytes"] = static_cast<double>(vm.dump().size());
}
BENCHMARK(BM_Pack);

void BM_Unpack(benchmark::State& state) {
  const PackedObject p(Vm(1));
  for (auto _ : state) benchmark::DoNotOptimize(p.Unpack());
}
BENCHMARK(BM_Unpack);

// For comparison: parsing the same object from JSON text, as a watch event is.
void BM_ParseJsonText(benchmark::State& state) {
  const std::string text = Vm(1).dump();
  for (auto _ : state) benchmark::DoNotOptimize(Json::parse(text));
}
BENCHMARK(BM_ParseJsonText);

Store& Filled() {
  static Store* s = [] {
    auto* st = new Store;
    st->AddIndex("node", NodeOf);
    for (int i = 0; i < 10000; ++i) st->Upsert(std::make_shared<const Json>(Vm(i)));
    return st;
  }();
  return *s;
}

void BM_StoreGet(benchmark::State& state) {
  Store& s = Filled();
  int i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(s.Get("bench/vm-" + std::to_string(i++ % 10000)));
}
BENCHMARK(BM_StoreGet);

// The VMs of one node (100 per node here), as placement asks.
void BM_StoreByIndex(benchmark::State& state) {
  Store& s = Filled();
  int i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(s.ByIndex("node", "node-" + std::to_string(i++ % 100)));
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_StoreByIndex);

void BM_StoreUpsert(benchmark::State& state) {
  Store& s = Filled();
  std::vector<ObjectPtr> vms;
  for (int i = 0; i < 100; ++i) vms.push_back(std::make_shared<const Json>(Vm(i)));
  int i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(s.Upsert(vms[i++ % 100]));
}
BENCHMARK(BM_StoreUpsert);

// A full scan of 10,000 VMs, one decoded at a time.
void BM_StoreForEach(benchmark::State& state) {
  Store& s = Filled();
  for (auto _ : state) {
    size_t n = 0;
    s.ForEach([&n](const ObjectPtr&) { ++n; });
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_StoreForEach)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

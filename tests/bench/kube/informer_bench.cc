// informer_bench: the Kubernetes client's throughput and memory against a real API server.
//
//   informer_bench --populate N      create N VirtualMachines and N VirtualMachineMigrations
//                                    in namespace "bench" (prints the resourceVersion before)
//   informer_bench --replay-from RV  run informers for VMs and VMMs: list everything, then
//                                    watch from RV (with --watch-cache=false etcd replays every
//                                    event since RV) through watch -> decode -> informer ->
//                                    work queue, and print events/s and resident memory.
// tests/bench/kube/run.sh starts its own API server and runs both; see docs/kube-client.md.
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "controller/workqueue.h"
#include "core/malloc_tuning.h"
#include "kube/config.h"
#include "kube/informer.h"
#include "kube/rest_client.h"

namespace {

using ferry::kube::Json;

long RssKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// Realistic objects: what the operator and handlers will write into spec and status.
Json BenchVm(int i) {
  const std::string name = "vm-" + std::to_string(i);
  return Json::parse(R"({"apiVersion":"ferry.dev/v1alpha1","kind":"VirtualMachine",
    "metadata":{"name":")" + name + R"(","namespace":"bench","labels":{"app":"db","tier":"backend"}},
    "spec":{"running":true,"cpus":4,"memory":"8Gi","cpuModel":"host-passthrough","dedicatedCpus":false,
      "serverGroup":"db-group","evictionStrategy":"LiveMigrate","nodeSelector":{"ferry.dev/pool":"general"},
      "boot":{"kernel":"/var/lib/ferry/images/vmlinuz","initrd":"/var/lib/ferry/images/initrd.img","cmdline":"console=ttyS0 root=/dev/vda"},
      "disks":[{"name":"root","type":"Shared","path":"/srv/shared/)" + name + R"(.qcow2"}]}})");
}

Json BenchVmm(int i) {
  const std::string name = "move-" + std::to_string(i);
  return Json::parse(R"({"apiVersion":"ferry.dev/v1alpha1","kind":"VirtualMachineMigration",
    "metadata":{"name":")" + name + R"(","namespace":"bench"},
    "spec":{"vmName":"vm-)" + std::to_string(i) + R"(","mode":"Auto","bandwidth":"100Mi","maxDowntime":"300ms","priority":100}})");
}

int Populate(ferry::kube::ApiClient& api, int n) {
  using namespace ferry::kube;
  (void)api.Create(resources::kNamespaces, "", Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "bench"}}}});
  ListOptions one;
  one.limit = 1;
  auto before = api.List(resources::kVirtualMachines, "bench", one);
  if (!before.ok()) {
    std::fprintf(stderr, "list: %s\n", before.status().ToString().c_str());
    return 1;
  }
  std::printf("resourceVersion before populate: %s\n", before->resource_version.c_str());
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<int> next{0}, failed{0};
  auto worker = [&] {
    for (int i; (i = next++) < n;) {
      if (!api.Create(resources::kVirtualMachines, "bench", BenchVm(i)).ok()) ++failed;
      if (!api.Create(resources::kVirtualMachineMigrations, "bench", BenchVmm(i)).ok()) ++failed;
    }
  };
  std::vector<std::jthread> threads;
  for (int t = 0; t < 8; ++t) threads.emplace_back(worker);
  threads.clear();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("created %d objects in %.1f s (%.0f creates/s), %d failed\n", 2 * n, s, 2 * n / s, failed.load());
  return failed == 0 ? 0 : 1;
}

int Replay(ferry::kube::ApiClient& api, const std::string& from_rv, int expect) {
  using namespace ferry::kube;
  const long rss0 = RssKiB();
  ferry::controller::WorkQueueOptions qo;
  qo.name = "bench";
  ferry::controller::WorkQueue queue(std::move(qo));
  // Phase 1: list both resources into informers (what an operator does at start).
  InformerOptions opts;
  opts.ns = "bench";
  Informer vms(api, resources::kVirtualMachines, opts);
  Informer vmms(api, resources::kVirtualMachineMigrations, opts);
  vms.AddIndex("node", [](const Json& o) {
    auto s = o.find("status");
    return s != o.end() && s->contains("nodeName") ? std::vector<std::string>{(*s)["nodeName"]} : std::vector<std::string>{};
  });
  for (Informer* inf : {&vms, &vmms}) {
    inf->AddEventHandler({[&](const ObjectPtr& o) { queue.Add(ObjectKey(*o)); },
                          [&](const ObjectPtr&, const ObjectPtr& o) { queue.Add(ObjectKey(*o)); }, nullptr});
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::jthread a([&](std::stop_token st) { vms.Run(st); });
  std::jthread b([&](std::stop_token st) { vmms.Run(st); });
  vms.WaitForSync(a.get_stop_token(), std::chrono::minutes(5));
  vmms.WaitForSync(b.get_stop_token(), std::chrono::minutes(5));
  const double list_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const size_t cached = vms.store().Size() + vmms.store().Size();
  std::printf("list: %zu objects cached in %.2f s (%.0f objects/s)\n", cached, list_s, cached / list_s);
  const long rss_cached = RssKiB();
  // What the heap still holds after the list is parsed and dropped, versus the cache itself:
  // malloc_trim returns freed pages (response bodies, parse temporaries) to the kernel.
  ::malloc_trim(0);
  const long rss_trimmed = RssKiB();
  std::printf("resident memory: %.1f MiB at start, %.1f MiB with %zu VMs + %zu migrations cached, "
              "%.1f MiB after malloc_trim (%.2f KiB/object)\n",
              rss0 / 1024.0, rss_cached / 1024.0, vms.store().Size(), vmms.store().Size(), rss_trimmed / 1024.0,
              static_cast<double>(rss_trimmed - rss0) / static_cast<double>(cached));
  const struct mallinfo2 mi = ::mallinfo2();
  const size_t packed = vms.store().PackedBytes() + vmms.store().PackedBytes();
  std::printf("heap: %.1f MiB in use (packed objects %.1f MiB = %.0f B/object; %zu keys queued), "
              "%.1f MiB free in the heap\n",
              static_cast<double>(mi.uordblks + mi.hblkhd) / 1048576.0, static_cast<double>(packed) / 1048576.0,
              static_cast<double>(packed) / static_cast<double>(cached), queue.Len(),
              static_cast<double>(mi.fordblks) / 1048576.0);
  a.request_stop();
  b.request_stop();
  a.join();
  b.join();

  // Phase 2: a raw watch replay from `from_rv`: every event decoded and pushed to a queue.
  if (!from_rv.empty()) {
    for (const auto* rt : {&resources::kVirtualMachines, &resources::kVirtualMachineMigrations}) {
      std::stop_source stop;
      size_t events = 0;
      Store store;
      const auto w0 = std::chrono::steady_clock::now();
      WatchOptions wo;
      wo.resource_version = from_rv;
      wo.allow_bookmarks = false;
      wo.timeout_seconds = 120;
      ferry::Status st = api.Watch(*rt, "bench", wo, [&](const WatchEvent& ev) {
        auto obj = std::make_shared<const Json>(ev.object);
        store.Upsert(obj);
        queue.Add(ObjectKey(*obj));
        return ++events < static_cast<size_t>(expect);
      }, stop.get_token());
      const double ws = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
      std::printf("watch replay %s: %zu events in %.2f s = %.0f events/s (watch -> decode -> store -> queue)%s\n",
                  rt->resource.c_str(), events, ws, events / ws, st.ok() ? "" : (" error: " + st.ToString()).c_str());
    }
  }
  std::printf("queue: %zu distinct keys waiting\n", queue.Len());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ferry::LimitMallocArenas();  // as ferry-operator does
  if (argc < 3) {
    std::fprintf(stderr, "usage: informer_bench --populate N | --replay-from RV [--expect N]\n");
    return 2;
  }
  auto cfg = ferry::kube::LoadDefaultConfig();
  if (!cfg.ok()) {
    std::fprintf(stderr, "%s\n", cfg.status().ToString().c_str());
    return 1;
  }
  // The benchmark measures the client and the server, not the client-side rate limiter
  // (client-go's 5 qps default would make populating 20,000 objects take over an hour).
  ferry::kube::RestOptions ro;
  ro.qps = 0;
  auto api = ferry::kube::RestApiClient::FromConfig(*cfg, ro);
  if (std::strcmp(argv[1], "--populate") == 0) return Populate(*api, std::atoi(argv[2]));
  int expect = argc >= 5 ? std::atoi(argv[4]) : 10000;
  return Replay(*api, std::strcmp(argv[1], "--replay-from") == 0 ? argv[2] : "", expect);
}

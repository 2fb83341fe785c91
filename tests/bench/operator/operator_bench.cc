// operator_bench: apply → Scheduled latency of a burst of VirtualMachineMigrations against a
// real API server, with ferry-operator as its own process, and the operator's resident memory.
//
//   operator_bench --operator BIN [--nodes 100] [--vms 1000] [--burst 100]
//                  [--operator-log FILE] [--operator-arg ARG]...   (e.g. --operator-arg -v=2)
//
// Populates a namespace with N Nodes + Hypervisors (ready, one heartbeat) and M running VMs
// spread over them, starts ferry-operator for that namespace (heartbeat timeout 1 h, so no
// heartbeat writer loads the machine; limits raised to the burst, so the figure is the
// operator's decision and write path, not the queue a limit of 5 makes), waits until its
// start-up work is done, then creates `burst` VMMs (one per VM, each VM on its own node
// round-robin) from 4 threads and watches them through an informer: latency = the moment the
// informer sees phase Scheduled − the moment before the VMM's create was sent.
// tests/bench/operator/run.sh starts the API server and prints the machine and its load.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cluster_driver.h"
#include "kube/config.h"
#include "kube/informer.h"
#include "kube/rest_client.h"

namespace {

using ferry::kube::Json;
using Clock = std::chrono::steady_clock;
namespace res = ferry::kube::resources;
const ferry::kube::ResourceType kHv{"ferry.dev", "v1alpha1", "hypervisors", "Hypervisor", false};

long RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// Runs `fn(i)` for i in [0, n) on `threads` threads.
template <typename Fn>
void Parallel(int n, int threads, Fn fn) {
  std::atomic<int> next{0};
  std::vector<std::jthread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      for (int i; (i = next++) < n;) fn(i);
    });
  }
}

std::string NodeName(const std::string& p, int i) { return p + "-node-" + std::to_string(i); }

// The operator's /metrics sample `name` summed over its label sets, or -1.
double Metric(int port, const std::string& name) {
  const std::string cmd = "curl -sf http://127.0.0.1:" + std::to_string(port) + "/metrics";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  double sum = -1;
  char line[4096];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    const std::string l(line);
    if (l.rfind(name, 0) != 0) continue;
    const size_t sp = l.rfind(' ');
    sum = std::max(sum, 0.0) + std::stod(l.substr(sp + 1));
  }
  ::pclose(p);
  return sum;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  std::string op_bin, op_log = "/dev/null";
  std::vector<std::string> op_extra;
  int nodes = 100, vms = 1000, burst = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--operator") op_bin = argv[i + 1];
    if (a == "--operator-log") op_log = argv[i + 1];
    if (a == "--operator-arg") op_extra.push_back(argv[i + 1]);
    if (a == "--nodes") nodes = std::atoi(argv[i + 1]);
    if (a == "--vms") vms = std::atoi(argv[i + 1]);
    if (a == "--burst") burst = std::atoi(argv[i + 1]);
  }
  if (op_bin.empty() || burst > vms || nodes <= 0) {
    std::fprintf(stderr, "usage: operator_bench --operator BIN [--nodes N] [--vms M] [--burst B]\n");
    return 2;
  }
  auto cfg = ferry::kube::LoadDefaultConfig();
  if (!cfg.ok()) {
    std::fprintf(stderr, "%s\n", cfg.status().ToString().c_str());
    return 1;
  }
  ferry::kube::RestOptions ro;
  ro.qps = 0;  // the benchmark's own client is not the subject
  auto api = ferry::kube::RestApiClient::FromConfig(*cfg, ro);
  const std::string p = "b" + std::to_string(std::random_device{}() % 100000);
  const std::string ns = "opbench-" + p;
  (void)api->Create(res::kNamespaces, "",
                    Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});

  // ---- the cluster: nodes with their Hypervisors, running VMs spread over them ----
  auto t0 = Clock::now();
  std::atomic<int> failed{0};
  ferry::op::testing::ClusterDriver driver(*api, ns);  // Nodes and Hypervisors only: no loop
  Parallel(nodes, 8, [&](int i) { driver.AddNode({NodeName(p, i), 64, "256Gi"}); });
  Parallel(vms, 8, [&](int i) {
    const std::string name = "vm-" + std::to_string(i);
    const std::string node = NodeName(p, i % nodes);
    Json vm = {{"apiVersion", "ferry.dev/v1alpha1"},
               {"kind", "VirtualMachine"},
               {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"ferry.dev/node", node}}}}},
               {"spec",
                {{"running", true},
                 {"cpus", 2},
                 {"memory", "4Gi"},
                 {"disks", {{{"name", "root"}, {"type", "Shared"}, {"path", "/srv/" + name}}}}}}};
    auto c = api->Create(res::kVirtualMachines, ns, vm);
    if (!c.ok()) {
      ++failed;
      return;
    }
    Json obj = *c;
    obj["status"] = {{"phase", "Running"}, {"nodeName", node}};
    if (!api->UpdateStatus(res::kVirtualMachines, obj).ok()) ++failed;
  });
  std::printf("populated %d nodes + hypervisors, %d running VMs in %.1f s (%d failed requests)\n",
              nodes, vms, std::chrono::duration<double>(Clock::now() - t0).count(), failed.load());

  // ---- the operator ----
  const int port = 20000 + static_cast<int>(std::random_device{}() % 20000);
  const std::string lim = std::to_string(burst);
  std::vector<std::string> args = {op_bin, "--leader-elect=false", "--namespace", ns,
                                   "--ops-address", "127.0.0.1:" + std::to_string(port),
                                   "--heartbeat-timeout", "1h", "--max-migrations", lim,
                                   "--max-outbound-migrations-per-node", lim,
                                   "--max-inbound-migrations-per-node", lim};
  args.insert(args.end(), op_extra.begin(), op_extra.end());
  // Only async-signal-safe calls between fork and execv: everything is prepared before.
  std::vector<char*> av;
  for (auto& a : args) av.push_back(a.data());
  av.push_back(nullptr);
  const int log = ::open(op_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  t0 = Clock::now();
  const pid_t op = fork();
  if (op == 0) {
    ::dup2(log, 2);
    execv(op_bin.c_str(), av.data());
    _exit(127);
  }
  ::close(log);
  // Start-up: caches synced, every VM reconciled once (its conditions written), queues empty.
  int quiet = 0;
  for (int i = 0; i < 1200 && quiet < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const double vm_reconciles = Metric(port, "ferry_controller_reconcile_total{controller=\"vm\"");
    const double depth = Metric(port, "ferry_workqueue_depth");
    quiet = vm_reconciles >= vms && depth == 0 ? quiet + 1 : 0;
  }
  if (quiet < 6) {
    std::fprintf(stderr, "the operator did not settle\n");
    ::kill(op, SIGKILL);
    return 1;
  }
  const double settle_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const long rss_idle = RssKiB(op);
  std::printf("operator settled in %.1f s (caches synced, %d VMs reconciled); RSS %.1f MiB\n",
              settle_s, vms, rss_idle / 1024.0);

  // ---- the burst ----
  std::mutex mu;
  std::map<std::string, Clock::time_point> sent, scheduled;
  ferry::kube::InformerOptions io;
  io.ns = ns;
  ferry::kube::Informer watch(*api, res::kVirtualMachineMigrations, io);
  auto seen = [&](const ferry::kube::ObjectPtr& o) {
    const Json& m = *o;
    if (m.value("status", Json::object()).value("phase", "") != "Scheduled") return;
    const auto now = Clock::now();
    std::lock_guard l(mu);
    scheduled.emplace(m["metadata"].value("name", ""), now);
  };
  watch.AddEventHandler({seen, [&](const auto&, const auto& o) { seen(o); }, nullptr});
  std::jthread w([&](std::stop_token st) { watch.Run(st); });
  watch.WaitForSync(w.get_stop_token(), std::chrono::minutes(1));

  t0 = Clock::now();
  Parallel(burst, 4, [&](int i) {
    const std::string name = "burst-" + std::to_string(i);
    Json m = {{"apiVersion", "ferry.dev/v1alpha1"},
              {"kind", "VirtualMachineMigration"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec", {{"vmName", "vm-" + std::to_string(i)}}}};
    {
      std::lock_guard l(mu);
      sent[name] = Clock::now();
    }
    if (!api->Create(res::kVirtualMachineMigrations, ns, m).ok()) ++failed;
  });
  const double create_s = std::chrono::duration<double>(Clock::now() - t0).count();
  for (int i = 0; i < 600; ++i) {
    {
      std::lock_guard l(mu);
      if (static_cast<int>(scheduled.size()) >= burst) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const long rss_after = RssKiB(op);
  std::vector<double> ms;
  Clock::time_point last = t0;
  {
    std::lock_guard l(mu);
    for (const auto& [name, at] : scheduled) {
      auto s = sent.find(name);
      if (s == sent.end()) continue;
      ms.push_back(std::chrono::duration<double, std::milli>(at - s->second).count());
      last = std::max(last, at);
    }
  }
  ::kill(op, SIGTERM);
  int st = 0;
  ::waitpid(op, &st, 0);
  w.request_stop();
  (void)api->Delete(res::kNamespaces, "", ns);
  Parallel(nodes, 8, [&](int i) {
    (void)api->Delete(res::kNodes, "", NodeName(p, i));
    (void)api->Delete(kHv, "", NodeName(p, i));
  });
  if (static_cast<int>(ms.size()) < burst) {
    std::fprintf(stderr, "only %zu of %d VMMs reached Scheduled\n", ms.size(), burst);
    return 1;
  }
  std::printf("burst: %d VMMs created in %.2f s (4 threads); all Scheduled %.2f s after the first\n",
              burst, create_s, std::chrono::duration<double>(last - t0).count());
  std::printf("apply -> Scheduled: p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms\n",
              Percentile(ms, 50), Percentile(ms, 90), Percentile(ms, 99), Percentile(ms, 100));
  std::printf("ferry-operator RSS: %.1f MiB settled, %.1f MiB after the burst\n", rss_idle / 1024.0,
              rss_after / 1024.0);
  return 0;
}

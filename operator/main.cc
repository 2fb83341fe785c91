// ferry-operator: the cluster-wide brain (DESIGN.md §1). This foundation build connects to
// the API server, campaigns for leadership on a Lease, and, while leading, keeps informer
// caches of Ferry's resources and Nodes; it serves /healthz, /readyz and /metrics. The
// controllers (placement, migration phase machine, evacuation) plug in on top of these caches.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "core/malloc_tuning.h"
#include "http/ops_server.h"
#include "kube/config.h"
#include "kube/informer.h"
#include "kube/leader_election.h"
#include "kube/rest_client.h"

namespace {

struct Flags {
  std::string kubeconfig;
  std::string context;
  bool leader_elect = true;
  std::string lease_namespace = "ferry-system";
  std::string lease_name = "ferry-operator";
  std::string identity;
  std::string ops_host = "0.0.0.0";
  int ops_port = 8080;
};

void Usage() {
  std::fprintf(stderr,
               "usage: ferry-operator [--kubeconfig PATH] [--context NAME] [--leader-elect=true|false]\n"
               "                      [--lease-namespace NS] [--lease-name NAME] [--id IDENTITY]\n"
               "                      [--ops-address HOST:PORT]   (default 0.0.0.0:8080; port 0 = any)\n");
}

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      const std::string prefix = std::string(name) + "=";
      if (a.rfind(prefix, 0) == 0) return argv[i] + prefix.size();
      if (a == name && i + 1 < argc) return argv[++i];
      return nullptr;
    };
    if (const char* v = value("--kubeconfig")) {
      f->kubeconfig = v;
    } else if (const char* v2 = value("--context")) {
      f->context = v2;
    } else if (const char* v3 = value("--leader-elect")) {
      f->leader_elect = std::string(v3) != "false";
    } else if (const char* v4 = value("--lease-namespace")) {
      f->lease_namespace = v4;
    } else if (const char* v5 = value("--lease-name")) {
      f->lease_name = v5;
    } else if (const char* v6 = value("--id")) {
      f->identity = v6;
    } else if (const char* v7 = value("--ops-address")) {
      std::string hp = v7;
      auto colon = hp.rfind(':');
      if (colon == std::string::npos) return false;
      f->ops_host = hp.substr(0, colon);
      f->ops_port = std::atoi(hp.c_str() + colon + 1);
    } else {
      return false;
    }
  }
  return true;
}

std::string DefaultIdentity() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "_%08x", rd());
  return std::string(host) + suffix;
}

std::stop_source g_stop;
// The handler only sets a flag (async-signal-safe); a thread turns it into a stop request.
volatile std::sig_atomic_t g_signalled = 0;
extern "C" void OnSignal(int) { g_signalled = 1; }

void Log(const std::string& msg) { std::fprintf(stderr, "ferry-operator: %s\n", msg.c_str()); }

}  // namespace

int main(int argc, char** argv) {
  using namespace ferry;
  LimitMallocArenas();
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    Usage();
    return 2;
  }
  if (flags.identity.empty()) flags.identity = DefaultIdentity();
  auto cfg = flags.kubeconfig.empty() ? kube::LoadDefaultConfig() : kube::LoadKubeconfig(flags.kubeconfig, flags.context);
  if (!cfg.ok()) {
    Log("cannot load cluster configuration: " + cfg.status().ToString());
    return 1;
  }
  auto api = kube::RestApiClient::FromConfig(*cfg);

  auto registry = std::make_shared<prometheus::Registry>();
  auto& leader_gauge = prometheus::BuildGauge()
                           .Name("ferry_operator_leader")
                           .Help("1 while this replica holds the ferry-operator lease, else 0.")
                           .Register(*registry)
                           .Add({});
  auto& cached = prometheus::BuildGauge()
                     .Name("ferry_operator_cached_objects")
                     .Help("Objects in the operator's informer caches, by resource.")
                     .Register(*registry);
  auto& cache_bytes = prometheus::BuildGauge()
                          .Name("ferry_operator_cache_bytes")
                          .Help("Packed (CBOR) size of the objects in the operator's informer caches, by resource.")
                          .Register(*registry);

  // Informers run only while leading: a standby keeps no caches and does no work.
  const std::vector<kube::ResourceType> watched = {kube::resources::kVirtualMachines,
                                                   kube::resources::kVirtualMachineMigrations,
                                                   kube::resources::kServerGroups,
                                                   kube::resources::kMigrationPolicies, kube::resources::kNodes};
  std::vector<std::unique_ptr<kube::Informer>> informers;
  for (const auto& rt : watched) informers.push_back(std::make_unique<kube::Informer>(*api, rt));

  std::atomic<bool> leading{!flags.leader_elect};
  http::OpsServer ops(registry);
  ops.AddLivenessCheck("ping", [] { return OkStatus(); });
  ops.AddReadinessCheck("informers", [&] {
    if (!leading) return OkStatus();  // a standby is ready to take over
    for (const auto& inf : informers) {
      if (!inf->HasSynced()) return UnavailableError(inf->resource().resource + " not synced");
    }
    return OkStatus();
  });
  auto port = ops.Start(flags.ops_host, flags.ops_port);
  if (!port.ok()) {
    Log("cannot serve /healthz: " + port.status().ToString());
    return 1;
  }
  Log("identity " + flags.identity + ", serving /healthz /readyz /metrics on " + flags.ops_host + ":" +
      std::to_string(*port));

  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::jthread signal_watcher([](std::stop_token st) {
    while (!st.stop_requested() && g_signalled == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    g_stop.request_stop();
  });

  auto lead = [&](std::stop_token stop) {
    leading = true;
    leader_gauge.Set(1);
    Log("leading: starting informers");
    std::vector<std::jthread> threads;
    for (auto& inf : informers) {
      threads.emplace_back([&inf, stop](std::stop_token) { inf->Run(stop); });
    }
    while (!stop.stop_requested()) {
      for (const auto& inf : informers) {
        cached.Add({{"resource", inf->resource().resource}}).Set(static_cast<double>(inf->store().Size()));
        cache_bytes.Add({{"resource", inf->resource().resource}})
            .Set(static_cast<double>(inf->store().PackedBytes()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  };

  if (!flags.leader_elect) {
    lead(g_stop.get_token());
    return 0;
  }
  // Leading runs in its own thread; losing the lease stops it and exits the process, so a
  // restarted replica starts clean (as controller-runtime does).
  std::stop_source lead_stop;
  std::jthread leader_thread;
  kube::LeaderElectionConfig le;
  le.lease_namespace = flags.lease_namespace;
  le.lease_name = flags.lease_name;
  le.identity = flags.identity;
  le.on_started_leading = [&] {
    Log("acquired lease " + le.lease_namespace + "/" + le.lease_name);
    leader_thread = std::jthread([&](std::stop_token) { lead(lead_stop.get_token()); });
  };
  le.on_stopped_leading = [&] {
    leader_gauge.Set(0);
    lead_stop.request_stop();
  };
  le.on_new_leader = [](const std::string& who) { Log("current leader: " + who); };
  kube::LeaderElector elector(*api, le);
  Status st = elector.Run(g_stop.get_token());
  lead_stop.request_stop();
  if (leader_thread.joinable()) leader_thread.join();
  if (!st.ok() && st.code() != StatusCode::kCancelled) {
    Log(st.ToString());
    return 1;
  }
  Log("stopped");
  return 0;
}

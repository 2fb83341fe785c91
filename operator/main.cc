// ferry-operator: the cluster-wide brain. flags -> cluster config -> Manager (leader election,
// shared informer caches, /healthz /readyz /metrics) -> controllers -> Run. Controllers are
// added in AddControllers (see docs/kube-client.md, "Writing a controller").
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/malloc_tuning.h"
#include "kube/config.h"
#include "kube/rest_client.h"
#include "manager/manager.h"

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

// The operator's caches and controllers. Controllers get their informers from
// mgr.SharedInformer(...) and register with mgr.AddController(...).
ferry::Status AddControllers(ferry::manager::Manager& mgr) {
  using namespace ferry::kube;
  for (const auto* rt : {&resources::kVirtualMachines, &resources::kVirtualMachineMigrations, &resources::kServerGroups,
                         &resources::kMigrationPolicies, &resources::kNodes}) {
    mgr.SharedInformer(*rt);
  }
  return ferry::OkStatus();
}

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
  // The elector has a client of its own: its own rate limit, and requests bounded well
  // inside the renew deadline, so controllers' traffic never delays a renewal.
  kube::RestOptions election_rest;
  election_rest.request_timeout = std::chrono::seconds(4);
  auto election_api = kube::RestApiClient::FromConfig(*cfg, election_rest);

  manager::ManagerOptions mo;
  mo.name = "ferry-operator";
  mo.metrics_prefix = "ferry_operator";
  mo.ops_host = flags.ops_host;
  mo.ops_port = flags.ops_port;
  if (flags.leader_elect) {
    kube::LeaderElectionConfig le;
    le.lease_namespace = flags.lease_namespace;
    le.lease_name = flags.lease_name;
    le.identity = flags.identity;
    le.on_new_leader = [](const std::string& who) { Log("current leader: " + who); };
    mo.leader_election = le;
    mo.election_api = election_api.get();
  }
  manager::Manager mgr(*api, std::move(mo));
  if (Status st = AddControllers(mgr); !st.ok()) {
    Log("cannot set up controllers: " + st.ToString());
    return 1;
  }
  Log("identity " + flags.identity);

  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::jthread signal_watcher([](std::stop_token st) {
    while (!st.stop_requested() && g_signalled == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    g_stop.request_stop();
  });
  // Losing the lease ends Run with an error and the process exits, so a restarted replica
  // starts clean (as controller-runtime does).
  Status st = mgr.Run(g_stop.get_token());
  if (!st.ok()) {
    Log(st.ToString());
    return 1;
  }
  Log("stopped");
  return 0;
}

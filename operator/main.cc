// ferry-operator: the cluster-wide brain. flags -> cluster config -> Manager (leader election,
// shared informer caches, /healthz /readyz /metrics) -> controllers -> Run. Controllers are
// wired by op::Operator (operator/operator.h); flags in operator/flags.h.
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
#include "flags.h"
#include "kube/config.h"
#include "kube/rest_client.h"
#include "log/log.h"
#include "manager/manager.h"
#include "operator.h"

namespace {

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

ferry::log::Ref Self() { return ferry::log::Obj("process", "ferry-operator"); }

}  // namespace

int main(int argc, char** argv) {
  using namespace ferry;
  LimitMallocArenas();
  op::CommandLine flags;
  if (auto exit_code = op::ParseCommandLine(argc, argv, &flags)) return *exit_code;
  if (flags.identity.empty()) flags.identity = DefaultIdentity();
  auto cfg = flags.kubeconfig.empty() ? kube::LoadDefaultConfig()
                                      : kube::LoadKubeconfig(flags.kubeconfig, flags.context);
  if (!cfg.ok()) {
    log::Error(Self(), "Cannot load the cluster configuration").Err(cfg.status());
    return 1;
  }
  kube::RestOptions rest;
  rest.qps = flags.kube_qps;
  rest.burst = flags.kube_burst;
  auto api = kube::RestApiClient::FromConfig(*cfg, rest);
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
    le.on_new_leader = [lease = log::Obj("lease", le.lease_namespace, le.lease_name)](
                           const std::string& who) {
      log::Info(lease, "New leader").With("leader", who);
    };
    mo.leader_election = le;
    mo.election_api = election_api.get();
  }
  manager::Manager mgr(*api, std::move(mo));
  op::Operator controllers(*api, flags.options);
  if (Status st = controllers.Register(mgr); !st.ok()) {
    log::Error(Self(), "Cannot set up the controllers").Err(st);
    return 1;
  }
  log::Info(Self(), "Starting").With("identity", flags.identity);

  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::jthread signal_watcher([](std::stop_token st) {
    while (!st.stop_requested() && g_signalled == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    g_stop.request_stop();
  });
  // Losing the lease ends Run with an error and the process exits, so a restarted replica
  // starts clean (as controller-runtime does).
  Status st = mgr.Run(g_stop.get_token());
  if (!st.ok()) {
    log::Error(Self(), "Stopped").Err(st);
    return 1;
  }
  log::Info(Self(), "Stopped");
  return 0;
}

// kubectl-ferry: the `kubectl ferry` plugin (kubectl runs any kubectl-<name> on PATH).
//   kubectl ferry migrate VM [--to NODE] [--mode Auto|PreCopy|PostCopy] [--wait]
//   kubectl ferry cancel VMM [--wait]
//   kubectl ferry plan-drain NODE
//   kubectl ferry drain NODE [--wait]
//   kubectl ferry explain VM [--to NODE]
//   kubectl ferry status
// plan-drain and explain decide with the operator's own cluster state and placement engine
// (cluster_load.h); the rest reads and writes the API objects the operator and handlers use.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "api/time.h"
#include "commands.h"
#include "core/clock.h"
#include "kube/config.h"
#include "kube/rest_client.h"

namespace {

using namespace ferry;

struct Flags {
  std::string kubeconfig, context, ns, output;
  std::string heartbeat_timeout = "40s";
  std::string timeout = "30m";
  std::string lease_namespace = "ferry-system", lease_name = "ferry-operator";
};

StatusOr<std::chrono::nanoseconds> Duration(const std::string& flag, const std::string& text) {
  auto d = api::ParseDuration(text);
  if (!d.ok() || d->count() <= 0)
    return InvalidError(flag + ": a positive duration like 40s, got '" + text + "'");
  return *d;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "kubectl ferry: migrate Ferry's VMs, drain nodes, and see why the placement engine decides "
      "what it does (the operator's own engine and cluster view)."};
  app.require_subcommand(1);
  // kubectl's global flags go anywhere: `kubectl ferry plan-drain node-b -o json`.
  app.fallthrough();
  Flags f;
  app.add_option("--kubeconfig", f.kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, ~/.kube/config)");
  app.add_option("--context", f.context, "kubeconfig context");
  app.add_option("-n,--namespace", f.ns,
                 "namespace of VMs and migrations (default: the context's)");
  app.add_option("-o,--output", f.output, "json or yaml instead of a table");
  app.add_option(
      "--heartbeat-timeout", f.heartbeat_timeout,
      "a handler whose heartbeat is older gets no placements (the operator's flag) [40s]");
  app.add_option("--lease-namespace", f.lease_namespace,
                 "the operator's leader-election Lease [ferry-system]");
  app.add_option("--lease-name", f.lease_name, "[ferry-operator]");

  kubectl::MigrateOptions mo;
  auto* migrate =
      app.add_subcommand("migrate", "create a VirtualMachineMigration for VM (ns/name or name)");
  migrate->add_option("vm", mo.vm, "the VM")->required();
  migrate->add_option("--to", mo.to, "target node (default: the operator chooses)");
  migrate->add_option("--mode", mo.mode,
                      "Auto, PreCopy or PostCopy (default: the MigrationPolicy's, else Auto)");
  migrate->add_option("--name", mo.name, "name of the migration (default: VM-<random>)");
  migrate->add_option("--bandwidth", mo.bandwidth, "bytes per second, e.g. 64Mi");
  migrate->add_option("--max-downtime", mo.max_downtime, "e.g. 300ms");
  migrate->add_flag("--offline", mo.offline, "cold migration");
  migrate->add_flag("--wait", mo.wait, "follow it to the end with a live progress line");
  migrate->add_option("--timeout", f.timeout, "give up waiting after this long [30m]");

  std::string vmm;
  bool cancel_wait = false;
  auto* cancel = app.add_subcommand(
      "cancel", "cancel migration VMM (deletes it; the guest stays on its source)");
  cancel->add_option("vmm", vmm, "the VirtualMachineMigration")->required();
  cancel->add_flag("--wait", cancel_wait, "wait until the migration has stopped");

  std::string node;
  auto* plan = app.add_subcommand(
      "plan-drain", "what draining NODE would do: VM -> target, order, blockers and why");
  plan->add_option("node", node, "the node")->required();

  bool drain_wait = false;
  auto* drain = app.add_subcommand("drain", "cordon NODE and follow the evacuation of its VMs");
  drain->add_option("node", node, "the node")->required();
  drain->add_flag("--wait", drain_wait, "follow the evacuation to the end with progress");
  drain->add_option("--timeout", f.timeout, "give up waiting after this long [30m]");

  std::string vm, to;
  auto* explain = app.add_subcommand("explain", "every node's verdict for VM, with the reason");
  explain->add_option("vm", vm, "the VM (ns/name or name)")->required();
  explain->add_option("--to", to, "judge a move to this node");

  auto* status =
      app.add_subcommand("status", "operator leader, handlers and heartbeats, active migrations");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  auto format = kubectl::ParseOutputFormat(f.output);
  auto heartbeat = Duration("--heartbeat-timeout", f.heartbeat_timeout);
  auto timeout = Duration("--timeout", f.timeout);
  for (const Status& st : {format.status(), heartbeat.status(), timeout.status()}) {
    if (!st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 2;
    }
  }
  auto cfg = f.kubeconfig.empty() ? kube::LoadDefaultConfig()
                                  : kube::LoadKubeconfig(f.kubeconfig, f.context);
  if (!cfg.ok()) {
    std::cerr << "error: cannot load the cluster configuration: " << cfg.status().message() << "\n";
    return 1;
  }
  kube::RestOptions rest;
  rest.user_agent = "kubectl-ferry/0.1";
  rest.qps = 50;
  rest.burst = 100;
  auto api = kube::RestApiClient::FromConfig(*cfg, rest);
  kubectl::Env env{*api, RealClock::Get(), std::cout, std::cerr};
  env.tty = ::isatty(STDOUT_FILENO) == 1;
  env.ns = f.ns.empty() ? cfg->default_namespace : f.ns;
  env.format = *format;
  env.heartbeat_timeout = *heartbeat;
  env.lease_namespace = f.lease_namespace;
  env.lease_name = f.lease_name;
  mo.timeout = *timeout;

  if (*migrate) return kubectl::Migrate(env, mo);
  if (*cancel) return kubectl::Cancel(env, vmm, cancel_wait, *timeout);
  if (*plan) return kubectl::PlanDrain(env, node);
  if (*drain) return kubectl::Drain(env, node, drain_wait, *timeout);
  if (*explain) return kubectl::Explain(env, vm, to);
  if (*status) return kubectl::ShowStatus(env);
  return 2;
}

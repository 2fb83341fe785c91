#include "flags.h"

#include <CLI/CLI.hpp>

#include "api/time.h"
#include "log/cli_flags.h"
#include "log/flags.h"

namespace ferry::op {

std::optional<int> ParseCommandLine(int argc, char** argv, CommandLine* c) {
  CLI::App app{
      "ferry-operator: places VMs on nodes and drives their live migrations (Ferry's cluster-wide "
      "controller). Defaults in brackets; durations in Go syntax (40s, 5m)."};
  app.option_defaults()->always_capture_default();
  // A flag given twice: the last wins (a manifest's extra args override the defaults).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.get_formatter()->column_width(44);

  app.add_option("--kubeconfig", c->kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)");
  app.add_option("--context", c->context, "kubeconfig context (default: the current one)");
  app.add_option("--leader-elect", c->leader_elect,
                 "campaign for the lease; false: act at once (one replica only)");
  app.add_option("--lease-namespace", c->lease_namespace, "namespace of the leader-election Lease");
  app.add_option("--lease-name", c->lease_name, "name of the leader-election Lease");
  app.add_option("--id", c->identity, "identity in the Lease (default: host name + random suffix)");
  cli::AddHostPortFlag(app, "--ops-address", &c->ops_host, &c->ops_port,
                       "serve /healthz /readyz /metrics here (port 0: any free port)");
  log::AddFlags(app, &c->log);
  app.add_option("--namespace", c->options.watch_namespace,
                 "only VMs, migrations and server groups of this namespace (default: all)");
  app.add_option("--kube-api-qps", c->kube_qps,
                 "client-side rate limit of API requests per second (0: none)");
  app.add_option("--kube-api-burst", c->kube_burst, "burst of the client-side rate limit");
  app.add_option("--workers", c->options.workers,
                 "worker threads of the vm and migration controllers")
      ->check(CLI::PositiveNumber);

  MigrationLimits& l = c->options.limits;
  app.add_option("--max-migrations", l.per_cluster,
                 "migrations from Scheduled until done, cluster-wide (KubeVirt: "
                 "parallelMigrationsPerCluster)")
      ->check(CLI::PositiveNumber);
  app.add_option(
         "--max-outbound-migrations-per-node", l.outbound_per_node,
         "migrations leaving one node at a time (KubeVirt: parallelOutboundMigrationsPerNode)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-inbound-migrations-per-node", l.inbound_per_node,
                 "migrations arriving at one node at a time")
      ->check(CLI::PositiveNumber);

  Deadlines& d = c->options.deadlines;
  cli::AddDurationFlag(app, "--target-prepare-timeout", &d.target_prepare,
               "Scheduled/PreparingTarget longer than this: Failed TargetNotReady");
  cli::AddDurationFlag(app, "--source-start-timeout", &d.source_start,
               "TargetReady longer than this (the source never started): Failed Timeout");
  cli::AddDurationFlag(app, "--heartbeat-timeout", &d.heartbeat_timeout,
               "a Hypervisor heartbeat not seen to change for this long (by the operator's own "
               "clock): handler lost (no placements; HandlerLost before Running)");
  cli::AddDurationFlag(
      app, "--running-handler-lost-timeout", &d.running_handler_lost,
      "a Running migration whose source handler was lost this long is marked "
      "GuestLocationUnknown (never failed; it waits for a handler's word)");

  EvacuationOptions& e = c->options.evacuation;
  app.add_option("--evacuation-priority", e.priority,
                 "priority of drain migrations; below 0 queues them behind user requests");
  app.add_option("--evacuation-max-attempts", e.max_attempts,
                 "failed migrations of one VM off a drained node before it is reported blocked")
      ->check(CLI::PositiveNumber);
  app.add_flag("--rebalance", e.rebalance,
               "move best-effort server-group violators back when a compliant node frees up");
  cli::AddDurationFlag(app, "--rebalance-interval", &e.rebalance_interval,
               "how often the rebalance plan is recomputed");
  cli::AddDurationFlag(app, "--heartbeat-check-interval", &c->options.heartbeat_check_interval,
               "how often heartbeats are judged against the clock");
  cli::AddDurationFlag(app, "--resync-interval", &c->options.resync_interval,
               "waiting migrations and unschedulable VMs are retried at least this often");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& err) {
    return app.exit(err);
  }
  return std::nullopt;
}

}  // namespace ferry::op

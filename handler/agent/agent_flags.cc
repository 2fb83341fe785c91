// `ferry-handler agent` flags over CLI11 (Debian's libcli11-dev), like ferry-operator's.
#include <CLI/CLI.hpp>

#include "agent/agent_config.h"
#include "api/quantity.h"
#include "api/time.h"
#include "domain/cpuset.h"
#include "log/cli_flags.h"
#include "log/flags.h"

namespace ferry::agent {
namespace {

void CpuSetFlag(CLI::App& app, const std::string& name, std::vector<int>* out,
                const std::string& help) {
  app.add_option_function<std::string>(
         name,
         [out, name](const std::string& v) {
           auto set = domain::ParseCpuSet(v);
           if (!set.ok()) throw CLI::ValidationError(name, set.status().message());
           *out = *set;
         },
         help)
      ->type_name("LIST");
}

void AddAgentFlags(CLI::App& app, AgentConfig* c) {
  app.option_defaults()->always_capture_default();
  // A flag given twice: the last wins (a manifest's extra args override the defaults).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.get_formatter()->column_width(40);
  app.add_option("--node", c->node_name, "this node (default: $NODE_NAME)");
  app.add_option("--libvirt-uri", c->libvirt_uri, "this node's libvirtd (a unix socket URI)");
  app.add_option("--kubeconfig", c->kubeconfig,
                 "kubeconfig file (default: in-cluster, then ~/.kube/config)");
  app.add_option("--context", c->context, "kubeconfig context (default: the current one)");
  app.add_option("--emulator", c->domain.emulator, "QEMU binary of the guests (default: libvirt's)");
  app.add_option("--virt-type", c->domain.virt_type, "kvm, or qemu (TCG)")
      ->check(CLI::IsMember({"kvm", "qemu"}));
  app.add_option("--machine", c->domain.machine,
                 "machine type, e.g. pc-i440fx-7.2 (default: the emulator's)");
  app.add_option("--default-cpu-model", c->domain.default_cpu_model,
                 "CPU model of VMs without cpuModel");
  app.add_option_function<std::string>(
         "--console-log-dir",
         [c](const std::string& v) {
           if (v.empty() || v[0] != '/')
             throw CLI::ValidationError("--console-log-dir", "an absolute path");
           c->domain.console_log_dir = v;
         },
         "serial console logs, as libvirtd sees the path")
      ->default_str(c->domain.console_log_dir)
      ->type_name("DIR");
  app.add_option("--qemu-version", c->qemu_version,
                 "reported QEMU version X.Y.Z (default: ask the emulator)");
  app.add_option("--migration-address", c->migration_address,
                 "where peers reach this libvirtd for migrations (required)");
  app.add_option("--migration-uri", c->migration_uri,
                 "targetURI (default qemu+tcp://MIGRATION-ADDRESS/system)");
  CpuSetFlag(app, "--reserved-cpus", &c->reserved_cpus, "host CPUs kept from guests, e.g. 0-1");
  CpuSetFlag(app, "--dedicated-cpus", &c->dedicated_cpus,
             "host CPUs for dedicatedCpus guests, e.g. 4-15");
  app.add_option_function<std::string>(
         "--reserved-memory",
         [c](const std::string& v) {
           auto q = api::Quantity::Parse(v);
           if (!q.ok() || q->Sign() < 0)
             throw CLI::ValidationError("--reserved-memory",
                                        "a quantity such as 1Gi, got '" + v + "'");
           c->reserved_memory_bytes = q->Value();
         },
         "host memory kept from guests, e.g. 1Gi")
      ->type_name("QTY");
  app.add_option("--cpu-allocation-ratio", c->cpu_allocation_ratio,
                 "vCPUs of unpinned guests per shared host CPU")
      ->check(CLI::PositiveNumber);
  cli::AddHostPortFlag(app, "--ops-address", &c->ops_host, &c->ops_port,
                       "serve /healthz /readyz /metrics here (port 0: any free port)");
  cli::AddDurationFlag(app, "--heartbeat", &c->heartbeat, "Hypervisor heartbeat");
  cli::AddDurationFlag(app, "--shutdown-grace", &c->shutdown_grace,
                       "ACPI shutdown of a VM set to running: false, then destroy");
  log::AddFlags(app, &c->log);
}

CLI::App NewApp() {
  return CLI::App("ferry-handler agent: runs this node's VMs and migrations from the API server "
                  "(one agent per node). Defaults in brackets.",
                  "ferry-handler agent");
}

}  // namespace

std::string AgentUsage() {
  AgentConfig defaults;
  CLI::App app = NewApp();
  AddAgentFlags(app, &defaults);
  return app.help();
}

StatusOr<AgentConfig> ParseAgentFlags(const std::vector<std::string>& args,
                                      const std::string& node_name_env) {
  AgentConfig c;
  c.node_name = node_name_env;
  CLI::App app = NewApp();
  AddAgentFlags(app, &c);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11's order
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return InvalidError(e.what());
  }
  if (c.node_name.empty()) return InvalidError("no node name: set NODE_NAME or --node");
  if (c.migration_address.empty() && c.migration_uri.empty()) {
    return InvalidError("--migration-address (or --migration-uri) is required");
  }
  for (int cpu : c.dedicated_cpus) {
    for (int r : c.reserved_cpus) {
      if (cpu == r)
        return InvalidError("CPU " + std::to_string(cpu) + " is both reserved and dedicated");
    }
  }
  return c;
}

}  // namespace ferry::agent

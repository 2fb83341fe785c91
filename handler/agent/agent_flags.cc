#include <cstdlib>

#include "agent/agent_config.h"
#include "api/quantity.h"
#include "api/time.h"
#include "domain/cpuset.h"

namespace ferry::agent {
namespace {

StatusOr<std::chrono::seconds> Seconds(const std::string& flag, const std::string& v) {
  auto d = api::ParseDuration(v);
  if (!d.ok() || d->count() <= 0)
    return InvalidError(flag + ": expected a positive duration such as 10s, got '" + v + "'");
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

}  // namespace

std::string AgentUsage() {
  return "usage: ferry-handler agent [flags]\n"
         "  Runs this node's VMs and migrations from the API server (one agent per node).\n"
         "  --node NAME                 this node (default: $NODE_NAME)\n"
         "  --libvirt-uri URI           this node's libvirtd (default qemu:///system)\n"
         "  --kubeconfig PATH           (default: in-cluster, then ~/.kube/config)\n"
         "  --context NAME\n"
         "  --emulator PATH             QEMU binary of the guests (default: libvirt's)\n"
         "  --virt-type kvm|qemu        (default kvm; qemu = TCG)\n"
         "  --machine TYPE              machine type, e.g. pc-i440fx-7.2 (default: the "
         "emulator's)\n"
         "  --default-cpu-model MODEL   for VMs without cpuModel (default: host-model)\n"
         "  --console-log-dir DIR       serial console logs, as libvirtd sees it\n"
         "                              (default /var/log/ferry/console)\n"
         "  --qemu-version X.Y.Z        reported QEMU version (default: ask the emulator)\n"
         "  --migration-address ADDR    where peers reach this libvirtd for migrations (required)\n"
         "  --migration-uri URI         targetURI (default qemu+tcp://ADDR/system)\n"
         "  --reserved-cpus LIST        host CPUs kept from guests, e.g. 0-1\n"
         "  --reserved-memory QTY       host memory kept from guests, e.g. 1Gi\n"
         "  --dedicated-cpus LIST       host CPUs for dedicatedCpus guests, e.g. 4-15\n"
         "  --cpu-allocation-ratio R    vCPUs per shared host CPU (default 1)\n"
         "  --ops-address HOST:PORT     /healthz /readyz /metrics (default 0.0.0.0:8081; port 0 = "
         "any)\n"
         "  --heartbeat DURATION        Hypervisor heartbeat (default 10s)\n"
         "  --shutdown-grace DURATION   ACPI shutdown before destroy (default 60s)\n"
         "  -v, --v N                   log verbosity (klog's; default 0)\n"
         "  --log-format text|json      (default text)\n";
}

StatusOr<AgentConfig> ParseAgentFlags(const std::vector<std::string>& args,
                                      const std::string& node_name_env) {
  AgentConfig c;
  c.node_name = node_name_env;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i], value;
    const auto eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else {
      if (i + 1 >= args.size()) return InvalidError(flag + ": missing value");
      value = args[++i];
    }
    if (flag == "-v" || flag == "--v") {
      char* end = nullptr;
      const long v = std::strtol(value.c_str(), &end, 10);
      if (end == value.c_str() || *end != '\0' || v < 0)
        return InvalidError(flag + ": a level >= 0");
      c.log.verbosity = static_cast<int>(v);
    } else if (flag == "--log-format") {
      auto f = log::ParseFormat(value);
      if (!f.ok()) return f.status().WithContext("--log-format");
      c.log.format = *f;
    } else if (flag == "--node") {
      c.node_name = value;
    } else if (flag == "--libvirt-uri") {
      c.libvirt_uri = value;
    } else if (flag == "--kubeconfig") {
      c.kubeconfig = value;
    } else if (flag == "--context") {
      c.context = value;
    } else if (flag == "--emulator") {
      c.domain.emulator = value;
    } else if (flag == "--virt-type") {
      if (value != "kvm" && value != "qemu")
        return InvalidError("--virt-type: kvm or qemu, got '" + value + "'");
      c.domain.virt_type = value;
    } else if (flag == "--machine") {
      c.domain.machine = value;
    } else if (flag == "--default-cpu-model") {
      c.domain.default_cpu_model = value;
    } else if (flag == "--console-log-dir") {
      if (value.empty() || value[0] != '/')
        return InvalidError("--console-log-dir: an absolute path");
      c.domain.console_log_dir = value;
    } else if (flag == "--qemu-version") {
      c.qemu_version = value;
    } else if (flag == "--migration-address") {
      c.migration_address = value;
    } else if (flag == "--migration-uri") {
      c.migration_uri = value;
    } else if (flag == "--reserved-cpus" || flag == "--dedicated-cpus") {
      auto set = domain::ParseCpuSet(value);
      if (!set.ok()) return set.status().WithContext(flag);
      (flag == "--reserved-cpus" ? c.reserved_cpus : c.dedicated_cpus) = *set;
    } else if (flag == "--reserved-memory") {
      auto q = api::Quantity::Parse(value);
      if (!q.ok() || q->Sign() < 0)
        return InvalidError("--reserved-memory: a quantity such as 1Gi, got '" + value + "'");
      c.reserved_memory_bytes = q->Value();
    } else if (flag == "--cpu-allocation-ratio") {
      char* end = nullptr;
      c.cpu_allocation_ratio = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0' || c.cpu_allocation_ratio <= 0) {
        return InvalidError("--cpu-allocation-ratio: a positive number, got '" + value + "'");
      }
    } else if (flag == "--ops-address") {
      const auto colon = value.rfind(':');
      if (colon == std::string::npos)
        return InvalidError("--ops-address: HOST:PORT, got '" + value + "'");
      c.ops_host = value.substr(0, colon);
      c.ops_port = std::atoi(value.c_str() + colon + 1);
    } else if (flag == "--heartbeat") {
      auto s = Seconds(flag, value);
      if (!s.ok()) return s.status();
      c.heartbeat = *s;
    } else if (flag == "--shutdown-grace") {
      auto s = Seconds(flag, value);
      if (!s.ok()) return s.status();
      c.shutdown_grace = *s;
    } else {
      return InvalidError("unknown flag " + flag);
    }
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

// The node agent's settings (`ferry-handler agent` flags; DESIGN: one agent per node, its
// node's name from NODE_NAME).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "domain/domain_builder.h"
#include "log/log.h"

namespace ferry::agent {

struct AgentConfig {
  std::string node_name;
  // This node's libvirtd (a unix socket URI; the agent never talks TCP to a libvirtd).
  std::string libvirt_uri = "qemu:///system";
  std::string kubeconfig;  // "" = in-cluster, then ~/.kube/config
  std::string context;
  // Emulator, machine type, virtualization type, default CPU model, console log directory.
  domain::NodeSettings domain;
  std::string qemu_version;  // reported QEMU version; "" = ask the emulator
  // Where peer libvirtds reach this node's libvirtd for migrations (Hypervisor
  // status.migrationAddress), and the URI written as targetURI at TargetReady (default
  // qemu+tcp://<migration address>/system).
  std::string migration_address;
  std::string migration_uri;
  // Host resources kept from guests: CPUs (ids) and memory (bytes).
  std::vector<int> reserved_cpus;
  int64_t reserved_memory_bytes = 0;
  // Host CPUs that dedicatedCpus guests may be pinned to (not shared with other guests).
  std::vector<int> dedicated_cpus;
  // vCPUs of unpinned guests per shared host CPU.
  double cpu_allocation_ratio = 1.0;
  std::string ops_host = "0.0.0.0";
  int ops_port = 8081;
  std::chrono::seconds heartbeat{10};
  // A VM set to running: false gets an ACPI shutdown; after this long it is destroyed.
  std::chrono::seconds shutdown_grace{60};
  // API client rate limit (the agent writes progress at most once a second per migration).
  double api_qps = 20;
  int api_burst = 40;
  // lib/log: -v N (klog verbosity) and --log-format text|json.
  log::Options log;

  std::string MigrationUri() const {
    return !migration_uri.empty() ? migration_uri : "qemu+tcp://" + migration_address + "/system";
  }
};

// Parses `ferry-handler agent` arguments; NODE_NAME from the environment is the default of
// --node. Invalid with the reason for a bad flag.
StatusOr<AgentConfig> ParseAgentFlags(const std::vector<std::string>& args,
                                      const std::string& node_name_env);
std::string AgentUsage();

}  // namespace ferry::agent

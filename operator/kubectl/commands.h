// The verbs of `kubectl ferry`. Each returns the process exit code: 0 done, 1 error or a
// migration that did not succeed, 2 a drain that stopped with VMs it may not move.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

#include "core/clock.h"
#include "kube/api_client.h"
#include "output.h"

namespace ferry::kubectl {

struct Env {
  kube::ApiClient& api;
  Clock& clock;
  std::ostream& out;
  std::ostream& err;
  bool tty = false;  // stdout is a terminal: redraw one live line in place
  std::string ns = "default";
  OutputFormat format = OutputFormat::kTable;
  // The operator's --heartbeat-timeout: a handler silent longer gets no placements.
  std::chrono::nanoseconds heartbeat_timeout = std::chrono::seconds(40);
  std::string lease_namespace = "ferry-system";
  std::string lease_name = "ferry-operator";
};

struct MigrateOptions {
  std::string vm;
  std::string to;    // "" = the operator chooses
  std::string mode;  // "" = the policy's (Auto)
  std::string name;  // "" = generated from the VM's name
  std::string bandwidth;
  std::string max_downtime;
  bool offline = false;
  bool wait = false;
  std::chrono::nanoseconds timeout = std::chrono::minutes(30);
};

int Migrate(Env& env, const MigrateOptions& o);
int Cancel(Env& env, const std::string& vmm, bool wait, std::chrono::nanoseconds timeout);
int PlanDrain(Env& env, const std::string& node);
int Drain(Env& env, const std::string& node, bool wait, std::chrono::nanoseconds timeout);
int Explain(Env& env, const std::string& vm, const std::string& to);
int ShowStatus(Env& env);

}  // namespace ferry::kubectl

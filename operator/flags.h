// ferry-operator's command line (CLI11, Debian's libcli11-dev): connection, leader election
// and ops flags, and every limit and deadline of OperatorOptions. `ferry-operator --help`
// lists them with their defaults.
#pragma once

#include <optional>
#include <string>

#include "log/log.h"
#include "options.h"

namespace ferry::op {

struct CommandLine {
  std::string kubeconfig;
  std::string context;
  bool leader_elect = true;
  std::string lease_namespace = "ferry-system";
  std::string lease_name = "ferry-operator";
  std::string identity;
  std::string ops_host = "0.0.0.0";
  int ops_port = 8080;
  // Client-side rate limit of the operator's API client. KubeVirt's virt-controller defaults
  // (200 / 400): a burst of migrations writes a few objects each, and client-go's 5 / 10
  // would stretch a 100-migration drain over a minute.
  double kube_qps = 200;
  int kube_burst = 400;
  OperatorOptions options;
  log::Options log;  // -v, --log-format
};

// Parses argv into `out`. Returns an exit code when the program should stop here (0 after
// --help, 2 after a usage error, with the message printed), nullopt to go on.
std::optional<int> ParseCommandLine(int argc, char** argv, CommandLine* out);

}  // namespace ferry::op

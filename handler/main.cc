// ferry-handler: the per-node agent. `agent` runs this node's VMs and migrations from the API
// server (handler/agent, docs/handler.md); `migrate` runs the migration engine from the
// command line.
#include <cstdio>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "cli/migrate_command.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(
        "usage: ferry-handler agent [flags]                                  (ferry-handler "
        "agent --help)\n"
        "       ferry-handler migrate DOMAIN --from URI --to URI [options]   (ferry-handler "
        "migrate --help)\n",
        stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "migrate") {
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (!rest.empty() && (rest[0] == "--help" || rest[0] == "-h")) {
      std::fputs(ferry::cli::MigrateUsage().c_str(), stdout);
      return 0;
    }
    auto cmd = ferry::cli::ParseMigrateArgs(rest);
    if (!cmd.ok()) {
      std::fprintf(stderr, "ferry-handler migrate: %s\n%s", cmd.status().message().c_str(),
                   ferry::cli::MigrateUsage().c_str());
      return 2;
    }
    return ferry::cli::RunMigrate(*cmd);
  }
  if (args[0] == "agent") {
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (!rest.empty() && (rest[0] == "--help" || rest[0] == "-h")) {
      std::fputs(ferry::agent::AgentUsage().c_str(), stdout);
      return 0;
    }
    return ferry::agent::RunAgentCommand(rest);
  }
  std::fprintf(stderr, "ferry-handler: unknown command '%s' (try: agent, migrate)\n",
               args[0].c_str());
  return 2;
}

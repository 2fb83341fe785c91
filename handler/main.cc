// ferry-handler: the per-node agent. For now one subcommand, `migrate`, runs the migration
// engine from the command line (the Kubernetes-watching agent will call the same library).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/migrate_command.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(
        "usage: ferry-handler migrate DOMAIN --from URI --to URI [options]   (ferry-handler "
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
  std::fprintf(stderr, "ferry-handler: unknown command '%s' (try: migrate)\n", args[0].c_str());
  return 2;
}

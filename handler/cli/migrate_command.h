// `ferry-handler migrate`: runs one migration with the engine and prints progress, actions
// and the result (a human line and a `RESULT {json}` line for scripts).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "migration/migration_plan.h"
#include "migration/migration_types.h"

namespace ferry::cli {

struct MigrateCommand {
  migration::MigrationOptions options;
  bool quiet = false;  // no progress lines
};

// Parses the arguments after "migrate". Errors name the offending argument.
StatusOr<MigrateCommand> ParseMigrateArgs(const std::vector<std::string>& args);
std::string MigrateUsage();

// The result as one JSON object (stable field names, for scripts and tests).
std::string ResultJson(const migration::MigrationResult& r);

// Runs the command; returns the process exit code (0 = succeeded, 1 = not, 2 = usage).
int RunMigrate(const MigrateCommand& cmd);

}  // namespace ferry::cli

// `ferry-handler migrate`: runs one migration with the engine and prints progress, actions
// and the result (a human line and a `RESULT {json}` line for scripts).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "migration/migration_plan.h"
#include "migration/migration_types.h"
#include "migration/tls.h"

namespace ferry::cli {

struct MigrateCommand {
  migration::MigrationOptions options;
  // The target's libvirtd as this process reaches it (default: --to). The lab passes the
  // target's unix socket: this process never opens TCP to another node.
  std::string target_client_uri;
  migration::TlsSetting tls = migration::TlsSetting::kAuto;
  std::string tls_dir = "/etc/pki/qemu";  // this node's migrate_tls_x509_cert_dir
  bool recover = false;                   // Recover() a broken post-copy instead of Run()
  bool quiet = false;                     // no progress lines
};

// Parses the arguments after "migrate". Errors name the offending argument.
StatusOr<MigrateCommand> ParseMigrateArgs(const std::vector<std::string>& args);
std::string MigrateUsage();

// The result as one JSON object (stable field names, for scripts and tests).
std::string ResultJson(const migration::MigrationResult& r);

// Resolves --tls against this node's certificates (auto: on where present; on: refused with
// the missing files named). Sets options.tls.
Status ResolveTlsOption(MigrateCommand& cmd);

// Runs the command; returns the process exit code: 0 succeeded, 1 failed / cancelled /
// aborted, 2 usage or refused before starting, 3 detached (SIGTERM: the job runs on),
// 4 post-copy still recovering (run again with --recover).
int RunMigrate(const MigrateCommand& cmd);

}  // namespace ferry::cli

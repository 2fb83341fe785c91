#include "cli/migrate_command.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <functional>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/clock.h"
#include "libvirt/libvirt_hypervisor.h"
#include "log/log.h"
#include "migration/migration_engine.h"

namespace ferry::cli {
namespace {

using migration::Millis;

// Throws CLI11's ValidationError for `flag` (the message names the flag).
std::uint64_t Unsigned(const std::string& flag, const std::string& v) {
  std::size_t used = 0;
  unsigned long long n = 0;
  try {
    if (!v.empty() && v[0] == '-') throw std::invalid_argument(v);
    n = std::stoull(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size())
    throw CLI::ValidationError(flag, "expected a non-negative integer, got '" + v + "'");
  return static_cast<std::uint64_t>(n);
}

double Positive(const std::string& flag, const std::string& v) {
  std::size_t used = 0;
  double d = 0;
  try {
    d = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size() || !(d > 0))
    throw CLI::ValidationError(flag, "expected a positive number, got '" + v + "'");
  return d;
}

// A flag whose value goes through `set` (which throws CLI::ValidationError when it is bad).
void Flag(CLI::App& app, const std::string& name, const std::string& type,
          std::function<void(const std::string&)> set, const std::string& help) {
  app.add_option_function<std::string>(name, std::move(set), help)->type_name(type);
}

void AddMigrateFlags(CLI::App& app, MigrateCommand* c) {
  auto& o = c->options;
  // A flag given twice: the last wins (scripts append overrides to a default command line).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("DOMAIN", o.domain, "the libvirt domain to migrate");
  app.add_option("--from", o.source_uri, "this node's libvirtd (e.g. qemu:///system)")
      ->type_name("URI");
  app.add_option("--to", o.destination_uri,
                 "the target's libvirtd, as the source daemon reaches it (peer-to-peer)")
      ->type_name("URI");
  app.add_option("--to-client", c->target_client_uri,
                 "the target's libvirtd as this process reaches it (default: --to); give its "
                 "unix socket where there is one")
      ->type_name("URI");
  Flag(app, "--tls", "auto|on|off", [c](const std::string& v) {
        if (v == "auto") {
          c->tls = migration::TlsSetting::kAuto;
        } else if (v == "on") {
          c->tls = migration::TlsSetting::kOn;
        } else if (v == "off") {
          c->tls = migration::TlsSetting::kOff;
        } else {
          throw CLI::ValidationError("--tls", "expected auto, on or off, got '" + v + "'");
        }
      },
      "encrypt the migration (VIR_MIGRATE_TLS; --to must be qemu+tls://); auto (default): on "
      "when --tls-dir has this node's certificates");
  app.add_option("--tls-dir", c->tls_dir, "QEMU's migration certificates on this node")
      ->type_name("DIR")
      ->capture_default_str();
  Flag(app, "--mode", "auto|precopy|postcopy", [&o](const std::string& v) {
        auto m = migration::ParseMode(v);
        if (!m) throw CLI::ValidationError("--mode", "expected auto, precopy or postcopy, got '" + v + "'");
        o.mode = *m;
      },
      "(default auto)");
  Flag(app, "--bandwidth", "MiB/s", [&o](const std::string& v) {
        const double d = v == "0" ? 0.0 : Positive("--bandwidth", v);
        if (d > 1e6) throw CLI::ValidationError("--bandwidth", "at most 1000000 MiB/s");
        o.bandwidth_bytes_per_s = static_cast<std::uint64_t>(std::llround(d * 1048576.0));
      },
      "cap the migration stream, fractions allowed (default: unlimited)");
  Flag(app, "--max-downtime", "ms", [&o](const std::string& v) {
        const auto n = Unsigned("--max-downtime", v);
        if (n == 0 || n > 3600000) throw CLI::ValidationError("--max-downtime", "must be 1..3600000 ms");
        o.max_downtime_ms = static_cast<std::uint32_t>(n);
      },
      "the most the guest may be paused (default 300)");
  Flag(app, "--downtime-schedule", "a,b,c", [&o](const std::string& v) {
        std::size_t start = 0;
        o.downtime_schedule_ms.clear();
        while (start <= v.size()) {
          const std::size_t comma = v.find(',', start);
          const auto n = Unsigned(
              "--downtime-schedule",
              v.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
          o.downtime_schedule_ms.push_back(static_cast<std::uint32_t>(n));
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      },
      "ascending steps in ms ending at or below --max-downtime");
  Flag(app, "--timeout-per-gib", "s", [&o](const std::string& v) {
        o.completion_timeout_per_gib_s = Positive("--timeout-per-gib", v);
      },
      "completion timeout per GiB of guest RAM (default 150)");
  Flag(app, "--parallel", "N", [&o](const std::string& v) {
        const auto n = Unsigned("--parallel", v);
        if (n > 1000) throw CLI::ValidationError("--parallel", "too many connections");
        o.parallel_connections = static_cast<std::uint32_t>(n);
      },
      "parallel connections (pre-copy only)");
  app.add_option("--migrate-uri", o.migrate_uri, "data-stream address")->type_name("tcp://host[:port]");
  Flag(app, "--poll-ms", "N", [&o](const std::string& v) {
        const auto n = Unsigned("--poll-ms", v);
        if (n < 10 || n > 10000) throw CLI::ValidationError("--poll-ms", "must be 10..10000");
        o.poll_interval = Millis(n);
      },
      "job-stat sampling interval (default 300)");
  Flag(app, "--recovery-limit", "s", [&o](const std::string& v) {
        const auto n = Unsigned("--recovery-limit", v);
        if (n > 7 * 24 * 3600) throw CLI::ValidationError("--recovery-limit", "at most a week");
        o.postcopy_recovery_limit = Millis(n * 1000);
      },
      "keep resuming a broken post-copy this long (default 600)");
  Flag(app, "--premeasure", "s", [&o](const std::string& v) {
        const auto n = Unsigned("--premeasure", v);
        if (n > 60) throw CLI::ValidationError("--premeasure", "at most 60 s");
        o.premeasure = Millis(n * 1000);
      },
      "Auto: measure the guest's dirty rate this many seconds before starting and choose the "
      "start from it (default 2; 0 = do not measure)");
  app.add_flag_callback("--no-premeasure", [&o] { o.premeasure = Millis(0); },
                        "Auto without the measurement (the policy reacts during pre-copy only)");
  app.add_flag_callback("--no-postcopy", [&o] { o.allow_postcopy = false; },
                        "never switch to post-copy");
  app.add_flag_callback("--no-auto-converge", [&o] { o.allow_auto_converge = false; },
                        "never throttle the guest's vCPUs");
  app.add_flag("--offline", o.offline, "cold migration (the guest must be stopped, see --shutdown)");
  app.add_flag("--shutdown", o.stop_running,
               "offline: shut a running guest down first (destroy after 30 s)");
  app.add_flag("--copy-storage", o.copy_storage, "copy local disks (VIR_MIGRATE_NON_SHARED_DISK)");
  app.add_flag("--recover", c->recover, "resume a broken post-copy migration (after exit code 4)");
  app.add_flag("--quiet", c->quiet, "no progress lines");
  app.footer(
      "SIGINT cancels the migration (refused after the post-copy switch). SIGTERM detaches: this\n"
      "process exits and libvirtd carries the job on; running the same command again attaches.\n"
      "Exit: 0 succeeded, 1 failed/cancelled/aborted, 2 usage, 3 detached, 4 post-copy "
      "recovering.");
}

CLI::App NewApp() {
  return CLI::App("ferry-handler migrate: runs one migration with Ferry's engine and prints its "
                  "progress, actions and result.",
                  "ferry-handler migrate");
}

double MiB(std::uint64_t b) { return static_cast<double>(b) / 1048576.0; }

}  // namespace

std::string MigrateUsage() {
  MigrateCommand defaults;
  CLI::App app = NewApp();
  AddMigrateFlags(app, &defaults);
  return app.help();
}

StatusOr<MigrateCommand> ParseMigrateArgs(const std::vector<std::string>& args) {
  MigrateCommand c;
  auto& o = c.options;
  CLI::App app = NewApp();
  AddMigrateFlags(app, &c);
  app.allow_extras();  // reported below, in our words
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11's order
  try {
    app.parse(reversed);
  } catch (const CLI::ArgumentMismatch& e) {
    return InvalidError(std::string(e.what()) + " (the flag needs a value)");
  } catch (const CLI::ParseError& e) {
    return InvalidError(e.what());
  }
  for (const std::string& extra : app.remaining()) {
    if (!extra.empty() && extra[0] == '-') return InvalidError("unknown option " + extra);
    return InvalidError("unexpected argument '" + extra + "' (domain already given: " + o.domain +
                        ")");
  }
  if (o.domain.empty()) return InvalidError("missing DOMAIN");
  if (o.source_uri.empty()) return InvalidError("missing --from URI");
  if (o.destination_uri.empty()) return InvalidError("missing --to URI");
  if (c.target_client_uri.empty()) c.target_client_uri = o.destination_uri;
  if (c.tls == migration::TlsSetting::kOn) o.tls = true;  // resolved against the files at run
  FERRY_RETURN_IF_ERROR(migration::ValidateOptions(o));
  return c;
}

Status ResolveTlsOption(MigrateCommand& cmd) {
  auto tls = migration::ResolveTls(cmd.tls, cmd.tls_dir, migration::TlsRole::kSource);
  if (!tls.ok()) return tls.status();
  cmd.options.tls = *tls;
  if (*tls && cmd.options.destination_uri.rfind("qemu+tls://", 0) != 0) {
    if (cmd.tls == migration::TlsSetting::kAuto) {
      // Certificates are here but the caller gave a plain URI: say so rather than guess.
      return InvalidError("this node has TLS certificates in " + cmd.tls_dir +
                          ", so migrations are encrypted by default, but --to is not "
                          "qemu+tls://: give the target's TLS URI, or --tls off");
    }
  }
  return migration::ValidateOptions(cmd.options);
}

std::string ResultJson(const migration::MigrationResult& r) {
  nlohmann::json j;
  j["outcome"] = migration::OutcomeName(r.outcome);
  j["mode"] = r.mode_used;
  j["reason"] = r.status.ok() ? "" : r.status.message();
  j["code"] = StatusCodeName(r.status.code());
  j["total_ms"] = r.total_time.count();
  j["wall_ms"] = r.wall_time.count();
  j["downtime_ms"] = r.downtime ? nlohmann::json(r.downtime->count()) : nlohmann::json(nullptr);
  j["bytes_sent"] = r.bytes_sent;
  j["memory_bytes"] = r.memory_bytes;
  j["iterations"] = r.iterations;
  j["attached"] = r.attached;
  j["tls"] = r.tls;
  j["guest"] = migration::GuestLocationName(r.guest_location);
  j["guest_seen_by"] = r.location_seen_by;
  j["target_followup"] = migration::TargetFollowUpName(r.target_followup);
  nlohmann::json acts = nlohmann::json::array();
  for (const auto& a : r.actions) {
    acts.push_back({{"kind", migration::ActionKindName(a.kind)},
                    {"at_ms", a.at.count()},
                    {"ok", a.ok},
                    {"reason", a.reason}});
  }
  j["actions"] = acts;
  return j.dump();
}

int RunMigrate(const MigrateCommand& command) {
  MigrateCommand cmd = command;
  if (Status st = ResolveTlsOption(cmd); !st.ok()) {
    log::Error(log::Obj("domain", command.options.domain), "Migration refused").Err(st);
    std::printf("RESULT %s\n",
                nlohmann::json({{"outcome", "Refused"}, {"reason", st.message()}}).dump().c_str());
    std::fflush(stdout);
    return 2;
  }
  const auto& o = cmd.options;
  // Signals are taken by a thread of our own (sigwait), so Cancel/Detach run outside a handler.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  // Only connections this process opens itself: this node's libvirtd, and the target's for
  // its health, final state and the start after a cold migration.
  auto hv = libvirt::NewLibvirtHypervisor(o.source_uri);
  auto target = libvirt::NewLibvirtTarget(cmd.target_client_uri);
  const auto t0 = RealClock::Get().Now();
  auto stamp = [t0] {
    char b[32];
    std::snprintf(b, sizeof b, "[%6.1fs]",
                  std::chrono::duration<double>(RealClock::Get().Now() - t0).count());
    return std::string(b);
  };
  migration::MigrationCallbacks cb;
  if (!cmd.quiet) {
    cb.on_progress = [&](const migration::Progress& p) {
      const auto& s = p.sample;
      std::printf(
          "%s progress %5.1f%% processed=%.1fMiB remaining=%.1fMiB total=%.1fMiB dirty=%.1fMiB/s "
          "transfer=%.1fMiB/s iteration=%llu throttle=%d%% phase=%s\n",
          stamp().c_str(), p.percent, MiB(s.data_processed), MiB(s.data_remaining),
          MiB(s.data_total), MiB(s.dirty_rate_bytes_per_s), MiB(s.transfer_rate_bytes_per_s),
          static_cast<unsigned long long>(s.iteration), s.throttle_percent,
          s.postcopy ? "postcopy" : "precopy");
      std::fflush(stdout);
    };
  }
  cb.on_action = [&](const migration::Action& a) {
    std::printf("%s action %s%s: %s\n", stamp().c_str(), migration::ActionKindName(a.kind),
                a.ok ? "" : " (FAILED)", a.reason.c_str());
    std::fflush(stdout);
  };
  cb.on_log = [&](const std::string& l) {
    std::printf("%s note: %s\n", stamp().c_str(), l.c_str());
    std::fflush(stdout);
  };
  migration::Migration m(o, *hv, *target, RealClock::Get(), cb);

  std::atomic<bool> done{false};
  std::thread signals([&] {
    timespec tick{0, 200 * 1000 * 1000};
    while (!done.load()) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig == SIGINT) {
        Status st = m.Cancel();
        std::printf("%s signal %d: %s\n", stamp().c_str(), sig,
                    st.ok() ? "cancel requested" : st.message().c_str());
      } else if (sig == SIGTERM) {
        m.Detach();
        std::printf("%s signal %d: detaching (the migration job runs on in libvirtd)\n",
                    stamp().c_str(), sig);
      } else {
        continue;
      }
      std::fflush(stdout);
    }
  });
  std::printf("%s %s %s: %s -> %s mode=%s%s%s\n", stamp().c_str(),
              cmd.recover ? "recovering" : "migrating", o.domain.c_str(), o.source_uri.c_str(),
              o.destination_uri.c_str(), o.offline ? "offline" : migration::ModeName(o.mode),
              o.allow_postcopy ? "" : " (no post-copy)", o.tls ? " tls" : "");
  std::fflush(stdout);
  const migration::MigrationResult r = cmd.recover ? m.Recover() : m.Run();
  done = true;
  signals.join();

  const double ram = static_cast<double>(r.memory_bytes);
  std::printf(
      "result: %s mode=%s total=%.2fs downtime=%s sent=%.1fMiB (%.2f x RAM) iterations=%llu "
      "guest=%s%s%s\n",
      migration::OutcomeName(r.outcome), r.mode_used.c_str(),
      static_cast<double>(r.total_time.count()) / 1000.0,
      r.downtime ? (std::to_string(r.downtime->count()) + "ms").c_str() : "n/a", MiB(r.bytes_sent),
      ram > 0 ? static_cast<double>(r.bytes_sent) / ram : 0.0,
      static_cast<unsigned long long>(r.iterations), migration::GuestLocationName(r.guest_location),
      r.status.ok() ? "" : " reason: ", r.status.ok() ? "" : r.status.message().c_str());
  std::printf("RESULT %s\n", ResultJson(r).c_str());
  std::fflush(stdout);
  switch (r.outcome) {
    case migration::Outcome::kSucceeded:
      return 0;
    case migration::Outcome::kDetached:
      // A migrate call may still be blocked in libvirt on a thread the engine let go: leave
      // without running destructors under it; libvirtd carries the job on.
      std::fflush(stderr);
      std::_Exit(3);
    case migration::Outcome::kPostCopyRecovering:
      return 4;
    default:
      return 1;
  }
}

}  // namespace ferry::cli

// Cold (offline) migration: stop or require stopped, move the definition (and local disks),
// start on the target. Part of Migration; kept apart from the live path.
#include <chrono>
#include <thread>

#include "migration/migration_engine.h"

namespace ferry::migration {
namespace {

constexpr auto kStatePoll = std::chrono::milliseconds(200);

}  // namespace

MigrationResult Migration::RunOffline(DomainFacts facts) {
  MigrationResult r;
  r.mode_used = "offline";
  r.memory_bytes = facts.memory_bytes;
  {
    std::lock_guard<std::mutex> l(mu_);
    offline_ = true;
    if (cancel_requested_) {
      r.outcome = Outcome::kCancelled;
      return End(r, CancelledError("cancelled before the migration started"),
                 GuestLocation::kSource);
    }
  }
  // The guest is down from the stop request (or, if it was stopped already, from now) until
  // it has started on the target.
  const auto down_since = clock_.Now();
  if (facts.active) {
    if (!options_.stop_running) {
      return End(r,
                 FailedPreconditionError("domain '" + options_.domain +
                                         "' is running; offline migration needs it stopped (allow "
                                         "the engine to shut it down)"),
                 GuestLocation::kSource);
    }
    Status st = hv_.Shutdown(options_.domain);
    bool stopped = false;
    while (st.ok() && Since(down_since) < options_.shutdown_timeout) {
      auto s = hv_.SourceState(options_.domain);
      if (s.ok() && *s == DomainRunState::kShutOff) {
        stopped = true;
        break;
      }
      std::this_thread::sleep_for(kStatePoll);
    }
    std::string how = stopped ? "shut down gracefully" : "";
    if (!stopped) {
      Status d = hv_.Destroy(options_.domain);
      if (!d.ok()) {
        return End(r, d.WithContext("stopping the guest for offline migration"),
                   GuestLocation::kUnknown);
      }
      how = st.ok() ? "did not shut down within the timeout; destroyed"
                    : "graceful shutdown refused (" + st.message() + "); destroyed";
    }
    Report({ActionKind::kShutdown, Since(down_since), "guest " + how + " for offline migration"});
    facts.active = false;
  }
  auto plan = BuildPlan(options_, facts);
  if (!plan.ok()) {
    return End(r, plan.status(), GuestLocation::kSource);
  }
  for (const auto& n : plan->notes) Log(n);
  if (plan->flags.non_shared_disk) {
    // libvirt cannot copy storage offline: start the guest paused (its vCPUs never run),
    // migrate it non-live with its disks, then boot it fresh on the target.
    if (Status st = hv_.StartPaused(options_.domain); !st.ok()) {
      return End(r, st.WithContext("starting the guest paused to copy its disks"),
                 GuestLocation::kSource);
    }
  }
  if (Status mark = MarkDomain(); !mark.ok()) {
    if (plan->flags.non_shared_disk) (void)hv_.Destroy(options_.domain);
    return End(r, mark, GuestLocation::kSource);
  }
  Status st = hv_.Migrate(options_.domain, options_.destination_uri, *plan);
  if (!st.ok()) {
    if (plan->flags.non_shared_disk) (void)hv_.Destroy(options_.domain);
    return End(r,
               Status(st.code(), "offline migration failed: " + st.message() +
                                     "; the definition stays on the source"),
               GuestLocation::kSource);
  }
  r.outcome = Outcome::kSucceeded;
  r.guest_location = GuestLocation::kDestination;
  TargetHypervisor* direct = target_.direct();
  if (direct == nullptr) {
    // No connection to the target from here (the node agent): the target handler starts it.
    r.location_seen_by = "source";
    r.target_followup =
        plan->flags.non_shared_disk ? TargetFollowUp::kDestroyAndStart : TargetFollowUp::kStart;
    Log(std::string("defined on the target; the target side must ") +
        (plan->flags.non_shared_disk ? "destroy the paused copy and start it" : "start it"));
    Finish(r, std::nullopt);
    return r;
  }
  if (plan->flags.non_shared_disk) (void)direct->DestroyGuest(options_.domain);
  st = direct->StartGuest(options_.domain);
  if (!st.ok()) {
    r.outcome = Outcome::kFailed;
    r.target_followup = TargetFollowUp::kStart;
    return End(r, st.WithContext("defined on the target but starting it failed"),
               GuestLocation::kUnknown);
  }
  r.downtime = Since(down_since);
  auto dst = direct->GuestState(options_.domain);
  r.location_seen_by = "target";
  r.guest_location = dst.ok() && *dst == DomainRunState::kRunning ? GuestLocation::kDestination
                                                                  : GuestLocation::kUnknown;
  Finish(r, std::nullopt);
  return r;
}

}  // namespace ferry::migration

#include "agent/migration_runner.h"

#include "agent/attach_only_hypervisor.h"
#include "agent/engine_options.h"
#include "agent/fencing.h"
#include "agent/reattach.h"
#include "agent/typed_writes.h"
#include "api/group.h"
#include "api/hypervisor.h"
#include "domain/domain_builder.h"
#include "log/log.h"

namespace ferry::agent {
namespace {

using api::MigrationPhase;

// The VMM keeps the last actions in status (all of them are Events).
constexpr size_t kMaxStatusActions = 20;
constexpr auto kProgressEvery = std::chrono::seconds(1);

bool Open(MigrationPhase p) {
  return p == MigrationPhase::kTargetReady || p == MigrationPhase::kRunning;
}

}  // namespace

MigrationRunner::MigrationRunner(AgentContext& ctx, api::VirtualMachineMigration vmm, Start how)
    : ctx_(ctx),
      vmm_(std::move(vmm)),
      how_(how),
      key_(vmm_.metadata.Key()),
      vm_key_(vmm_.metadata.namespace_ + "/" + vmm_.spec.vm_name),
      domain_(domain::DomainName(vmm_.metadata.namespace_, vmm_.spec.vm_name)) {}

MigrationRunner::~MigrationRunner() {
  Detach();
  if (thread_.joinable()) thread_.join();
}

void MigrationRunner::Launch() {
  thread_ = std::thread([this] { Main(); });
}

void MigrationRunner::Record(bool warning, const std::string& reason, const std::string& message) {
  ctx_.events.Record(vmm_.ToJson(), warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                     reason, message);
}

void MigrationRunner::Cancel() {
  if (cancel_requested_.exchange(true)) return;
  log::Info(log::Obj("vmm", key_), "deleted; cancelling the migration")
      .With("vm", log::Obj("vm", vm_key_));
  std::lock_guard<std::mutex> l(engine_mu_);
  if (engine_ != nullptr && engine_following_.load()) DeliverCancel(*engine_);
}

void MigrationRunner::DeliverCancel(migration::Migration& engine) {
  if (!cancel_requested_.load() || cancel_delivered_.exchange(true)) return;
  Status st = engine.Cancel();
  if (st.ok()) {
    Record(false, "CancelRequested",
           "the VMM is being deleted: aborting the migration; the guest stays on the source");
  } else if (st.code() == StatusCode::kFailedPrecondition) {
    log::Info(log::Obj("vmm", key_), st.message());
    Record(true, "CancelRefused", st.message());
  } else {
    Record(true, "CancelFailed", st.message());
  }
}

void MigrationRunner::Detach() {
  detach_requested_ = true;
  std::lock_guard<std::mutex> l(engine_mu_);
  if (engine_ != nullptr) engine_->Detach();
}

migration::TargetHealth MigrationRunner::TargetHealth() {
  const std::string target = vmm_.status.target_node;
  auto obj = ctx_.hypervisors->store().Get(target);
  if (!obj) return {false, "no Hypervisor object for the target node " + target};
  auto hv = api::Hypervisor::FromJson(*obj);
  if (!hv.ok()) return {false, "the target's Hypervisor does not decode: " + hv.status().message()};
  if (!hv->IsAlive(ctx_.clock.WallNow())) {
    return {false, "the target node " + target + " is not ready or its heartbeat is older than " +
                       std::to_string(api::kHypervisorHeartbeatTimeout.count()) + " s"};
  }
  return {true, "the target's Hypervisor " + target + " is ready with a fresh heartbeat"};
}

void MigrationRunner::OnProgress(const migration::Progress& p) {
  {
    std::lock_guard<std::mutex> l(report_mu_);
    std::optional<std::chrono::nanoseconds> eta;
    if (p.eta) eta = *p.eta;
    pending_progress_ =
        ProgressStatus(p.sample, eta, post_copy_started_, max_downtime_ms_, ctx_.clock.WallNow());
  }
  report_cv_.notify_all();
}

void MigrationRunner::OnAction(const migration::Action& a) {
  const std::string kind = migration::ActionKindName(a.kind);
  {
    std::lock_guard<std::mutex> l(report_mu_);
    if (a.kind == migration::ActionKind::kSwitchToPostCopy && a.ok)
      post_copy_started_ = ctx_.clock.WallNow();
    if (a.kind == migration::ActionKind::kSetMaxDowntime && a.ok)
      max_downtime_ms_ = a.max_downtime_ms;
    actions_.push_back(ConvergenceActionOf(a, ctx_.clock.WallNow()));
    if (actions_.size() > kMaxStatusActions) actions_.erase(actions_.begin());
    actions_dirty_ = true;
  }
  report_cv_.notify_all();
  log::Info(log::Obj("vmm", key_),
            "action " + kind + (a.ok ? "" : " (not accepted)") + ": " + a.reason)
      .With("vm", log::Obj("vm", vm_key_));
  Record(IsWarning(a), kind, a.reason + (a.ok ? "" : " (not accepted)"));
  if (a.kind == migration::ActionKind::kAttach) engine_following_ = true;
}

void MigrationRunner::FlushReports() {
  std::optional<api::MigrationProgress> progress;
  std::optional<std::vector<api::ConvergenceAction>> actions;
  {
    std::lock_guard<std::mutex> l(report_mu_);
    progress.swap(pending_progress_);
    if (actions_dirty_) actions = actions_;
    actions_dirty_ = false;
  }
  if (!progress && !actions) return;
  kube::Json status = kube::Json::object();
  if (progress) status["progress"] = api::Encode(*progress);
  if (actions) {
    kube::Json list = kube::Json::array();
    for (const auto& a : *actions) list.push_back(api::Encode(a));
    status["convergenceActions"] = list;
  }
  auto r = ctx_.api.Patch(kube::resources::kVirtualMachineMigrations, vmm_.metadata.namespace_,
                          vmm_.metadata.name, kube::Json{{"status", status}},
                          kube::PatchType::kMerge, true);
  if (!r.ok()) log::Info(log::Obj("vmm", key_), "progress not written: " + r.status().ToString());
}

void MigrationRunner::ReportLoop(std::stop_token stop) {
  auto last = std::chrono::steady_clock::now() - kProgressEvery;
  while (!stop.stop_requested()) {
    {
      std::unique_lock<std::mutex> l(report_mu_);
      report_cv_.wait(l, stop, [&] { return pending_progress_.has_value() || actions_dirty_; });
    }
    if (stop.stop_requested()) break;
    const auto wait = last + kProgressEvery - std::chrono::steady_clock::now();
    if (wait > std::chrono::steady_clock::duration::zero()) {
      std::unique_lock<std::mutex> l(report_mu_);
      report_cv_.wait_for(l, stop, wait, [] { return false; });
    }
    if (stop.stop_requested()) break;
    FlushReports();
    last = std::chrono::steady_clock::now();
  }
}

StatusOr<bool> MigrationRunner::WriteRunning() {
  const api::WallTime now = ctx_.clock.WallNow();
  bool won = false;
  auto w = MutateTyped<api::VirtualMachineMigration>(
      ctx_.api, kube::resources::kVirtualMachineMigrations, vmm_.metadata.namespace_,
      vmm_.metadata.name,
      [&](api::VirtualMachineMigration& cur) {
        won = cur.metadata.uid == vmm_.metadata.uid &&
              cur.status.phase == MigrationPhase::kTargetReady && !cur.metadata.IsBeingDeleted();
        if (!won) return false;
        cur.status.phase = MigrationPhase::kRunning;
        cur.status.phase_transition_time = now;
        cur.status.start_time = now;
        cur.status.progress.reset();
        cur.status.convergence_actions.clear();
        return true;
      },
      true);
  if (!w.ok()) return w.status();
  return won;
}

bool MigrationRunner::WriteOutcome(const MigrationEnd& end, const migration::MigrationResult* r) {
  std::chrono::seconds backoff(1);
  for (;;) {
    const api::WallTime now = ctx_.clock.WallNow();
    bool wrote = false;
    MigrationPhase found = MigrationPhase::kUnset;
    auto w = MutateTyped<api::VirtualMachineMigration>(
        ctx_.api, kube::resources::kVirtualMachineMigrations, vmm_.metadata.namespace_,
        vmm_.metadata.name,
        [&](api::VirtualMachineMigration& cur) {
          found = cur.status.phase;
          if (cur.metadata.uid != vmm_.metadata.uid || !Open(cur.status.phase)) return false;
          cur.status.phase = end.phase;
          cur.status.phase_transition_time = now;
          cur.status.completion_time = now;
          cur.status.reason = end.reason;
          cur.status.message = end.message;
          if (end.downtime) cur.status.downtime = end.downtime;
          {
            std::lock_guard<std::mutex> l(report_mu_);
            if (!actions_.empty()) cur.status.convergence_actions = actions_;
          }
          if (r != nullptr && r->bytes_sent > 0) {
            api::MigrationProgress p = cur.status.progress.value_or(api::MigrationProgress{});
            p.processed_bytes = static_cast<int64_t>(r->bytes_sent);
            if (end.phase == MigrationPhase::kSucceeded) {
              p.percent = 100;
              p.remaining_bytes = 0;
              p.estimated_time_remaining.reset();
            }
            p.updated_at = now;
            cur.status.progress = p;
          }
          api::Condition c;
          c.type = api::kConditionPostCopyRecovering;
          if (api::FindCondition(cur.status.conditions, c.type) != nullptr) {
            c.status = api::ConditionStatus::kFalse;
            c.reason = "Ended";
            c.message = "the migration ended " + std::string(api::ToString(end.phase));
            api::SetCondition(&cur.status.conditions, c, now);
          }
          if (ConditionTrue(cur, api::kConditionSourcePaused)) {
            api::Condition sp;
            sp.type = api::kConditionSourcePaused;
            sp.status = api::ConditionStatus::kFalse;
            sp.reason = api::kReasonSourcePausedResolved;
            sp.message = "the migration ended " + std::string(api::ToString(end.phase));
            api::SetCondition(&cur.status.conditions, sp, now);
          }
          wrote = true;
          return true;
        },
        true);
    if (w.ok()) {
      if (!wrote) {
        log::Info(log::Obj("vmm", key_), "outcome " + std::string(api::ToString(end.phase)) +
                                             " not written: the VMM is " +
                                             std::string(api::ToString(found)) + " already");
        Record(true, "OutcomeNotRecorded",
               "the migration ended " + std::string(api::ToString(end.phase)) + " (" + end.message +
                   ") but the VMM was already " + std::string(api::ToString(found)));
        return false;
      }
      log::Info(log::Obj("vmm", key_), std::string() + std::string(api::ToString(end.phase)) +
                                           (end.reason.empty() ? "" : " " + end.reason) + ": " +
                                           end.message)
          .With("vm", log::Obj("vm", vm_key_));
      Record(end.phase != MigrationPhase::kSucceeded, std::string(api::ToString(end.phase)),
             end.message);
      return true;
    }
    if (w.status().code() == StatusCode::kNotFound) return false;
    log::Info(log::Obj("vmm", key_),
              "outcome not written yet (" + w.status().ToString() + "); retrying");
    if (detach_requested_.load()) return false;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::seconds(10));
  }
}

void MigrationRunner::WriteRecovering(bool recovering, const std::string& message) {
  kube::Condition c;
  c.type = api::kConditionPostCopyRecovering;
  c.status = recovering ? "True" : "False";
  c.reason = recovering ? "ConnectionBroken" : "Recovered";
  c.message = message;
  auto r = kube::PatchCondition(ctx_.api, kube::resources::kVirtualMachineMigrations,
                                vmm_.metadata.namespace_, vmm_.metadata.name, c,
                                api::FormatTime(ctx_.clock.WallNow()));
  if (!r.ok())
    log::Info(log::Obj("vmm", key_), "PostCopyRecovering not written: " + r.status().ToString());
  if (recovering) Record(true, api::kConditionPostCopyRecovering, message);
}

migration::MigrationResult MigrationRunner::RunEngine(const migration::MigrationOptions& o,
                                                      bool recover) {
  migration::FuncTargetProbe probe([this] { return TargetHealth(); });
  AttachOnlyHypervisor attach_only(ctx_.engine_hypervisor);
  migration::MigrationHypervisor& hv =
      how_ == Start::kReattach || recover
          ? static_cast<migration::MigrationHypervisor&>(attach_only)
          : ctx_.engine_hypervisor;
  migration::MigrationCallbacks cb;
  migration::Migration* self = nullptr;
  cb.on_progress = [this, &self](const migration::Progress& p) {
    OnProgress(p);
    if (self != nullptr && engine_following_.load()) DeliverCancel(*self);
  };
  cb.on_action = [this, &self](const migration::Action& a) {
    OnAction(a);
    if (self != nullptr && engine_following_.load()) DeliverCancel(*self);
  };
  cb.on_log = [this](const std::string& line) {
    log::Info(log::Obj("vmm", key_), line).With("vm", log::Obj("vm", vm_key_));
  };
  migration::Migration engine(o, hv, probe, ctx_.clock, cb, ctx_.metrics);
  self = &engine;
  {
    std::lock_guard<std::mutex> l(engine_mu_);
    engine_ = &engine;
    // A fresh engine sees a cancel before it starts; an attaching one only once it follows.
    engine_following_ = how_ == Start::kFresh && !recover;
    if (detach_requested_.load()) engine.Detach();
    if (engine_following_.load()) DeliverCancel(engine);
  }
  migration::MigrationResult r = recover ? engine.Recover() : engine.Run();
  std::lock_guard<std::mutex> l(engine_mu_);
  engine_ = nullptr;
  return r;
}

void MigrationRunner::Main() {
  std::jthread reporter([this](std::stop_token st) { ReportLoop(st); });
  auto done = [&] {
    if (reporter.joinable()) {
      reporter.request_stop();
      reporter.join();
    }
    if (ctx_.enqueue_vm) ctx_.enqueue_vm(vm_key_);
    finished_ = true;
  };
  auto opts =
      EngineOptions(vmm_, domain_, ctx_.config.libvirt_uri,
                    std::chrono::duration_cast<migration::Millis>(ctx_.config.shutdown_grace));
  if (!opts.ok()) {
    WriteOutcome(Terminal(MigrationPhase::kFailed, "InvalidOptions", opts.status().message()),
                 nullptr);
    return done();
  }
  if (how_ == Start::kFresh) {
    if (cancel_requested_.load()) {
      WriteOutcome(
          Terminal(MigrationPhase::kCancelled, "Cancelled", "deleted before the migration started"),
          nullptr);
      return done();
    }
    auto won = WriteRunning();
    if (!won.ok() || !*won) {
      log::Info(
          log::Obj("vmm", key_),
          "not started (" + (won.ok() ? "no longer TargetReady" : won.status().ToString()) + ")");
      return done();
    }
    if (ctx_.enqueue_vm) ctx_.enqueue_vm(vm_key_);  // the VM shows Migrating
    log::Info(log::Obj("vmm", key_), "Running: " + domain_ + " → " + opts->destination_uri + " (" +
                                         migration::ModeName(opts->mode) +
                                         (opts->offline ? ", offline" : "") + ")")
        .With("vm", log::Obj("vm", vm_key_));
    Record(false, "MigrationStarted",
           "migrating " + vmm_.spec.vm_name + " from " + ctx_.config.node_name + " to " +
               vmm_.status.target_node + " (" + opts->destination_uri + ")");
  } else {
    auto dom = ctx_.node.GetDomain(domain_);
    if (!dom.ok()) {
      log::Info(log::Obj("vmm", key_), "cannot look at the source domain (" +
                                           dom.status().ToString() + "); retried later");
      return done();  // the controller sees a finished runner and decides again
    }
    const ReattachDecision d = DecideReattach(*dom, ReadVm(*dom));
    log::Info(log::Obj("vmm", key_), std::string("found Running after a restart: ") +
                                         ReattachActionName(d.action) + " (" + d.message + ")")
        .With("vm", log::Obj("vm", vm_key_));
    if (d.action == ReattachAction::kRetry) return done();  // the controller decides again
    if (d.action == ReattachAction::kHoldPaused) {
      HoldPausedSource(Terminal(MigrationPhase::kFailed, kReasonMigrationFailed, d.message),
                       d.resume_if_absent);
      return done();
    }
    if (d.action != ReattachAction::kAttach) {
      const bool ok = d.action == ReattachAction::kSucceeded;
      WriteOutcome(Terminal(ok ? MigrationPhase::kSucceeded : MigrationPhase::kFailed,
                            ok ? "Succeeded" : kReasonMigrationFailed, d.message),
                   nullptr);
      return done();
    }
  }
  migration::MigrationResult r = RunEngine(*opts, false);
  bool recovered = false;
  while (r.outcome == migration::Outcome::kPostCopyRecovering && !detach_requested_.load()) {
    recovered = true;
    WriteRecovering(true, r.status.message());
    r = RunEngine(*opts, true);
  }
  if (recovered && r.outcome != migration::Outcome::kDetached) {
    WriteRecovering(false,
                    "post-copy recovery ended: " + std::string(migration::OutcomeName(r.outcome)));
  }
  MigrationEnd end = EndOf(r);
  if (end.detached || detach_requested_.load()) {
    log::Info(log::Obj("vmm", key_),
              "detached; the libvirt job runs on and the next handler re-attaches");
    return done();
  }
  if (r.source_paused && end.terminal && end.phase != MigrationPhase::kSucceeded) {
    reporter.request_stop();
    reporter.join();
    FlushReports();
    HoldPausedSource(end, true);
    return done();
  }
  if (how_ == Start::kReattach && r.outcome == migration::Outcome::kFailed) {
    // The job may have ended successfully in the instant before the engine looked.
    auto dom = ctx_.node.GetDomain(domain_);
    if (dom.ok() && !dom->has_value()) {
      end = Terminal(MigrationPhase::kSucceeded, "Succeeded",
                     "the migration completed while the source handler was away (judged by the "
                     "source: the domain left it)");
    }
  }
  reporter.request_stop();
  reporter.join();
  FlushReports();
  WriteOutcome(end, &r);
  done();
}

}  // namespace ferry::agent

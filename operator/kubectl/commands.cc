#include "commands.h"

#include <ostream>
#include <set>
#include <thread>

#include "api/group.h"
#include "api/json_fields.h"
#include "cluster_load.h"
#include "follow.h"
#include "format.h"
#include "plan.h"
#include "status.h"

namespace ferry::kubectl {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

int Fail(Env& env, const Status& st) {
  env.err << "error: " << st.message() << "\n";
  return 1;
}

void Print(Env& env, const Json& model, const std::string& table) {
  env.out << (env.format == OutputFormat::kTable ? table : RenderData(model, env.format));
  env.out.flush();
}

// One line redrawn in place on a terminal; elsewhere a new line when the text changes, at most
// once a second unless the phase (first word) changed.
class LiveLine {
 public:
  LiveLine(Env& env) : env_(env) {}
  void Show(const std::string& line) {
    if (env_.format != OutputFormat::kTable) return;
    if (env_.tty) {
      env_.out << "\r\033[K" << line << std::flush;
      open_ = true;
      return;
    }
    const auto now = env_.clock.Now();
    const std::string head = line.substr(0, line.find(' '));
    if (line == last_ || (head == last_head_ && now - printed_ < seconds(1))) return;
    env_.out << line << "\n" << std::flush;
    last_ = line;
    last_head_ = head;
    printed_ = now;
  }
  void End() {
    if (open_) env_.out << "\n";
    open_ = false;
  }

 private:
  Env& env_;
  bool open_ = false;
  std::string last_, last_head_;
  Clock::TimePoint printed_{};
};

StatusOr<ClusterObjects> List(Env& env) { return ListCluster(env.api); }

std::pair<std::string, std::string> SplitNsName(const Env& env, const std::string& arg) {
  const auto slash = arg.find('/');
  if (slash == std::string::npos) return {env.ns, arg};
  return {arg.substr(0, slash), arg.substr(slash + 1)};
}

// Follows VMM ns/name with the live line; prints the outcome. True when it succeeded.
StatusOr<FollowResult> FollowWithLine(Env& env, const std::string& ns, const std::string& name,
                                      Clock::TimePoint start, nanoseconds timeout) {
  LiveLine line(env);
  auto r = FollowMigration(env.api, ns, name, env.clock, start, timeout, milliseconds(250),
                           [&](const api::VirtualMachineMigration& v) {
                             line.Show(name + "  " + ProgressLine(v, env.clock.WallNow()));
                           });
  line.End();
  return r;
}

Json FollowModel(const FollowResult& r) {
  Json m = {{"timeline", TimelineJson(r.timeline)}, {"deleted", r.deleted}};
  if (r.last) m["migration"] = r.last->ToJson();
  return m;
}

std::optional<nanoseconds> TerminalAfter(const FollowResult& r) {
  for (const auto& m : r.timeline) {
    if (m.phase == "Succeeded" || m.phase == "Failed" || m.phase == "Cancelled") return m.after;
  }
  return std::nullopt;
}

}  // namespace

int Migrate(Env& env, const MigrateOptions& o) {
  auto [ns, vm] = SplitNsName(env, o.vm);
  Json spec = {{"vmName", vm}};
  if (!o.to.empty()) spec["targetNode"] = o.to;
  if (!o.mode.empty()) {
    auto mode = api::ParseEnum<api::MigrationMode>(o.mode);
    if (!mode.ok())
      return Fail(env, InvalidError("--mode: Auto, PreCopy or PostCopy, got '" + o.mode + "'"));
    spec["mode"] = o.mode;
  }
  if (o.offline) spec["offline"] = true;
  if (!o.bandwidth.empty()) spec["bandwidth"] = o.bandwidth;
  if (!o.max_downtime.empty()) spec["maxDowntime"] = o.max_downtime;
  Json meta = {{"namespace", ns}};
  if (o.name.empty()) {
    meta["generateName"] = vm + "-";
  } else {
    meta["name"] = o.name;
  }
  Json obj = {{"apiVersion", api::kApiVersion},
              {"kind", "VirtualMachineMigration"},
              {"metadata", meta},
              {"spec", spec}};
  const auto start = env.clock.Now();
  auto created = env.api.Create(kube::resources::kVirtualMachineMigrations, ns, obj);
  if (!created.ok()) return Fail(env, created.status());
  const std::string name = (*created)["metadata"].value("name", "");
  if (env.format == OutputFormat::kTable)
    env.out << "virtualmachinemigration.ferry.dev/" << name << " created\n";
  if (!o.wait) {
    if (env.format != OutputFormat::kTable) Print(env, *created, "");
    return 0;
  }
  auto r = FollowWithLine(env, ns, name, start, o.timeout);
  if (!r.ok()) return Fail(env, r.status());
  const bool ok = r->last && r->last->status.phase == api::MigrationPhase::kSucceeded;
  if (env.format == OutputFormat::kTable) {
    if (r->last) env.out << OutcomeLine(*r->last, TerminalAfter(*r)) << "\n";
    env.out << "phases: " << TimelineLine(r->timeline) << "\n";
  } else {
    Print(env, FollowModel(*r), "");
  }
  return ok ? 0 : 1;
}

int Cancel(Env& env, const std::string& arg, bool wait, nanoseconds timeout) {
  auto [ns, name] = SplitNsName(env, arg);
  const auto& rt = kube::resources::kVirtualMachineMigrations;
  auto got = env.api.Get(rt, ns, name);
  if (!got.ok()) return Fail(env, got.status());
  auto vmm = api::VirtualMachineMigration::FromJson(*got);
  if (!vmm.ok()) return Fail(env, vmm.status());
  if (api::IsTerminal(vmm->status.phase)) {
    env.err << "nothing to cancel: " << OutcomeLine(*vmm, std::nullopt) << "\n";
    return 1;
  }
  const auto start = env.clock.Now();
  if (Status st = env.api.Delete(rt, ns, name); !st.ok()) return Fail(env, st);
  if (env.format == OutputFormat::kTable) {
    env.out << "virtualmachinemigration.ferry.dev/" << name << " deleted: cancel requested\n";
  }
  if (!wait) return 0;
  auto r = FollowWithLine(env, ns, name, start, timeout);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kNotFound) {
      env.out << "cancelled: the migration is gone\n";
      return 0;
    }
    return Fail(env, r.status());
  }
  if (env.format != OutputFormat::kTable) {
    Print(env, FollowModel(*r), "");
  } else if (r->last) {
    env.out << OutcomeLine(*r->last, std::nullopt) << "\n";
    if (r->last->status.phase == api::MigrationPhase::kSucceeded) {
      env.out << "the migration had switched to post-copy: the guest runs on the target, nothing "
                 "to undo\n";
    }
  }
  return r->last && r->last->status.phase == api::MigrationPhase::kSucceeded ? 1 : 0;
}

int PlanDrain(Env& env, const std::string& node) {
  auto objects = List(env);
  if (!objects.ok()) return Fail(env, objects.status());
  auto state = BuildState(*objects, env.clock, env.heartbeat_timeout);
  auto model = DrainPlanModel(*state, *objects, node);
  if (!model.ok()) return Fail(env, model.status());
  Print(env, *model, DrainPlanTable(*model));
  return 0;
}

int Explain(Env& env, const std::string& vm, const std::string& to) {
  auto [ns, name] = SplitNsName(env, vm);
  auto objects = List(env);
  if (!objects.ok()) return Fail(env, objects.status());
  auto state = BuildState(*objects, env.clock, env.heartbeat_timeout);
  auto model = ExplainModel(*state, *objects, ns, name, to);
  if (!model.ok()) return Fail(env, model.status());
  Print(env, *model, ExplainTable(*model));
  return 0;
}

int ShowStatus(Env& env) {
  auto objects = List(env);
  if (!objects.ok()) return Fail(env, objects.status());
  std::optional<api::Lease> lease;
  auto l = env.api.Get(kube::resources::kLeases, env.lease_namespace, env.lease_name);
  if (l.ok()) {
    if (auto parsed = api::Lease::FromJson(*l); parsed.ok()) lease = *parsed;
  } else if (l.status().code() != StatusCode::kNotFound) {
    return Fail(env, l.status());
  }
  const Json model = StatusModel(*objects, lease, env.clock.WallNow(), env.heartbeat_timeout);
  Print(env, model, StatusTable(model));
  return 0;
}

int Drain(Env& env, const std::string& node, bool wait, nanoseconds timeout) {
  const auto start = env.clock.Now();
  const auto wall_start = env.clock.WallNow();
  auto objects = List(env);
  if (!objects.ok()) return Fail(env, objects.status());
  auto state = BuildState(*objects, env.clock, env.heartbeat_timeout);
  auto plan = DrainPlanModel(*state, *objects, node);
  if (!plan.ok()) return Fail(env, plan.status());
  if (env.format == OutputFormat::kTable) env.out << DrainPlanTable(*plan) << "\n";
  auto patched =
      env.api.Patch(kube::resources::kNodes, "", node, {{"spec", {{"unschedulable", true}}}});
  if (!patched.ok()) return Fail(env, patched.status());
  if (env.format == OutputFormat::kTable) env.out << "node/" << node << " cordoned\n" << std::flush;
  if (!wait) return 0;

  kube::ListOptions lo;
  lo.label_selector = std::string("ferry.dev/evacuation-node=") + node;
  std::map<std::string, std::string> shown;  // VMM -> last line printed
  std::map<std::string, Clock::TimePoint> shown_at;
  // When the drain was first seen blocked (a flag beside a value, not std::optional: GCC 12 at -O3
  // warns the optional's value may be read uninitialized).
  bool seen_blocked = false;
  Clock::TimePoint blocked_since{};
  // A drain runs in the operator: an API server that times out or restarts while this command
  // waits ends the wait only when --timeout passes (said once per outage), never the drain.
  Clock::TimePoint outage_said{};
  bool in_outage = false;
  while (true) {
    auto n = env.api.Get(kube::resources::kNodes, "", node);
    auto list = n.ok() ? env.api.List(kube::resources::kVirtualMachineMigrations, "", lo)
                       : StatusOr<kube::ListResult>(n.status());
    if (!list.ok()) {
      const Status st = list.status();
      const auto now = env.clock.Now();
      if (!st.IsTransient() || now - start > timeout) return Fail(env, st);
      if (env.format == OutputFormat::kTable && (!in_outage || now - outage_said >= seconds(30))) {
        env.out << "[+" << HumanDuration(now - start) << "] API server: " << st.message()
                << " (still waiting)\n"
                << std::flush;
        outage_said = now;
      }
      in_outage = true;
      std::this_thread::sleep_for(milliseconds(500));
      continue;
    }
    in_outage = false;
    std::vector<api::VirtualMachineMigration> vmms;
    for (const Json& item : list->items) {
      auto v = api::VirtualMachineMigration::FromJson(item);
      if (!v.ok()) continue;
      // This drain's migrations: created since it started (second precision), or still going.
      const bool recent = v->metadata.creation_timestamp &&
                          *v->metadata.creation_timestamp >= wall_start - seconds(1);
      if (recent || !api::IsTerminal(v->status.phase)) vmms.push_back(std::move(*v));
    }
    const auto now = env.clock.Now();
    for (const auto& v : vmms) {
      const std::string line = ProgressLine(v, env.clock.WallNow());
      const std::string head = line.substr(0, line.find(' '));
      auto it = shown.find(v.metadata.name);
      const bool phase_changed =
          it == shown.end() || it->second.substr(0, it->second.find(' ')) != head;
      if (env.format == OutputFormat::kTable && line != (it == shown.end() ? "" : it->second) &&
          (phase_changed || now - shown_at[v.metadata.name] >= seconds(3))) {
        env.out << "[+" << HumanDuration(now - start) << "] " << v.metadata.namespace_ << "/"
                << v.spec.vm_name << "  " << line << "\n"
                << std::flush;
        shown[v.metadata.name] = line;
        shown_at[v.metadata.name] = now;
      }
    }
    const DrainState ds = ReadDrainState(*n, vmms);
    const DrainVerdict verdict = JudgeDrain(ds);
    if (verdict == DrainVerdict::kBlocked) {
      if (!seen_blocked) blocked_since = now;
      seen_blocked = true;
    } else {
      seen_blocked = false;
    }
    // Blocked must hold across the operator's re-check (every 5 s) before it is believed.
    const bool blocked = seen_blocked && now - blocked_since >= seconds(6);
    if (verdict == DrainVerdict::kDone || blocked) {
      const Json summary = DrainSummaryModel(node, ds, vmms);
      if (env.format == OutputFormat::kTable) {
        env.out << "\n"
                << (blocked ? "drain of " + node + " stopped: " + std::to_string(ds.remaining) +
                                  " VM(s) may not leave it"
                            : node + " drained: no running VMs left") +
                       " (" + HumanDuration(now - start) + ")\n"
                << DrainSummaryTable(summary);
      } else {
        Json m = summary;
        m["drained"] = !blocked;
        m["seconds"] = std::chrono::duration<double>(now - start).count();
        Print(env, m, "");
      }
      return blocked ? 2 : 0;
    }
    if (!ds.annotated && now - start > seconds(30)) {
      return Fail(env, UnavailableError("no evacuation progress on node " + node +
                                        " after 30 s: is ferry-operator running?"));
    }
    if (now - start > timeout)
      return Fail(env, DeadlineExceededError("drain of " + node + " not finished"));
    std::this_thread::sleep_for(milliseconds(500));
  }
}

}  // namespace ferry::kubectl

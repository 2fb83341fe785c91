#include "follow.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/group.h"
#include "api/json_fields.h"
#include "controller/backoff.h"
#include "format.h"
#include "kube/rest_client.h"

namespace ferry::kubectl {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// One watch request lasts at most this long; the follower starts the next from where it was.
constexpr int kWatchSeconds = 60;

struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<api::VirtualMachineMigration> latest;
  bool changed = false;
  bool deleted = false;
  Status error;
  std::vector<PhaseMark> timeline;
};

void Observe(Shared& s, const api::VirtualMachineMigration& vmm, Clock& clock,
             Clock::TimePoint start) {
  std::lock_guard l(s.mu);
  const std::string phase(api::ToString(vmm.status.phase));
  if (!phase.empty() && (s.timeline.empty() || s.timeline.back().phase != phase)) {
    bool seen = false;
    for (const auto& m : s.timeline) seen = seen || m.phase == phase;
    if (!seen) s.timeline.push_back({phase, duration_cast<nanoseconds>(clock.Now() - start)});
  }
  s.latest = vmm;
  s.changed = true;
  s.cv.notify_all();
}

}  // namespace

StatusOr<FollowResult> FollowMigration(
    kube::ApiClient& api, const std::string& ns, const std::string& name, Clock& clock,
    Clock::TimePoint start, nanoseconds timeout, milliseconds tick,
    const std::function<void(const api::VirtualMachineMigration&)>& on_update) {
  const auto& rt = kube::resources::kVirtualMachineMigrations;
  Shared s;
  auto first = api.Get(rt, ns, name);
  if (!first.ok()) return first.status();
  std::string rv = (*first)["metadata"].value("resourceVersion", "");
  if (auto vmm = api::VirtualMachineMigration::FromJson(*first); vmm.ok())
    Observe(s, *vmm, clock, start);

  std::jthread watcher([&](std::stop_token stop) {
    // Re-reads through an API server that times out or restarts: 0.5, 1, 2, 4, 4 ... s.
    controller::Backoff reread(milliseconds(500), milliseconds(4000), 2.0, 0.0, clock, 1);
    while (!stop.stop_requested()) {
      kube::WatchOptions wo;
      wo.resource_version = rv;
      wo.field_selector = "metadata.name=" + name;
      wo.timeout_seconds = kWatchSeconds;
      bool gone = false;
      Status st = api.Watch(
          rt, ns, wo,
          [&](const kube::WatchEvent& ev) {
            if (ev.type == kube::WatchEvent::Type::kError) {
              gone = true;  // e.g. 410: start again from a fresh Get
              return false;
            }
            if (ev.object.contains("metadata"))
              rv = ev.object["metadata"].value("resourceVersion", rv);
            if (ev.type == kube::WatchEvent::Type::kBookmark) return true;
            if (ev.type == kube::WatchEvent::Type::kDeleted) {
              std::lock_guard l(s.mu);
              s.deleted = true;
              s.cv.notify_all();
              return false;
            }
            if (auto vmm = api::VirtualMachineMigration::FromJson(ev.object); vmm.ok())
              Observe(s, *vmm, clock, start);
            return true;
          },
          stop);
      {
        std::lock_guard l(s.mu);
        if (s.deleted) return;
      }
      if (stop.stop_requested()) return;
      if (gone || !st.ok()) {
        if (!st.ok()) std::this_thread::sleep_for(milliseconds(500));
        auto again = api.Get(rt, ns, name);
        // Read again until the server answers (the caller's deadline ends the wait); only a
        // lasting answer (gone, forbidden, ...) ends it here.
        while (!again.ok() && again.status().IsTransient() && !stop.stop_requested()) {
          std::this_thread::sleep_for(reread.Next());
          again = api.Get(rt, ns, name);
        }
        if (stop.stop_requested()) return;
        reread.Reset();
        if (!again.ok()) {
          std::lock_guard l(s.mu);
          if (again.status().code() == StatusCode::kNotFound) {
            s.deleted = true;
          } else {
            s.error = again.status();
          }
          s.cv.notify_all();
          return;
        }
        rv = (*again)["metadata"].value("resourceVersion", "");
        if (auto vmm = api::VirtualMachineMigration::FromJson(*again); vmm.ok())
          Observe(s, *vmm, clock, start);
      }
    }
  });

  const auto deadline = clock.Now() + timeout;
  FollowResult result;
  while (true) {
    std::optional<api::VirtualMachineMigration> current;
    {
      std::unique_lock l(s.mu);
      s.cv.wait_for(l, tick, [&] { return s.changed || s.deleted || !s.error.ok(); });
      s.changed = false;
      current = s.latest;
      result.deleted = s.deleted;
      result.timeline = s.timeline;
      if (!s.error.ok()) return s.error;
    }
    if (current) on_update(*current);
    result.last = current;
    if (result.deleted || (current && api::IsTerminal(current->status.phase))) break;
    if (clock.Now() >= deadline) {
      return DeadlineExceededError("migration " + ns + "/" + name + " not finished after " +
                                   HumanDuration(timeout));
    }
  }
  watcher.request_stop();
  return result;
}

std::string TimelineLine(const std::vector<PhaseMark>& timeline) {
  std::string out;
  for (const auto& m : timeline) {
    if (!out.empty()) out += "  ";
    out += m.phase + " +" + HumanDuration(m.after);
  }
  return out;
}

Json TimelineJson(const std::vector<PhaseMark>& timeline) {
  Json out = Json::array();
  for (const auto& m : timeline) {
    out.push_back(
        {{"phase", m.phase}, {"seconds", std::chrono::duration<double>(m.after).count()}});
  }
  return out;
}

DrainState ReadDrainState(const Json& node, const std::vector<api::VirtualMachineMigration>& vmms) {
  DrainState s;
  const Json annotations = node.contains("metadata")
                               ? node["metadata"].value("annotations", Json::object())
                               : Json::object();
  if (annotations.contains(api::kAnnotationEvacuation) &&
      annotations[api::kAnnotationEvacuation].is_string()) {
    const Json a =
        Json::parse(annotations[api::kAnnotationEvacuation].get<std::string>(), nullptr, false);
    if (a.is_object()) {
      s.annotated = true;
      s.planned = a.value("planned", 0);
      s.remaining = a.value("remaining", 0);
      s.migrating = a.value("migrating", 0);
      for (const Json& b : a.value("blocked", Json::array())) {
        s.blocked.emplace_back(b.value("vm", ""), b.value("reason", ""));
      }
    }
  }
  for (const auto& m : vmms) {
    if (!api::IsTerminal(m.status.phase)) ++s.in_flight;
  }
  return s;
}

DrainVerdict JudgeDrain(const DrainState& s) {
  if (!s.annotated) return DrainVerdict::kGoing;
  if (s.remaining == 0 && s.in_flight == 0) return DrainVerdict::kDone;
  if (s.in_flight == 0 && s.migrating == 0 && s.remaining <= static_cast<int>(s.blocked.size())) {
    return DrainVerdict::kBlocked;
  }
  return DrainVerdict::kGoing;
}

Json DrainSummaryModel(const std::string& node, const DrainState& s,
                       const std::vector<api::VirtualMachineMigration>& vmms) {
  Json m = {{"node", node}, {"migrations", Json::array()}, {"blocked", Json::array()}};
  for (const auto& v : vmms) {
    Json row = {{"name", v.metadata.name},
                {"vm", v.metadata.namespace_ + "/" + v.spec.vm_name},
                {"phase", std::string(api::ToString(v.status.phase))},
                {"source", v.status.source_node},
                {"target", v.status.target_node},
                {"mode", CompletedMode(v)},
                {"reason", v.status.reason}};
    if (v.status.start_time && v.status.completion_time) {
      row["seconds"] =
          std::chrono::duration<double>(*v.status.completion_time - *v.status.start_time).count();
    }
    if (v.status.downtime)
      row["downtimeMs"] = duration_cast<milliseconds>(*v.status.downtime).count();
    m["migrations"].push_back(std::move(row));
  }
  for (const auto& [vm, reason] : s.blocked)
    m["blocked"].push_back({{"vm", vm}, {"reason", reason}});
  return m;
}

std::string DrainSummaryTable(const Json& m) {
  Table t({"VM", "FROM", "TO", "RESULT", "MODE", "TOOK", "DOWNTIME"});
  for (const Json& r : m["migrations"]) {
    const std::string phase = Str(r, "phase");
    t.AddRow(
        {Str(r, "vm"), Str(r, "source"), Str(r, "target"),
         phase + (Str(r, "reason").empty() || phase == "Succeeded" ? ""
                                                                   : " (" + Str(r, "reason") + ")"),
         phase == "Succeeded" ? Str(r, "mode") : "-",
         r.contains("seconds") ? HumanDuration(std::chrono::duration_cast<nanoseconds>(
                                     std::chrono::duration<double>(r["seconds"].get<double>())))
                               : "-",
         r.contains("downtimeMs") ? std::to_string(r["downtimeMs"].get<int64_t>()) + "ms" : "-"});
  }
  std::string out = t.empty() ? "no migrations\n" : t.Render();
  if (!m["blocked"].empty()) {
    Table b({"STAYS ON " + Str(m, "node"), "WHY"});
    for (const Json& r : m["blocked"]) b.AddRow({Str(r, "vm"), Str(r, "reason")});
    out += "\n" + b.Render();
  }
  return out;
}

}  // namespace ferry::kubectl

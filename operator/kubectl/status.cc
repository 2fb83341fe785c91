#include "status.h"

#include "api/group.h"
#include "api/json_fields.h"
#include "format.h"
#include "placement/format.h"

namespace ferry::kubectl {
namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

std::string UsedOf(int64_t used, int64_t allocatable) {
  return std::to_string(used) + "/" + std::to_string(allocatable);
}

}  // namespace

Json StatusModel(const ClusterObjects& objects, const std::optional<api::Lease>& lease,
                 api::WallTime now, std::chrono::nanoseconds heartbeat_timeout) {
  Json m = {{"leader", nullptr},
            {"handlers", Json::array()},
            {"nodes", Json::array()},
            {"migrations", Json::array()}};
  if (lease && !lease->spec.holder_identity.empty()) {
    Json l = {{"holder", lease->spec.holder_identity},
              {"transitions", lease->spec.lease_transitions}};
    if (lease->spec.renew_time)
      l["renewedSecondsAgo"] = duration_cast<seconds>(now - *lease->spec.renew_time).count();
    if (lease->spec.lease_duration_seconds)
      l["leaseDurationSeconds"] = *lease->spec.lease_duration_seconds;
    m["leader"] = l;
  }
  for (const api::Hypervisor& h : objects.hypervisors) {
    const auto& st = h.status;
    Json r = {{"node", h.metadata.name},
              {"ready", st.ready},
              {"domains", st.domains},
              {"migrationsIn", st.migrations_in},
              {"migrationsOut", st.migrations_out},
              {"cpus", UsedOf(st.used.cpus, st.allocatable.cpus)},
              {"memory", placement::FormatBytes(st.used.memory.Value()) + "/" +
                             placement::FormatBytes(st.allocatable.memory.Value())},
              {"libvirt", st.libvirt_version},
              {"qemu", st.qemu_version},
              {"orphans", st.orphans.size()}};
    bool alive = false;
    if (st.last_heartbeat_time) {
      const auto age = now - *st.last_heartbeat_time;
      r["heartbeatSecondsAgo"] = duration_cast<seconds>(age).count();
      alive = st.ready && age <= heartbeat_timeout;
    }
    r["alive"] = alive;
    m["handlers"].push_back(std::move(r));
  }
  for (const api::Node& n : objects.nodes) {
    Json r = {
        {"name", n.metadata.name}, {"ready", n.IsReady()}, {"schedulable", !n.spec.unschedulable}};
    auto it = n.metadata.annotations.find(api::kAnnotationEvacuation);
    if (it != n.metadata.annotations.end())
      r["evacuation"] = Json::parse(it->second, nullptr, false);
    m["nodes"].push_back(std::move(r));
  }
  for (const api::VirtualMachineMigration& v : objects.migrations) {
    if (api::IsTerminal(v.status.phase)) continue;
    Json r = {{"name", v.metadata.namespace_ + "/" + v.metadata.name},
              {"vm", v.spec.vm_name},
              {"phase", std::string(api::ToString(v.status.phase))},
              {"source", v.status.source_node},
              {"target", v.status.target_node},
              {"age", Age(v.metadata.creation_timestamp, now)}};
    if (v.status.progress) {
      r["percent"] = v.status.progress->percent;
      if (v.status.progress->estimated_time_remaining) {
        r["eta"] = HumanDuration(*v.status.progress->estimated_time_remaining);
      }
    }
    m["migrations"].push_back(std::move(r));
  }
  return m;
}

std::string StatusTable(const Json& m) {
  std::string out;
  if (m["leader"].is_null()) {
    out += "operator: no replica holds the lease\n";
  } else {
    const Json& l = m["leader"];
    out += "operator leader: " + Str(l, "holder");
    if (l.contains("renewedSecondsAgo"))
      out += " (lease renewed " + std::to_string(Int(l, "renewedSecondsAgo")) + "s ago)";
    out += "\n";
  }
  Table h(
      {"NODE", "HANDLER", "HEARTBEAT", "VMS", "IN", "OUT", "VCPUS", "MEMORY", "LIBVIRT", "QEMU"});
  for (const Json& r : m["handlers"]) {
    h.AddRow(
        {Str(r, "node"),
         r.value("alive", false) ? "alive" : (r.value("ready", false) ? "silent" : "not ready"),
         r.contains("heartbeatSecondsAgo") ? std::to_string(Int(r, "heartbeatSecondsAgo")) + "s ago"
                                           : "never",
         std::to_string(Int(r, "domains")), std::to_string(Int(r, "migrationsIn")),
         std::to_string(Int(r, "migrationsOut")), Str(r, "cpus"), Str(r, "memory"),
         Str(r, "libvirt"), Str(r, "qemu")});
  }
  out += "\n" + (h.empty() ? std::string("no handlers (no Hypervisor objects)\n") : h.Render());
  Table n({"NODE", "READY", "SCHEDULING", "EVACUATION"});
  for (const Json& r : m["nodes"]) {
    std::string evac = "-";
    if (r.contains("evacuation") && r["evacuation"].is_object()) {
      const Json& e = r["evacuation"];
      evac = std::to_string(e.value("remaining", 0)) + " of " +
             std::to_string(e.value("planned", 0)) + " left, " +
             std::to_string(e.value("migrating", 0)) + " migrating, " +
             std::to_string(e.value("blocked", Json::array()).size()) + " blocked";
    }
    n.AddRow({Str(r, "name"), r.value("ready", false) ? "True" : "False",
              r.value("schedulable", true) ? "enabled" : "cordoned", evac});
  }
  out += "\n" + n.Render();
  Table v({"MIGRATION", "VM", "PHASE", "SOURCE", "TARGET", "PROGRESS", "ETA", "AGE"});
  for (const Json& r : m["migrations"]) {
    v.AddRow({Str(r, "name"), Str(r, "vm"), Str(r, "phase"), Str(r, "source"), Str(r, "target"),
              r.contains("percent") ? std::to_string(Int(r, "percent")) + "%" : "-",
              Str(r, "eta").empty() ? "-" : Str(r, "eta"), Str(r, "age")});
  }
  out += "\n" + (v.empty() ? std::string("no migrations in flight\n") : v.Render());
  return out;
}

}  // namespace ferry::kubectl

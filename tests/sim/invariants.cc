#include "invariants.h"

#include <map>
#include <set>

#include "api/group.h"
#include "api/labels.h"
#include "kube/store.h"

namespace ferry::sim {
namespace {

using kube::Json;

std::string Str(const Json& o, const char* a, const char* b) {
  if (!o.contains(a) || !o[a].is_object()) return "";
  return o[a].value(b, "");
}
std::string Phase(const Json& o) { return Str(o, "status", "phase"); }
std::string Uid(const Json& o) { return Str(o, "metadata", "uid"); }
std::string Key(const Json& o) { return kube::ObjectKey(o); }
bool CondTrue(const Json& o, const char* type) {
  if (!o.contains("status") || !o["status"].contains("conditions")) return false;
  for (const auto& c : o["status"]["conditions"])
    if (c.value("type", "") == type) return c.value("status", "") == "True";
  return false;
}
bool InFlight(const std::string& p) {
  return p == "Scheduled" || p == "PreparingTarget" || p == "TargetReady" || p == "Running";
}
bool Terminal(const std::string& p) {
  return p == "Succeeded" || p == "Failed" || p == "Cancelled";
}
// A migration that waits, visibly, for a person to say where the guest is.
bool AwaitsPerson(const Json& vmm) {
  return CondTrue(vmm, "GuestLocationUnknown") || CondTrue(vmm, "SourcePaused");
}
std::string VmOf(const Json& vmm) {
  std::optional<std::string> full = api::FullLabelValue(vmm, api::kLabelVm);
  const std::string vm = full && !full->empty() ? *full : Str(vmm, "spec", "vmName");
  return vmm["metadata"].value("namespace", "") + "/" + vm;
}

}  // namespace

std::vector<Finding> CheckAlways(const SimApiServer& server, const FakeLibvirt& libvirt,
                                 const op::MigrationLimits& limits) {
  std::vector<Finding> out;
  // one-copy: at most one running copy; and no start or resume while another copy was live
  // (a paused source beside a running target is what libvirt leaves after a switch that
  // broke; it is fenced — nobody may resume it — until the target's word decides)
  for (const std::string& h : libvirt.hazards()) out.push_back({"one-copy", h});
  std::map<std::string, std::vector<std::string>> live;  // vm uid -> "node(state)"
  for (const auto& [node, doms] : libvirt.nodes()) {
    for (const auto& [name, d] : doms) {
      if (d.state == DomainState::kRunning)
        live[d.vm_uid].push_back(node + "(" + DomainStateName(d.state) + ")");
    }
  }
  for (const auto& [uid, where] : live) {
    if (where.size() <= 1) continue;
    std::string w;
    for (const auto& x : where) w += (w.empty() ? "" : ", ") + x;
    out.push_back({"one-copy", "VM uid " + uid + " has " + std::to_string(where.size()) +
                                   " live copies: " + w});
  }
  // failed-but-running and limits
  int cluster = 0;
  std::map<std::string, int> outbound, inbound;
  for (const Json& vmm : server.All(kube::resources::kVirtualMachineMigrations)) {
    const std::string p = Phase(vmm);
    const std::string target = Str(vmm, "status", "targetNode");
    if ((p == "Failed" || p == "Cancelled") && !target.empty()) {
      for (const auto& [name, d] : libvirt.nodes().count(target) ? libvirt.nodes().at(target)
                                                                 : std::map<std::string, Domain>{}) {
        if (d.vmm_uid == Uid(vmm) && d.state == DomainState::kRunning) {
          out.push_back({"failed-but-running", "migration " + Key(vmm) + " is " + p +
                                                   " but its guest runs on the target " +
                                                   target});
        }
      }
    }
    if (InFlight(p)) {
      ++cluster;
      ++outbound[Str(vmm, "status", "sourceNode")];
      ++inbound[target];
    }
  }
  if (cluster > limits.per_cluster)
    out.push_back({"limits", std::to_string(cluster) + " migrations in flight, limit " +
                                 std::to_string(limits.per_cluster)});
  for (const auto& [n, c] : outbound)
    if (c > limits.outbound_per_node)
      out.push_back({"limits", std::to_string(c) + " migrations out of " + n});
  for (const auto& [n, c] : inbound)
    if (c > limits.inbound_per_node)
      out.push_back({"limits", std::to_string(c) + " migrations into " + n});
  return out;
}

std::vector<Finding> CheckAtRest(const SimApiServer& server, const FakeLibvirt& libvirt) {
  std::vector<Finding> out;
  std::set<std::string> waiting;  // VM keys with a migration waiting for a person
  for (const Json& vmm : server.All(kube::resources::kVirtualMachineMigrations)) {
    if (AwaitsPerson(vmm) && !Terminal(Phase(vmm))) {
      waiting.insert(VmOf(vmm));
      continue;
    }
    if (vmm["metadata"].contains("deletionTimestamp"))
      out.push_back({"settled", "migration " + Key(vmm) + " is still being deleted (" +
                                    vmm["metadata"].value("finalizers", Json::array()).dump() +
                                    ")"});
    else if (!Terminal(Phase(vmm)) && !Phase(vmm).empty() && Phase(vmm) != "Pending" &&
             Phase(vmm) != "Scheduling")
      out.push_back({"settled", "migration " + Key(vmm) + " is still " + Phase(vmm)});
  }
  std::map<std::string, std::map<std::string, int>> group_nodes;  // group key -> node -> n
  std::map<std::string, Json> groups;
  for (const Json& g : server.All(kube::resources::kServerGroups)) groups[Key(g)] = g;
  for (const Json& vm : server.All(kube::resources::kVirtualMachines)) {
    const std::string key = Key(vm);
    if (vm["metadata"].contains("deletionTimestamp")) {
      out.push_back({"settled", "VM " + key + " on " + Str(vm, "status", "nodeName") +
                                    " is still being deleted (finalizers " +
                                    vm["metadata"].value("finalizers", Json::array()).dump() +
                                    ")"});
      continue;
    }
    if (waiting.count(key) != 0) continue;
    const bool want = vm.value("spec", Json::object()).value("running", false);
    std::vector<std::string> running;
    for (const auto& [node, doms] : libvirt.nodes()) {
      for (const auto& [name, d] : doms) {
        if (d.vm_uid != Uid(vm)) continue;
        if (d.state == DomainState::kRunning) running.push_back(node);
        if (d.state == DomainState::kPaused)
          out.push_back({"placed", "VM " + key + " has a paused copy left on " + node});
      }
    }
    const std::string node = Str(vm, "status", "nodeName");
    const std::string phase = Phase(vm);
    if (want && !node.empty()) {
      if (running.size() != 1 || running[0] != node) {
        std::string w;
        for (const auto& x : running) w += " " + x;
        out.push_back({"placed", "VM " + key + " (phase " + phase + ") should run on " + node +
                                     "; it runs on [" + w + " ]"});
      }
    } else if (!want && !running.empty()) {
      out.push_back({"placed", "VM " + key + " is stopped but runs on " + running[0]});
    }
    if (phase == "Failed")
      out.push_back({"placed", "VM " + key + " is Failed (nothing outside Ferry touched it)"});
    const std::string g = Str(vm, "spec", "serverGroup");
    if (!g.empty() && running.size() == 1)
      ++group_nodes[vm["metadata"].value("namespace", "") + "/" + g][running[0]];
  }
  for (const auto& [gk, per_node] : group_nodes) {
    auto it = groups.find(gk);
    if (it == groups.end()) continue;
    const Json spec = it->second.value("spec", Json::object());
    if (spec.value("policy", "") != "AntiAffinity" || spec.value("bestEffort", false)) continue;
    const int max = spec.value("maxPerNode", 1);
    for (const auto& [n, c] : per_node)
      if (c > max)
        out.push_back({"anti-affinity", "group " + gk + " has " + std::to_string(c) +
                                            " members on " + n + " (max " + std::to_string(max) +
                                            ")"});
  }
  return out;
}

}  // namespace ferry::sim

// What happens to the simulated cluster from outside: users' requests, faults, and (for
// chaos runs) the draw of both; and the world's read-only views for scenarios.
#include <algorithm>

#include "api/group.h"
#include "world.h"

namespace ferry::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
constexpr const char* kNs = "default";

std::string Result(const ferry::Status& st) { return st.ok() ? "ok" : st.ToString(); }

}  // namespace

// ---- users ---------------------------------------------------------------------------------

void World::CreateVm(const std::string& name, bool running, const std::string& group,
                     const std::string& eviction) {
  Json spec = {{"running", running},
               {"cpus", 1},
               {"memory", "128Mi"},
               {"evictionStrategy", eviction},
               {"kernelBoot", {{"kernel", "/images/vmlinuz"}, {"initrd", "/images/initrd"}}}};
  if (!group.empty()) spec["serverGroup"] = group;
  Json vm = {{"apiVersion", api::kApiVersion},
             {"kind", "VirtualMachine"},
             {"metadata", {{"name", name}, {"namespace", kNs}}},
             {"spec", spec}};
  Note("user: create vm " + name + (group.empty() ? "" : " in " + group) + ": " +
       Result(user_.Create(kube::resources::kVirtualMachines, kNs, vm).status()));
}

void World::DeleteVm(const std::string& name, const std::string& propagation) {
  kube::DeleteOptions o;
  o.propagation_policy = propagation;
  Note("user: delete vm " + name + (propagation.empty() ? "" : " (" + propagation + ")") + ": " +
       Result(user_.Delete(kube::resources::kVirtualMachines, kNs, name, o)));
}

void World::CreateVmm(const std::string& name, const std::string& vm, const std::string& target) {
  Json spec = {{"vmName", vm}, {"mode", "Auto"}};
  if (!target.empty()) spec["targetNode"] = target;
  Json vmm = {{"apiVersion", api::kApiVersion},
              {"kind", "VirtualMachineMigration"},
              {"metadata", {{"name", name}, {"namespace", kNs}}},
              {"spec", spec}};
  Note("user: create vmm " + name + " of " + vm + ": " +
       Result(user_.Create(kube::resources::kVirtualMachineMigrations, kNs, vmm).status()));
}

void World::DeleteVmm(const std::string& name) {
  Note("user: delete vmm " + name + ": " +
       Result(user_.Delete(kube::resources::kVirtualMachineMigrations, kNs, name)));
}

void World::Cordon(const std::string& node, bool cordoned) {
  Note("user: " + std::string(cordoned ? "cordon " : "uncordon ") + node + ": " +
       Result(user_.Patch(kube::resources::kNodes, "", node,
                          {{"spec", {{"unschedulable", cordoned}}}})
                  .status()));
}

void World::SetRunning(const std::string& vm, bool running) {
  Note("user: set " + vm + " running=" + (running ? "true" : "false") + ": " +
       Result(user_.Patch(kube::resources::kVirtualMachines, kNs, vm,
                          {{"spec", {{"running", running}}}})
                  .status()));
}

// ---- faults --------------------------------------------------------------------------------

void World::CrashOperator(int i, Clock::Duration down) {
  Proc& pr = procs_[static_cast<size_t>(i)];
  pr.p->Crash();
  pr.down = true;
  pr.down_until = time_.Now() + down;
  Note("fault: crash " + pr.p->name() + " for " + std::to_string(down.count() / 1000000) + " ms");
}

void World::PauseOperator(int i, Clock::Duration paused) {
  Proc& pr = procs_[static_cast<size_t>(i)];
  pr.paused_until = std::max(pr.paused_until, time_.Now() + paused);
  if (pr.op != nullptr)
    pr.op->DelayElectionUntil(pr.paused_until + Between(Clock::Duration::zero(), seconds(2)));
  Note("fault: pause " + pr.p->name() + " for " + std::to_string(paused.count() / 1000000) +
       " ms");
}

void World::CrashAgent(const std::string& node, Clock::Duration down) {
  for (auto& pr : procs_) {
    if (pr.p != agents_.at(node).get()) continue;
    pr.p->Crash();
    pr.down = true;
    pr.down_until = time_.Now() + down;
  }
  Note("fault: crash handler/" + node + " for " + std::to_string(down.count() / 1000000) + " ms");
}

void World::PartitionAgent(const std::string& node, Clock::Duration cut) {
  for (auto& pr : procs_) {
    if (pr.p == agents_.at(node).get())
      pr.partitioned_until = std::max(pr.partitioned_until, time_.Now() + cut);
  }
  Note("fault: cut handler/" + node + " off the API server for " +
       std::to_string(cut.count() / 1000000) + " ms");
}

void World::LibvirtdDown(const std::string& node, Clock::Duration down) {
  libvirt_.SetUp(node, false);
  libvirtd_down_until_[node] = time_.Now() + down;
  Note("fault: libvirtd down on " + node + " for " + std::to_string(down.count() / 1000000) +
       " ms");
}

void World::SetSkew(const std::string& node, Clock::Duration skew) {
  agents_.at(node)->clock().set_skew(skew);
}

// ---- chaos: the draw of the above ----------------------------------------------------------

void World::Chaos(std::vector<Action>& acts) {
  static const std::vector<std::string> kVms = {"vm-0", "vm-1", "vm-2", "vm-3", "vm-4", "vm-5"};
  static const std::vector<std::string> kVmms = {"mig-0", "mig-1", "mig-2", "mig-3"};
  static const std::vector<std::string> kGroups = {"", "", "", "web", "db"};
  static const std::vector<std::string> kEviction = {"LiveMigrate", "LiveMigrate",
                                                     "LiveMigrateIfPossible", "Shutdown"};
  const auto& nodes = options_.nodes;
  acts.push_back({0.3, [this] {
                    CreateVm(Pick(kVms), Uniform() < 0.9, Pick(kGroups), Pick(kEviction));
                  }});
  acts.push_back({0.04, [this] { DeleteVm(Pick(kVms), Uniform() < 0.3 ? "Foreground" : ""); }});
  acts.push_back({0.3, [this, &nodes] {
                    CreateVmm(Pick(kVmms), Pick(kVms), Uniform() < 0.3 ? Pick(nodes) : "");
                  }});
  acts.push_back({0.1, [this] { DeleteVmm(Pick(kVmms)); }});
  acts.push_back({0.03, [this, &nodes] { Cordon(Pick(nodes), Uniform() < 0.6); }});
  acts.push_back({0.02, [this] { SetRunning(Pick(kVms), Uniform() < 0.7); }});
  acts.push_back({0.02, [this] {
                    CrashOperator(static_cast<int>(Uniform() * operators_.size()),
                                  Between(milliseconds(500), seconds(20)));
                  }});
  acts.push_back({0.02, [this] {
                    PauseOperator(static_cast<int>(Uniform() * operators_.size()),
                                  Between(seconds(1), seconds(60)));
                  }});
  acts.push_back({0.02, [this, &nodes] {
                    CrashAgent(Pick(nodes), Between(milliseconds(500), seconds(30)));
                  }});
  acts.push_back({0.01, [this, &nodes] {
                    PartitionAgent(Pick(nodes), Between(seconds(1), minutes(7)));
                  }});
  acts.push_back({0.01, [this, &nodes] {
                    LibvirtdDown(Pick(nodes), Between(seconds(1), seconds(60)));
                  }});
  acts.push_back({0.02, [this] {
                    const int64_t rv = server_.current_rv() - 40;
                    if (rv > server_.compacted_rv()) {
                      server_.Compact(rv);
                      Note("fault: etcd compaction up to " + std::to_string(rv));
                    }
                  }});
}

// ---- reading -------------------------------------------------------------------------------

std::optional<Json> World::Get(const kube::ResourceType& rt, const std::string& name) const {
  auto o = const_cast<SimApiServer&>(server_).Get(rt, rt.namespaced ? kNs : "", name);
  if (!o.ok()) return std::nullopt;
  return *o;
}

std::optional<Json> World::Vm(const std::string& name) const {
  return Get(kube::resources::kVirtualMachines, name);
}

std::optional<Json> World::Vmm(const std::string& name) const {
  return Get(kube::resources::kVirtualMachineMigrations, name);
}

std::string World::VmmPhase(const std::string& name) const {
  auto o = Vmm(name);
  if (!o || !o->contains("status")) return "";
  return (*o)["status"].value("phase", "");
}

std::string World::GuestNode(const std::string& vm) const {
  auto o = Vm(vm);
  if (!o) return "";
  const std::string uid = (*o)["metadata"].value("uid", "");
  for (const auto& [node, doms] : libvirt_.nodes()) {
    for (const auto& [n, d] : doms)
      if (d.vm_uid == uid && d.state == DomainState::kRunning) return node;
  }
  return "";
}

std::vector<std::string> World::DumpState() const {
  std::vector<std::string> out;
  auto cond = [](const Json& o) {
    std::string c;
    for (const auto& x : o.value("status", Json::object()).value("conditions", Json::array()))
      c += " " + x.value("type", "") + "=" + x.value("status", "") + "/" + x.value("reason", "");
    return c;
  };
  for (const auto* rt : {&kube::resources::kVirtualMachines,
                         &kube::resources::kVirtualMachineMigrations}) {
    for (const Json& o : server_.All(*rt)) {
      const Json& md = o["metadata"];
      const Json st = o.value("status", Json::object());
      std::string owners;
      for (const auto& r : md.value("ownerReferences", Json::array()))
        owners += " owner=" + r.value("name", "");
      out.push_back(rt->kind + " " + md.value("name", "") + " uid=" + md.value("uid", "") +
                    " phase=" + st.value("phase", "") + " node=" + st.value("nodeName", "") +
                    " src=" + st.value("sourceNode", "") + " dst=" + st.value("targetNode", "") +
                    (md.contains("deletionTimestamp") ? " DELETING" : "") + " finalizers=" +
                    md.value("finalizers", Json::array()).dump() + owners + cond(o));
    }
  }
  for (const auto& [node, doms] : libvirt_.nodes()) {
    for (const auto& [name, d] : doms)
      out.push_back("domain " + node + "/" + name + " vm=" + d.vm_uid + " vmm=" + d.vmm_uid +
                    " " + DomainStateName(d.state));
  }
  return out;
}

int World::LeadingOperator() const {
  for (size_t i = 0; i < operators_.size(); ++i)
    if (operators_[i]->Leading()) return static_cast<int>(i);
  return -1;
}

}  // namespace ferry::sim

#include "cluster_driver.h"

#include <chrono>

#include "api/group.h"
#include "api/labels.h"
#include "api/time.h"

namespace ferry::op::testing {
namespace {

using kube::Json;
const kube::ResourceType kHv{"ferry.dev", "v1alpha1", "hypervisors", "Hypervisor", false};

std::string Now() { return api::FormatTime(std::chrono::system_clock::now()); }

std::string VmOf(const Json& vmm) {
  // The full name behind a hashed label (docs/adr/0006 §8).
  if (auto vm = api::FullLabelValue(vmm, api::kLabelVm)) return *vm;
  return vmm.value("spec", Json::object()).value("vmName", "");
}

}  // namespace

ClusterDriver::ClusterDriver(kube::ApiClient& api, std::string ns)
    : api_(api), ns_(std::move(ns)) {}

ClusterDriver::~ClusterDriver() { Stop(); }

void ClusterDriver::AddNode(const NodeSpec& s) {
  Json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata", {{"name", s.name}}},
               {"spec", Json::object()}};
  (void)api_.Create(kube::resources::kNodes, "", node);
  (void)api_.Patch(kube::resources::kNodes, "", s.name,
                   {{"status",
                     {{"conditions",
                       {{{"type", "Ready"},
                         {"status", "True"},
                         {"reason", "KubeletReady"},
                         {"lastHeartbeatTime", Now()},
                         {"lastTransitionTime", Now()}}}}}}},
                   kube::PatchType::kMerge, true);
  // Without a node controller nothing lifts the not-ready taint the API server puts on a new
  // Node (TaintNodesByCondition): the kubelet's part, played here.
  (void)api_.Patch(kube::resources::kNodes, "", s.name, {{"spec", {{"taints", nullptr}}}});
  Json hv = {{"apiVersion", "ferry.dev/v1alpha1"},
             {"kind", "Hypervisor"},
             {"metadata", {{"name", s.name}}},
             {"spec", Json::object()}};
  (void)api_.Create(kHv, "", hv);
  Json res = {{"cpus", s.cpus}, {"memory", s.memory}, {"dedicatedCpus", 0}};
  (void)api_.Patch(kHv, "", s.name,
                   {{"status",
                     {{"ready", true},
                      {"lastHeartbeatTime", Now()},
                      {"cpuModel", s.cpu_model},
                      {"libvirtVersion", "9.0.0"},
                      {"qemuVersion", "10.0.2"},
                      {"capacity", res},
                      {"allocatable", res},
                      {"migrationAddress", "127.0.0.1"}}}},
                   kube::PatchType::kMerge, true);
  std::lock_guard l(mu_);
  nodes_.insert(s.name);
}

void ClusterDriver::RemoveNodes() {
  std::set<std::string> nodes;
  {
    std::lock_guard l(mu_);
    nodes.swap(nodes_);
  }
  for (const auto& n : nodes) {
    (void)api_.Delete(kube::resources::kNodes, "", n);
    (void)api_.Delete(kHv, "", n);
  }
}

void ClusterDriver::Cordon(const std::string& node, bool cordoned) {
  (void)api_.Patch(kube::resources::kNodes, "", node, {{"spec", {{"unschedulable", cordoned}}}});
}

void ClusterDriver::SetHandlerAlive(const std::string& node, bool alive) {
  std::lock_guard l(mu_);
  if (alive) {
    dead_.erase(node);
  } else {
    dead_.insert(node);
  }
}

bool ClusterDriver::Handled(const std::string& node) {
  std::lock_guard l(mu_);
  return nodes_.count(node) > 0 && dead_.count(node) == 0;
}

void ClusterDriver::Start() {
  beat_ = std::jthread([this](std::stop_token st) { Beat(st); });
  loop_ = std::jthread([this](std::stop_token st) { Loop(st); });
}

void ClusterDriver::Stop() {
  for (std::jthread* t : {&loop_, &beat_}) {
    if (t->joinable()) {
      t->request_stop();
      t->join();
    }
  }
}

void ClusterDriver::Heartbeat(const std::string& node) {
  (void)api_.Patch(kHv, "", node, {{"status", {{"ready", true}, {"lastHeartbeatTime", Now()}}}},
                   kube::PatchType::kMerge, true);
}

void ClusterDriver::Beat(std::stop_token stop) {
  while (!stop.stop_requested()) {
    std::set<std::string> nodes;
    {
      std::lock_guard l(mu_);
      nodes = nodes_;
      for (const auto& d : dead_) nodes.erase(d);
    }
    for (const auto& n : nodes) Heartbeat(n);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

void ClusterDriver::Loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    Pass();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void ClusterDriver::Pass() {
  auto vmms = api_.List(kube::resources::kVirtualMachineMigrations, ns_, {});
  auto vms = api_.List(kube::resources::kVirtualMachines, ns_, {});
  if (!vmms.ok() || !vms.ok()) return;

  // Migrations. Target: Scheduled → PreparingTarget → TargetReady. Source: TargetReady →
  // Running → Succeeded, or Cancelled when the VMM is deleted from TargetReady on.
  for (Json m : vmms->items) {
    if (hold_) break;
    Json& st = m["status"];
    if (!st.is_object()) continue;
    const std::string phase = st.value("phase", "");
    const std::string src = st.value("sourceNode", "");
    const std::string dst = st.value("targetNode", "");
    const bool deleting = m["metadata"].contains("deletionTimestamp");
    std::string next;
    if ((phase == "Scheduled" || phase == "PreparingTarget") && Handled(dst)) {
      next = phase == "Scheduled" ? "PreparingTarget" : "TargetReady";
      if (next == "TargetReady") st["targetURI"] = "qemu+tcp://127.0.0.1/system";
    } else if ((phase == "TargetReady" || phase == "Running") && Handled(src)) {
      if (deleting) {
        next = "Cancelled";
        st["reason"] = "Cancelled";
        st["completionTime"] = Now();
      } else {
        next = phase == "TargetReady" ? "Running" : "Succeeded";
        if (next == "Running") st["startTime"] = Now();
        if (next == "Succeeded") st["completionTime"] = Now();
      }
    }
    if (next.empty()) continue;
    st["phase"] = next;
    st["phaseTransitionTime"] = Now();
    (void)api_.UpdateStatus(kube::resources::kVirtualMachineMigrations, m);
  }

  // VMs, by the handler of their node: Migrating while the source runs a migration of them
  // (nothing after a success: the operator flips the node, then the target writes Running),
  // Running once started or back from a migration, Stopped when spec.running is false.
  for (Json vm : vms->items) {
    const std::string name = vm["metadata"].value("name", "");
    const std::string node =
        vm["metadata"].value("labels", Json::object()).value("ferry.dev/node", "");
    if (node.empty() || !Handled(node)) continue;
    const Json status = vm.value("status", Json::object());
    if (status.value("nodeName", "") != node) continue;
    std::set<std::string> recorded;  // by uid (a reused name is another migration)
    for (const Json& r : status.value("migrationHistory", Json::array()))
      recorded.insert(r.value("migrationUID", r.value("migrationName", "")));
    bool migrating = false;
    bool succeeded_here = false;  // a success off this node the operator has not recorded yet
    for (const Json& m : vmms->items) {
      const Json mst = m.value("status", Json::object());
      if (VmOf(m) != name || mst.value("sourceNode", "") != node) continue;
      // A migration of an earlier VM of this name is not this VM's (docs/adr/0006 §1).
      const std::string vm_uid = mst.value("vmUID", "");
      if (!vm_uid.empty() && vm_uid != vm["metadata"].value("uid", "")) continue;
      const std::string p = mst.value("phase", "");
      migrating = migrating || p == "TargetReady" || p == "Running";
      succeeded_here =
          succeeded_here || (p == "Succeeded" && !recorded.count(m["metadata"].value("uid", "")));
    }
    const std::string phase = status.value("phase", "");
    const bool running = vm["spec"].value("running", false);
    std::string want = phase;
    if (!running) {
      want = "Stopped";
    } else if (migrating) {
      want = "Migrating";
    } else if (phase == "Migrating" && succeeded_here) {
      want = phase;  // the flip is the operator's; the target takes over after it
    } else if (phase == "" || phase == "Pending" || phase == "Scheduled" || phase == "Starting" ||
               phase == "Migrating" || phase == "Stopped") {
      want = "Running";
    }
    if (want == phase) continue;
    vm["status"]["phase"] = want;
    (void)api_.UpdateStatus(kube::resources::kVirtualMachines, vm);
  }
}

}  // namespace ferry::op::testing

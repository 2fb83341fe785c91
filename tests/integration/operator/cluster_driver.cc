#include "cluster_driver.h"

#include <chrono>

#include "api/time.h"

namespace ferry::op::testing {
namespace {

using kube::Json;
const kube::ResourceType kHv{"ferry.dev", "v1alpha1", "hypervisors", "Hypervisor", false};

std::string Now() { return api::FormatTime(std::chrono::system_clock::now()); }

}  // namespace

ClusterDriver::ClusterDriver(kube::ApiClient& api, std::string ns) : api_(api), ns_(std::move(ns)) {}

ClusterDriver::~ClusterDriver() { Stop(); }

void ClusterDriver::AddNode(const NodeSpec& s) {
  Json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", s.name}}}, {"spec", Json::object()}};
  (void)api_.Create(kube::resources::kNodes, "", node);
  (void)api_.Patch(kube::resources::kNodes, "", s.name,
                   {{"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}, {"reason", "KubeletReady"},
                                                  {"lastHeartbeatTime", Now()}, {"lastTransitionTime", Now()}}}}}}},
                   kube::PatchType::kMerge, true);
  // Without a node controller nothing lifts the not-ready taint the API server puts on a new
  // Node (TaintNodesByCondition): the kubelet's part, played here.
  (void)api_.Patch(kube::resources::kNodes, "", s.name, {{"spec", {{"taints", nullptr}}}});
  Json hv = {{"apiVersion", "ferry.dev/v1alpha1"}, {"kind", "Hypervisor"}, {"metadata", {{"name", s.name}}},
             {"spec", Json::object()}};
  (void)api_.Create(kHv, "", hv);
  Json res = {{"cpus", s.cpus}, {"memory", s.memory}, {"dedicatedCpus", 0}};
  (void)api_.Patch(kHv, "", s.name,
                   {{"status", {{"ready", true}, {"lastHeartbeatTime", Now()}, {"cpuModel", "Skylake-Server"},
                                {"libvirtVersion", "9.0.0"}, {"qemuVersion", "10.0.2"}, {"capacity", res},
                                {"allocatable", res}, {"migrationAddress", "127.0.0.1"}}}},
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
  thread_ = std::jthread([this](std::stop_token st) { Loop(st); });
}

void ClusterDriver::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void ClusterDriver::Heartbeat(const std::string& node) {
  (void)api_.Patch(kHv, "", node, {{"status", {{"ready", true}, {"lastHeartbeatTime", Now()}}}},
                   kube::PatchType::kMerge, true);
}

void ClusterDriver::Loop(std::stop_token stop) {
  auto last_beat = std::chrono::steady_clock::now() - std::chrono::hours(1);
  while (!stop.stop_requested()) {
    if (std::chrono::steady_clock::now() - last_beat >= std::chrono::seconds(1)) {
      last_beat = std::chrono::steady_clock::now();
      std::set<std::string> nodes;
      {
        std::lock_guard l(mu_);
        nodes = nodes_;
        for (const auto& d : dead_) nodes.erase(d);
      }
      for (const auto& n : nodes) Heartbeat(n);
    }
    PlayVms();
    PlayMigrations();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// The handler of a VM's node boots it (Running) or stops it (Stopped).
void ClusterDriver::PlayVms() {
  auto list = api_.List(kube::resources::kVirtualMachines, ns_, {});
  if (!list.ok()) return;
  for (Json vm : list->items) {
    const std::string node = vm["metadata"].value("labels", Json::object()).value("ferry.dev/node", "");
    if (node.empty() || !Handled(node)) continue;
    const Json status = vm.value("status", Json::object());
    if (status.value("nodeName", "") != node) continue;
    const std::string phase = status.value("phase", "");
    const bool running = vm["spec"].value("running", false);
    std::string want = phase;
    if (running && (phase == "" || phase == "Pending" || phase == "Scheduled" || phase == "Starting")) want = "Running";
    if (!running && phase != "Stopped") want = "Stopped";
    if (want == phase) continue;
    vm["status"]["phase"] = want;
    (void)api_.UpdateStatus(kube::resources::kVirtualMachines, vm);
  }
}

// Target: Scheduled → PreparingTarget → TargetReady. Source: TargetReady → Running → Succeeded.
void ClusterDriver::PlayMigrations() {
  if (hold_) return;
  auto list = api_.List(kube::resources::kVirtualMachineMigrations, ns_, {});
  if (!list.ok()) return;
  for (Json m : list->items) {
    Json& st = m["status"];
    if (!st.is_object()) continue;
    const std::string phase = st.value("phase", "");
    const std::string src = st.value("sourceNode", "");
    const std::string dst = st.value("targetNode", "");
    std::string next;
    if ((phase == "Scheduled" || phase == "PreparingTarget") && Handled(dst)) {
      next = phase == "Scheduled" ? "PreparingTarget" : "TargetReady";
      if (next == "TargetReady") st["targetURI"] = "qemu+tcp://127.0.0.1/system";
    } else if ((phase == "TargetReady" || phase == "Running") && Handled(src)) {
      next = phase == "TargetReady" ? "Running" : "Succeeded";
      if (next == "Succeeded") st["completionTime"] = Now();
    }
    if (next.empty()) continue;
    st["phase"] = next;
    st["phaseTransitionTime"] = Now();
    (void)api_.UpdateStatus(kube::resources::kVirtualMachineMigrations, m);
  }
}

}  // namespace ferry::op::testing

// What the operator's integration tests share: ferry-operator as a process of its own (one
// namespace, short deadlines), object builders, and a fixture with a namespace, a
// ClusterDriver playing the node side, and polling helpers over the real API server.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "../kube_env.h"
#include "cluster_driver.h"

namespace ferry::op::testing {

using kube::Json;
using kube::testing::Eventually;
using namespace std::chrono_literals;

// A free loopback TCP port (for the operator's /metrics).
inline int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Runs ferry-operator for one namespace with short deadlines: a heartbeat older than 4 s is a
// lost handler (the driver beats every 500 ms), heartbeats judged every 200 ms, waiting
// migrations and unschedulable VMs retried every 2 s.
class OperatorProcess {
 public:
  OperatorProcess(const std::string& ns, std::vector<std::string> extra) : port_(FreePort()) {
    const std::string bin = kube::testing::Env("FERRY_OPERATOR");
    std::vector<std::string> args = {bin,
                                     "--kubeconfig",
                                     kube::testing::Env("KUBECONFIG"),
                                     "--leader-elect=false",
                                     "--namespace",
                                     ns,
                                     "--ops-address",
                                     "127.0.0.1:" + std::to_string(port_),
                                     "--heartbeat-timeout",
                                     "4s",
                                     "--heartbeat-check-interval",
                                     "200ms",
                                     "--resync-interval",
                                     "2s",
                                     "--target-prepare-timeout",
                                     "30s"};
    args.insert(args.end(), extra.begin(), extra.end());
    // argv is built before fork: the test process has threads (the driver's), and a child
    // that allocates before execv can block forever on a malloc lock one of them held at the
    // fork (the operator then never started: no output, the test timed out waiting).
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
  }
  ~OperatorProcess() { Kill(SIGTERM); }
  void Kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  // The value of one sample line of /metrics ("name{labels}"), or -1.
  double Metric(const std::string& sample) const {
    const std::string cmd = "curl -sf http://127.0.0.1:" + std::to_string(port_) + "/metrics";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return -1;
    double value = -1;
    char line[4096];
    while (std::fgets(line, sizeof line, p) != nullptr) {
      const std::string l(line);
      if (l.rfind(sample + " ", 0) == 0) value = std::stod(l.substr(sample.size() + 1));
    }
    ::pclose(p);
    return value;
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

inline Json Vm(const std::string& ns, const std::string& name, int cpus, const std::string& mem,
               const std::string& group = "", const std::string& eviction = "") {
  Json vm = kube::testing::VirtualMachine(ns, name, cpus, mem);
  if (!group.empty()) vm["spec"]["serverGroup"] = group;
  if (!eviction.empty()) vm["spec"]["evictionStrategy"] = eviction;
  return vm;
}

inline Json Group(const std::string& ns, const std::string& name, const std::string& policy,
                  bool best_effort = false) {
  return {{"apiVersion", "ferry.dev/v1alpha1"},
          {"kind", "ServerGroup"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", {{"policy", policy}, {"bestEffort", best_effort}}}};
}

inline Json Vmm(const std::string& ns, const std::string& name, const std::string& vm,
                const std::string& target = "") {
  Json m = {{"apiVersion", "ferry.dev/v1alpha1"},
            {"kind", "VirtualMachineMigration"},
            {"metadata", {{"name", name}, {"namespace", ns}}},
            {"spec", {{"vmName", vm}}}};
  if (!target.empty()) m["spec"]["targetNode"] = target;
  return m;
}

inline Json ConditionOf(const Json& obj, const std::string& type) {
  for (const auto& c : obj.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return Json::object();
}

class OperatorIT : public ::testing::Test {
 protected:
  void SetUp() override {
    api_ = kube::testing::ClientFromEnv();
    ASSERT_NE(api_, nullptr);
    ns_ = kube::testing::CreateTestNamespace(*api_, "op");
    prefix_ = ns_.substr(ns_.size() - 6) + "-";
    driver_ = std::make_unique<ClusterDriver>(*api_, ns_);
  }
  void TearDown() override {
    if (HasFailure()) DumpMigrations();
    op_.reset();
    driver_->Stop();
    driver_->RemoveNodes();
    (void)api_->Delete(kube::resources::kNamespaces, "", ns_);
  }
  void StartOperator(std::vector<std::string> extra = {}) {
    op_ = std::make_unique<OperatorProcess>(ns_, extra);
  }
  std::string Node(int i) { return prefix_ + "n" + std::to_string(i); }
  Json Get(const kube::ResourceType& rt, const std::string& name) {
    auto o = api_->Get(rt, rt.namespaced ? ns_ : "", name);
    return o.ok() ? *o : Json::object();
  }
  Json GetVm(const std::string& name) { return Get(kube::resources::kVirtualMachines, name); }
  std::vector<Json> List(const kube::ResourceType& rt) {
    auto l = api_->List(rt, ns_, {});
    return l.ok() ? l->items : std::vector<Json>{};
  }
  std::string VmNode(const std::string& vm) {
    return GetVm(vm).value("status", Json::object()).value("nodeName", "");
  }
  std::string VmPhase(const std::string& vm) {
    return GetVm(vm).value("status", Json::object()).value("phase", "");
  }
  std::string Phase(const std::string& vmm) {
    return Get(kube::resources::kVirtualMachineMigrations, vmm)
        .value("status", Json::object())
        .value("phase", "");
  }
  bool WaitPhase(const std::string& vmm, const std::string& phase,
                 std::chrono::milliseconds t = 30s) {
    return Eventually([&] { return Phase(vmm) == phase; }, t);
  }
  void Create(const kube::ResourceType& rt, const Json& obj) {
    auto r = api_->Create(rt, ns_, obj);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  bool WaitRunning(const std::vector<std::string>& vms, std::chrono::milliseconds t = 30s) {
    return Eventually(
        [&] {
          for (const auto& v : vms) {
            if (VmPhase(v) != "Running") return false;
          }
          return true;
        },
        t);
  }
  // Events about `name` (any kind) in `ns`, by reason.
  std::vector<std::string> EventReasons(const std::string& ns, const std::string& name) {
    std::vector<std::string> out;
    auto l = api_->List(kube::resources::kEvents, ns, {});
    if (!l.ok()) return out;
    for (const auto& e : l->items) {
      if (e.value("involvedObject", Json::object()).value("name", "") == name)
        out.push_back(e.value("reason", ""));
    }
    return out;
  }
  static bool Has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }
  // On failure: what the VMMs and VMs said, for the log.
  void DumpMigrations() {
    for (const auto& m : List(kube::resources::kVirtualMachineMigrations)) {
      const Json st = m.value("status", Json::object());
      std::fprintf(stderr, "vmm %s: %s %s %s (%s -> %s)\n", m["metadata"].value("name", "").c_str(),
                   st.value("phase", "").c_str(), st.value("reason", "").c_str(),
                   st.value("message", "").c_str(), st.value("sourceNode", "").c_str(),
                   st.value("targetNode", "").c_str());
    }
    for (const auto& v : List(kube::resources::kVirtualMachines)) {
      const Json st = v.value("status", Json::object());
      std::fprintf(stderr, "vm %s: %s on %s\n", v["metadata"].value("name", "").c_str(),
                   st.value("phase", "").c_str(), st.value("nodeName", "").c_str());
    }
  }

  std::unique_ptr<kube::RestApiClient> api_;
  std::string ns_;
  std::string prefix_;
  std::unique_ptr<ClusterDriver> driver_;
  std::unique_ptr<OperatorProcess> op_;
};

}  // namespace ferry::op::testing

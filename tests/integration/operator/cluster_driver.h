// The node side of the protocol, played for the operator's integration tests: creates Nodes
// (Ready) and their Hypervisors, renews heartbeats, and plays the handlers — writing only
// what docs/adr/0004 lets a handler write: Hypervisor status, VM phase Running/Stopped for
// VMs on its nodes, and the target's (PreparingTarget, TargetReady + targetURI) and the
// source's (Running, Succeeded) VMM phases. Everything goes through the real API server.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "kube/api_client.h"

namespace ferry::op::testing {

struct NodeSpec {
  std::string name;
  int cpus = 4;
  std::string memory = "8Gi";
};

class ClusterDriver {
 public:
  ClusterDriver(kube::ApiClient& api, std::string ns);
  ~ClusterDriver();

  // Node (Ready) + Hypervisor (ready, heartbeat now).
  void AddNode(const NodeSpec& spec);
  // Deletes every node and hypervisor this driver created.
  void RemoveNodes();
  void Cordon(const std::string& node, bool cordoned);

  // Starts the handler loop (heartbeats every second, phases every 100 ms).
  void Start();
  void Stop();

  // Heartbeats of `node` stop (the handler died) or resume.
  void SetHandlerAlive(const std::string& node, bool alive);
  // The handlers leave migrations to/from these nodes alone (they stay where they are).
  void Hold(bool hold) { hold_ = hold; }

  kube::ApiClient& api() { return api_; }

 private:
  void Loop(std::stop_token stop);
  void Heartbeat(const std::string& node);
  void PlayVms();
  void PlayMigrations();
  bool Handled(const std::string& node);

  kube::ApiClient& api_;
  const std::string ns_;
  std::mutex mu_;
  std::set<std::string> nodes_;
  std::set<std::string> dead_;
  std::atomic<bool> hold_{false};
  std::jthread thread_;
};

}  // namespace ferry::op::testing

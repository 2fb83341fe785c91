// The node side of the protocol, played for the operator's integration tests (and, AddNode
// only, for its benchmark): creates Nodes (Ready) and their Hypervisors, renews heartbeats,
// and plays the handlers — writing only
// what docs/adr/0004 lets a handler write: Hypervisor status; for VMs on its nodes the phase
// (Running, Stopped, and Migrating on the source from TargetReady until the migration ends);
// and the target's (PreparingTarget, TargetReady + targetURI) and the source's (Running,
// Succeeded) VMM phases. Everything goes through the real API server, level-triggered: each
// pass lists the namespace's VMs and VMMs and writes what its rules say, with the
// resourceVersion read (a 409 is simply tried again on the next pass).
//
// Heartbeats have a thread of their own (every 500 ms), so a slow pass on a loaded machine
// never makes the operator see a handler as lost.
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
  std::string cpu_model = "Skylake-Server";
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

  // Starts the heartbeat thread (every 500 ms) and the handler loop (a pass every 50 ms).
  void Start();
  void Stop();

  // Heartbeats of `node` stop (the handler died) or resume.
  void SetHandlerAlive(const std::string& node, bool alive);
  // The handlers leave migrations alone (they stay in the phase they are in).
  void Hold(bool hold) { hold_ = hold; }

  kube::ApiClient& api() { return api_; }

 private:
  void Beat(std::stop_token stop);
  void Loop(std::stop_token stop);
  void Heartbeat(const std::string& node);
  void Pass();
  bool Handled(const std::string& node);

  kube::ApiClient& api_;
  const std::string ns_;
  std::mutex mu_;
  std::set<std::string> nodes_;
  std::set<std::string> dead_;
  std::atomic<bool> hold_{false};
  std::jthread beat_;
  std::jthread loop_;
};

}  // namespace ferry::op::testing

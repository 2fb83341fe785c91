// ClusterState and time (ADR 6 §4): handlers judged alive by the operator's own observation
// of their heartbeats (Observations), phase ages, the tick that detects pauses.
#include <cstdio>

#include "cluster/cluster_state.h"

namespace ferry::op {

void ClusterState::SetTickInterval(std::chrono::nanoseconds interval) {
  observations_.set_pause_threshold(
      std::chrono::duration_cast<Clock::Duration>(interval + std::chrono::seconds(2)));
}

bool ClusterState::Alive(const std::string& name, const api::Hypervisor& hv) const {
  if (!hv.status.ready || !hv.status.last_heartbeat_time) return false;
  if (judgement_ == HeartbeatJudgement::kHandlerWallClock)
    return clock_.WallNow() - *hv.status.last_heartbeat_time <= heartbeat_timeout_;
  // The operator's clock only: how long it has watched the value not change (ADR 6 §4).
  const std::optional<Clock::Duration> silence = observations_.HeartbeatSilence(name);
  return silence && *silence <= heartbeat_timeout_;
}

std::vector<std::string> ClusterState::RefreshHeartbeats() {
  std::lock_guard l(mu_);
  if (observations_.Tick()) {
    std::fprintf(stderr,
                 "ferry-operator: this process was paused (no tick for longer than its period): "
                 "heartbeats and phase ages are observed afresh from now\n");
  }
  std::vector<std::string> changed;
  std::vector<std::string> resync;
  for (auto& [name, e] : nodes_) {
    const bool alive = e.hv && Alive(name, *e.hv);
    if (alive != e.alive) {
      e.alive = alive;
      resync.push_back(name);
    }
    if (e.alive != e.reported_alive) {
      e.reported_alive = e.alive;
      changed.push_back(name);
    }
  }
  for (const std::string& name : resync) SyncNode(name);
  return changed;
}

std::optional<std::chrono::nanoseconds> ClusterState::HandlerSilence(
    const std::string& node) const {
  std::lock_guard l(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end() || !it->second.hv) return std::nullopt;
  auto silence = observations_.HeartbeatSilence(node);
  if (!silence) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(*silence);
}

std::chrono::nanoseconds ClusterState::ObservedPhaseAge(
    const api::VirtualMachineMigration& vmm) const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      observations_.PhaseAge(vmm.metadata.Key(), vmm.metadata.uid, vmm.status.phase));
}

}  // namespace ferry::op

#include "cluster/observations.h"

namespace ferry::op {

Observations::Observations(Clock& clock, Clock::Duration pause_threshold)
    : clock_(clock), pause_threshold_(pause_threshold), last_checkpoint_(clock.Now()) {}

void Observations::set_pause_threshold(Clock::Duration d) {
  std::lock_guard l(mu_);
  pause_threshold_ = d;
}

void Observations::set_stale_after(Clock::Duration d) {
  std::lock_guard l(mu_);
  stale_after_ = d;
}

Clock::TimePoint Observations::Checkpoint() {
  const Clock::TimePoint now = clock_.Now();
  if (now - last_checkpoint_ > pause_threshold_) {
    ++pauses_;
    for (auto& [node, h] : heartbeats_) {
      if (last_checkpoint_ - h.changed <= stale_after_) h.changed = now;
    }
    for (auto& [key, p] : phases_) p.since = now;
  }
  last_checkpoint_ = now;
  return now;
}

bool Observations::Tick() {
  std::lock_guard l(mu_);
  const uint64_t before = pauses_;
  Checkpoint();
  return pauses_ != before;
}

uint64_t Observations::pauses() const {
  std::lock_guard l(mu_);
  return pauses_;
}

void Observations::SeeHeartbeat(const std::string& node, std::optional<api::WallTime> value) {
  std::lock_guard l(mu_);
  const Clock::TimePoint now = Checkpoint();
  auto [it, added] = heartbeats_.try_emplace(node, Heartbeat{value, now});
  if (!added && it->second.value != value) it->second = {value, now};
}

void Observations::ForgetNode(const std::string& node) {
  std::lock_guard l(mu_);
  heartbeats_.erase(node);
}

std::optional<Clock::Duration> Observations::HeartbeatSilence(const std::string& node) {
  std::lock_guard l(mu_);
  const Clock::TimePoint now = Checkpoint();
  auto it = heartbeats_.find(node);
  if (it == heartbeats_.end()) return std::nullopt;
  return now - it->second.changed;
}

void Observations::SeePhase(const std::string& key, const std::string& uid,
                            api::MigrationPhase phase) {
  std::lock_guard l(mu_);
  TouchPhase(key, uid, phase, Checkpoint());
}

void Observations::ForgetMigration(const std::string& key) {
  std::lock_guard l(mu_);
  phases_.erase(key);
}

Clock::Duration Observations::PhaseAge(const std::string& key, const std::string& uid,
                                       api::MigrationPhase phase) {
  std::lock_guard l(mu_);
  const Clock::TimePoint now = Checkpoint();
  return now - TouchPhase(key, uid, phase, now).since;
}

Observations::Phase& Observations::TouchPhase(const std::string& key, const std::string& uid,
                                              api::MigrationPhase phase, Clock::TimePoint now) {
  auto [it, added] = phases_.try_emplace(key, Phase{uid, phase, now});
  if (!added && (it->second.uid != uid || it->second.phase != phase))
    it->second = {uid, phase, now};
  return it->second;
}

}  // namespace ferry::op

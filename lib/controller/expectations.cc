#include "controller/expectations.h"

#include <algorithm>

namespace ferry::controller {

Expectations::Expectations(Clock& clock, Clock::Duration ttl)
    : clock_(clock), ttl_(ttl > Clock::Duration::zero() ? ttl : kDefaultTtl) {}

void Expectations::SetExpectations(const std::string& key, int adds, int deletes) {
  std::lock_guard<std::mutex> l(mu_);
  records_[key] = Record{std::max(adds, 0), std::max(deletes, 0), clock_.Now()};
}

void Expectations::RaiseExpectations(const std::string& key, int adds, int deletes) {
  std::lock_guard<std::mutex> l(mu_);
  auto [it, inserted] = records_.try_emplace(key, Record{0, 0, clock_.Now()});
  it->second.adds += std::max(adds, 0);
  it->second.deletes += std::max(deletes, 0);
}

void Expectations::LowerExpectations(const std::string& key, int adds, int deletes) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return;
  // Never below zero: an event seen twice (e.g. after a relist) must not make a later
  // expectation look satisfied early.
  it->second.adds = std::max(it->second.adds - std::max(adds, 0), 0);
  it->second.deletes = std::max(it->second.deletes - std::max(deletes, 0), 0);
}

bool Expectations::SatisfiedExpectations(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return true;
  const Record& r = it->second;
  if (r.adds <= 0 && r.deletes <= 0) return true;
  return clock_.Now() - r.timestamp > ttl_;
}

void Expectations::DeleteExpectations(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  records_.erase(key);
}

std::optional<Expectations::Pending> Expectations::Get(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return std::nullopt;
  return Pending{it->second.adds, it->second.deletes};
}

}  // namespace ferry::controller

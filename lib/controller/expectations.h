// Controller expectations (Kubernetes pkg/controller/controller_utils.go, as used by KubeVirt
// pkg/controller/expectations.go): before a controller creates (or deletes) objects for a key
// it records how many it expects to see; the informer's event handlers lower the count as the
// objects appear in (or leave) the cache. While expectations are pending the cache is known to
// be stale for that key, so the reconciler must not act on it — otherwise a second create.
//
//   if (!expectations.SatisfiedExpectations(key)) return ReconcileResult::Done();  // wait
//   expectations.ExpectCreations(key, 1);                 // BEFORE the create call
//   if (!client.Create(...).ok()) expectations.CreationObserved(key);  // it will never appear
//
// An expectation older than the TTL is treated as satisfied, so a lost watch event delays the
// key by at most the TTL instead of wedging it. Thread-safe; time from the injected Clock.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace ferry::controller {

class Expectations {
 public:
  // Kubernetes' ExpectationsTimeout: long enough for any healthy watch to deliver the event,
  // short enough that a lost event only delays the key by minutes.
  static constexpr Clock::Duration kDefaultTtl = std::chrono::minutes(5);

  explicit Expectations(Clock& clock, Clock::Duration ttl = kDefaultTtl);

  // Replaces any expectation of `key` with `adds` creations / `deletes` deletions (counts
  // below zero are treated as zero), timestamped now.
  void SetExpectations(const std::string& key, int adds, int deletes);
  void ExpectCreations(const std::string& key, int adds) { SetExpectations(key, adds, 0); }
  void ExpectDeletions(const std::string& key, int deletes) { SetExpectations(key, 0, deletes); }
  // Adds to the pending counts (creating the record if none), keeping the timestamp.
  void RaiseExpectations(const std::string& key, int adds, int deletes);
  // Subtracts from the pending counts; a key without a record is ignored.
  void LowerExpectations(const std::string& key, int adds, int deletes);
  void CreationObserved(const std::string& key) { LowerExpectations(key, 1, 0); }
  void DeletionObserved(const std::string& key) { LowerExpectations(key, 0, 1); }

  // True when the controller may act on `key`: no record, all expected events observed,
  // or the record is older than the TTL.
  bool SatisfiedExpectations(const std::string& key) const;
  // Drops the record of `key` (e.g. when the owning object is deleted).
  void DeleteExpectations(const std::string& key);

  struct Pending {
    int adds = 0;
    int deletes = 0;
  };
  // The pending counts of `key`, if it has a record.
  std::optional<Pending> Get(const std::string& key) const;

 private:
  struct Record {
    int adds = 0;
    int deletes = 0;
    Clock::TimePoint timestamp;
  };

  Clock& clock_;
  const Clock::Duration ttl_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Record> records_;
};

}  // namespace ferry::controller

// EventRecorder: writes core/v1 Events about objects, off the caller's thread (a reconcile
// never waits for an Event), aggregating repeats of the same (object, type, reason, message)
// within kAggregationWindow into one Event with a growing count, as client-go does.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "kube/api_client.h"

namespace ferry::kube {

enum class EventType { kNormal, kWarning };

struct EventRecorderStats {
  uint64_t created = 0;
  uint64_t aggregated = 0;  // repeats folded into an existing Event (count patched)
  uint64_t dropped = 0;     // queue full, write failed, or still queued at destruction
  uint64_t throttled = 0;   // writes answered 429 / Retry-After and tried again after waiting
};

class EventRecorder {
 public:
  // Repeats inside this window patch the existing Event instead of creating another.
  static constexpr std::chrono::minutes kAggregationWindow{10};
  // Bound on queued events; beyond it new events are dropped (and counted), never blocking.
  static constexpr size_t kMaxQueued = 1000;
  // A write the server throttles is tried again this many times, waiting its Retry-After
  // (at most kMaxRetryAfter each).
  static constexpr int kThrottleRetries = 3;
  static constexpr std::chrono::seconds kMaxRetryAfter{10};

  EventRecorder(ApiClient& api, std::string component, std::string host, Clock& clock = RealClock::Get());
  // Drops what is still queued (counted) and waits only for the write in flight.
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Records an event about `object` (any Kubernetes object as JSON). Never blocks on I/O.
  void Record(const Json& object, EventType type, const std::string& reason, const std::string& message);
  // Waits until every event recorded so far has been written (or dropped).
  void Flush();
  EventRecorderStats stats() const;

  // The core/v1 Event body for a first occurrence (exposed for tests).
  Json BuildEvent(const Json& object, EventType type, const std::string& reason, const std::string& message,
                  Clock::WallTime now) const;

 private:
  struct Pending {
    Json object;
    EventType type;
    std::string reason;
    std::string message;
    Clock::WallTime at;
  };
  struct Seen {
    std::string ns;
    std::string name;
    int64_t count = 0;
    Clock::WallTime last;
  };
  void Loop(std::stop_token stop);
  void Write(const Pending& p, std::stop_token stop);
  Status WithRetryAfter(std::stop_token stop, const std::function<Status()>& write);

  ApiClient& api_;
  std::string component_;
  std::string host_;
  Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Pending> queue_;
  size_t in_flight_ = 0;
  EventRecorderStats stats_;
  std::map<std::string, Seen> seen_;  // aggregation key -> existing Event
  std::jthread worker_;
};

}  // namespace ferry::kube

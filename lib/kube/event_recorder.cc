#include "kube/event_recorder.h"

#include <algorithm>
#include <cstdio>

#include "api/time.h"

namespace ferry::kube {
namespace {

std::string Meta(const Json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  return m->value(field, "");
}

std::string AggregationKey(const Json& obj, EventType type, const std::string& reason, const std::string& message) {
  return Meta(obj, "uid") + "|" + Meta(obj, "namespace") + "|" + Meta(obj, "name") + "|" +
         (type == EventType::kWarning ? "W" : "N") + "|" + reason + "|" + message;
}

}  // namespace

EventRecorder::EventRecorder(ApiClient& api, std::string component, std::string host, Clock& clock)
    : api_(api), component_(std::move(component)), host_(std::move(host)), clock_(clock) {
  worker_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
}

EventRecorder::~EventRecorder() {
  // Events still queued are dropped (counted): a process that stops must not wait for a
  // slow or unreachable API server to take them one by one. At most the write in flight
  // finishes (bounded by the client's request timeout).
  {
    std::lock_guard<std::mutex> l(mu_);
    stats_.dropped += queue_.size();
    queue_.clear();
  }
  worker_.request_stop();
  cv_.notify_all();
}

void EventRecorder::Record(const Json& object, EventType type, const std::string& reason, const std::string& message) {
  std::lock_guard<std::mutex> l(mu_);
  if (queue_.size() >= kMaxQueued) {
    ++stats_.dropped;
    return;
  }
  queue_.push_back({object, type, reason, message, clock_.WallNow()});
  cv_.notify_all();
}

void EventRecorder::Flush() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return queue_.empty() && in_flight_ == 0; });
}

EventRecorderStats EventRecorder::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

Json EventRecorder::BuildEvent(const Json& object, EventType type, const std::string& reason,
                               const std::string& message, Clock::WallTime now) const {
  const std::string obj_ns = Meta(object, "namespace");
  const std::string ns = obj_ns.empty() ? "default" : obj_ns;  // cluster-scoped objects
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(nanos));
  Json ref = {{"kind", object.value("kind", "")},
              {"apiVersion", object.value("apiVersion", "")},
              {"name", Meta(object, "name")}};
  if (!obj_ns.empty()) ref["namespace"] = obj_ns;
  if (const auto uid = Meta(object, "uid"); !uid.empty()) ref["uid"] = uid;
  if (const auto rv = Meta(object, "resourceVersion"); !rv.empty()) ref["resourceVersion"] = rv;
  const std::string ts = api::FormatTime(now);
  return Json{{"apiVersion", "v1"},
              {"kind", "Event"},
              {"metadata", {{"name", Meta(object, "name") + suffix}, {"namespace", ns}}},
              {"involvedObject", ref},
              {"reason", reason},
              {"message", message},
              {"type", type == EventType::kWarning ? "Warning" : "Normal"},
              {"source", {{"component", component_}, {"host", host_}}},
              {"reportingComponent", component_},
              {"reportingInstance", host_},
              {"firstTimestamp", ts},
              {"lastTimestamp", ts},
              {"count", 1}};
}

Status EventRecorder::WithRetryAfter(std::stop_token stop, const std::function<Status()>& write) {
  for (int attempt = 0;; ++attempt) {
    Status st = write();
    // The server asked us to come back later (429, or 503 with Retry-After): wait as long as
    // it asked before the next try instead of dropping the event at once.
    const bool throttled = st.code() == StatusCode::kTooManyRequests || st.retry_after().has_value();
    if (st.ok() || !throttled || attempt >= kThrottleRetries || stop.stop_requested()) return st;
    {
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.throttled;
    }
    const auto wait = std::min<std::chrono::seconds>(st.retry_after().value_or(std::chrono::seconds(1)),
                                                     kMaxRetryAfter);
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, stop, wait, [] { return false; });
  }
}

void EventRecorder::Write(const Pending& p, std::stop_token stop) {
  const std::string key = AggregationKey(p.object, p.type, p.reason, p.message);
  Seen seen;
  bool have_seen = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = seen_.find(key);
    if (it != seen_.end() && p.at - it->second.last < kAggregationWindow) {
      seen = it->second;
      have_seen = true;
    }
  }
  if (have_seen) {
    Json patch = {{"count", seen.count + 1}, {"lastTimestamp", api::FormatTime(p.at)}};
    auto r = WithRetryAfter(stop, [&] {
      return api_.Patch(resources::kEvents, seen.ns, seen.name, patch, PatchType::kMerge, false).status();
    });
    if (r.ok()) {
      std::lock_guard<std::mutex> l(mu_);
      auto& s = seen_[key];
      s.count = seen.count + 1;
      s.last = p.at;
      ++stats_.aggregated;
      return;
    }
    if (r.code() != StatusCode::kNotFound) {
      // The count patch failed for another reason (the Event may even have been updated):
      // creating a second Event for the same occurrence would duplicate it. Drop it.
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.dropped;
      return;
    }
    // The Event was deleted or expired (TTL): create a new one.
  }
  Json ev = BuildEvent(p.object, p.type, p.reason, p.message, p.at);
  const std::string ns = ev["metadata"]["namespace"];
  auto r = WithRetryAfter(stop, [&] { return api_.Create(resources::kEvents, ns, ev).status(); });
  std::lock_guard<std::mutex> l(mu_);
  if (!r.ok()) {
    ++stats_.dropped;
    return;
  }
  ++stats_.created;
  // Bound the aggregation map: forget entries older than the window.
  if (seen_.size() > 4 * kMaxQueued) {
    for (auto it = seen_.begin(); it != seen_.end();) {
      it = p.at - it->second.last >= kAggregationWindow ? seen_.erase(it) : std::next(it);
    }
  }
  seen_[key] = Seen{ns, ev["metadata"]["name"], 1, p.at};
}

void EventRecorder::Loop(std::stop_token stop) {
  for (;;) {
    Pending p;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, stop, [this] { return !queue_.empty(); });
      if (queue_.empty()) return;  // stopped
      p = std::move(queue_.front());
      queue_.pop_front();
      ++in_flight_;
    }
    Write(p, stop);
    std::lock_guard<std::mutex> l(mu_);
    --in_flight_;
    cv_.notify_all();
  }
}

}  // namespace ferry::kube

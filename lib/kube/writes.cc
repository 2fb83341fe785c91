#include "kube/writes.h"

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

namespace ferry::kube {
namespace {

std::string Meta(const Json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : "";
}

const Json* Finalizers(const Json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return nullptr;
  auto f = m->find("finalizers");
  return f != m->end() && f->is_array() ? &*f : nullptr;
}

const Json* Conditions(const Json& obj) {
  auto s = obj.find("status");
  if (s == obj.end() || !s->is_object()) return nullptr;
  auto c = s->find("conditions");
  return c != s->end() && c->is_array() ? &*c : nullptr;
}

// The condition entry SetCondition would store, given the previous entry (or null).
Json ConditionEntry(const Condition& c, const Json* prev, const std::string& now) {
  Json e = {{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message}};
  std::string transition = now;
  if (prev != nullptr && prev->value("status", "") == c.status) {
    transition = prev->value("lastTransitionTime", now);
  }
  e["lastTransitionTime"] = transition;
  if (c.observed_generation) e["observedGeneration"] = *c.observed_generation;
  return e;
}

void SleepOrStop(std::chrono::milliseconds d, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock<std::mutex> l(mu);
  cv.wait_for(l, stop, d, [] { return false; });
}

}  // namespace

Status RetryOnConflict(const std::function<Status()>& fn, std::stop_token stop, RetryOptions opts) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  Status st;
  const int attempts = opts.attempts < 1 ? 1 : opts.attempts;
  for (int i = 0; i < attempts; ++i) {
    if (stop.stop_requested()) return CancelledError("stopped before the write");
    st = fn();
    if (st.code() != StatusCode::kConflict || i + 1 == attempts) return st;
    const double factor = 1.0 + opts.jitter * std::uniform_real_distribution<double>(0, 1)(rng);
    SleepOrStop(std::chrono::milliseconds(static_cast<int64_t>(opts.delay.count() * factor)), stop);
  }
  return st;
}

JsonPatch& JsonPatch::Test(const std::string& path, Json value) {
  ops_.push_back({{"op", "test"}, {"path", path}, {"value", std::move(value)}});
  return *this;
}
JsonPatch& JsonPatch::Add(const std::string& path, Json value) {
  ops_.push_back({{"op", "add"}, {"path", path}, {"value", std::move(value)}});
  ++edits_;
  return *this;
}
JsonPatch& JsonPatch::Replace(const std::string& path, Json value) {
  ops_.push_back({{"op", "replace"}, {"path", path}, {"value", std::move(value)}});
  ++edits_;
  return *this;
}
JsonPatch& JsonPatch::Remove(const std::string& path) {
  ops_.push_back({{"op", "remove"}, {"path", path}});
  ++edits_;
  return *this;
}

JsonPatch JsonPatch::Against(const Json& obj) {
  JsonPatch p;
  // "replace" (not "test"): the server then checks the version like a PUT's and answers 409
  // Conflict on a mismatch, where a failed "test" would be a 422 indistinguishable from a
  // malformed patch.
  p.ops_.push_back({{"op", "replace"},
                    {"path", "/metadata/resourceVersion"},
                    {"value", Meta(obj, "resourceVersion")}});
  return p;
}

std::string JsonPointerEscape(const std::string& segment) {
  std::string out;
  for (char c : segment) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool HasFinalizer(const Json& obj, const std::string& finalizer) {
  const Json* f = Finalizers(obj);
  if (f == nullptr) return false;
  for (const auto& v : *f) {
    if (v.is_string() && v.get<std::string>() == finalizer) return true;
  }
  return false;
}

JsonPatch AddFinalizerPatch(const Json& obj, const std::string& finalizer) {
  JsonPatch p = JsonPatch::Against(obj);
  if (HasFinalizer(obj, finalizer)) return p;
  const Json* f = Finalizers(obj);
  if (f == nullptr) {
    p.Add("/metadata/finalizers", Json::array({finalizer}));
  } else {
    p.Test("/metadata/finalizers", *f).Add("/metadata/finalizers/-", finalizer);
  }
  return p;
}

JsonPatch RemoveFinalizerPatch(const Json& obj, const std::string& finalizer) {
  JsonPatch p = JsonPatch::Against(obj);
  const Json* f = Finalizers(obj);
  if (f == nullptr) return p;
  bool first = true;
  for (size_t i = f->size(); i-- > 0;) {
    const Json& v = (*f)[i];
    if (!v.is_string() || v.get<std::string>() != finalizer) continue;
    if (first) p.Test("/metadata/finalizers", *f);
    first = false;
    p.Remove("/metadata/finalizers/" + std::to_string(i));
  }
  return p;
}

std::optional<Json> FindCondition(const Json& obj, const std::string& type) {
  const Json* cs = Conditions(obj);
  if (cs == nullptr) return std::nullopt;
  for (const auto& c : *cs) {
    if (c.is_object() && c.value("type", "") == type) return c;
  }
  return std::nullopt;
}

bool SetCondition(Json& obj, const Condition& c, const std::string& now) {
  if (!obj.contains("status") || !obj["status"].is_object()) obj["status"] = Json::object();
  Json& status = obj["status"];
  if (!status.contains("conditions") || !status["conditions"].is_array()) {
    status["conditions"] = Json::array();
  }
  Json& cs = status["conditions"];
  for (auto& e : cs) {
    if (!e.is_object() || e.value("type", "") != c.type) continue;
    Json next = ConditionEntry(c, &e, now);
    if (next == e) return false;
    e = std::move(next);
    return true;
  }
  cs.push_back(ConditionEntry(c, nullptr, now));
  return true;
}

JsonPatch SetConditionPatch(const Json& obj, const Condition& c, const std::string& now) {
  JsonPatch p = JsonPatch::Against(obj);
  const Json* cs = Conditions(obj);
  if (cs == nullptr) {
    if (!obj.contains("status") || !obj["status"].is_object()) {
      p.Add("/status", Json{{"conditions", Json::array({ConditionEntry(c, nullptr, now)})}});
    } else {
      p.Add("/status/conditions", Json::array({ConditionEntry(c, nullptr, now)}));
    }
    return p;
  }
  for (size_t i = 0; i < cs->size(); ++i) {
    const Json& e = (*cs)[i];
    if (!e.is_object() || e.value("type", "") != c.type) continue;
    Json next = ConditionEntry(c, &e, now);
    if (next == e) return p;
    const std::string at = "/status/conditions/" + std::to_string(i);
    p.Test(at + "/type", c.type).Replace(at, std::move(next));
    return p;
  }
  p.Test("/status/conditions", *cs).Add("/status/conditions/-", ConditionEntry(c, nullptr, now));
  return p;
}

namespace {

StatusOr<Json> Mutate(ApiClient& api, const ResourceType& rt, const std::string& ns,
                      const std::string& name, const std::function<bool(Json&)>& mutate,
                      bool status, std::stop_token stop, RetryOptions opts) {
  Json result;
  Status st = RetryOnConflict(
      [&]() -> Status {
        auto cur = api.Get(rt, ns, name);
        if (!cur.ok()) return cur.status();
        Json obj = std::move(*cur);
        if (!mutate(obj)) {
          result = std::move(obj);
          return OkStatus();
        }
        if (stop.stop_requested()) return CancelledError("stopped before the write");
        auto w = status ? api.UpdateStatus(rt, obj) : api.Update(rt, obj);
        if (!w.ok()) return w.status();
        result = std::move(*w);
        return OkStatus();
      },
      stop, opts);
  if (!st.ok()) return st;
  return result;
}

}  // namespace

StatusOr<Json> MutateObject(ApiClient& api, const ResourceType& rt, const std::string& ns,
                            const std::string& name, const std::function<bool(Json&)>& mutate,
                            std::stop_token stop, RetryOptions opts) {
  return Mutate(api, rt, ns, name, mutate, false, std::move(stop), opts);
}

StatusOr<Json> MutateStatus(ApiClient& api, const ResourceType& rt, const std::string& ns,
                            const std::string& name, const std::function<bool(Json&)>& mutate,
                            std::stop_token stop, RetryOptions opts) {
  return Mutate(api, rt, ns, name, mutate, true, std::move(stop), opts);
}

StatusOr<Json> PatchWithRetry(ApiClient& api, const ResourceType& rt, const std::string& ns,
                              const std::string& name,
                              const std::function<JsonPatch(const Json&)>& make_patch,
                              bool status_subresource, std::stop_token stop, RetryOptions opts) {
  Json result;
  Status st = RetryOnConflict(
      [&]() -> Status {
        auto cur = api.Get(rt, ns, name);
        if (!cur.ok()) return cur.status();
        JsonPatch p = make_patch(*cur);
        if (p.edits() == 0) {
          result = std::move(*cur);
          return OkStatus();
        }
        if (stop.stop_requested()) return CancelledError("stopped before the write");
        auto w = api.Patch(rt, ns, name, p.ops(), PatchType::kJson, status_subresource);
        if (!w.ok()) {
          // The server applies the operations before it compares resourceVersions, so an
          // index or a Test that no longer fits a changed object fails as 422: if the object
          // did change, that is a conflict (re-read and retry), not an invalid patch.
          if (w.status().code() == StatusCode::kInvalid) {
            auto now = api.Get(rt, ns, name);
            if (now.ok() && Meta(*now, "resourceVersion") != Meta(*cur, "resourceVersion")) {
              return ConflictError(w.status().message());
            }
          }
          return w.status();
        }
        result = std::move(*w);
        return OkStatus();
      },
      stop, opts);
  if (!st.ok()) return st;
  return result;
}

StatusOr<Json> MergePatchIfUnchanged(ApiClient& api, const ResourceType& rt, const std::string& ns,
                                     const std::string& name, const std::string& resource_version,
                                     Json patch, bool status_subresource) {
  if (resource_version.empty())
    return InvalidError("merge patch precondition: empty resourceVersion");
  if (!patch.is_object()) return InvalidError("merge patch must be a JSON object");
  patch["metadata"]["resourceVersion"] = resource_version;
  return api.Patch(rt, ns, name, patch, PatchType::kMerge, status_subresource);
}

StatusOr<Json> AddFinalizer(ApiClient& api, const ResourceType& rt, const std::string& ns,
                            const std::string& name, const std::string& finalizer,
                            std::stop_token stop) {
  return PatchWithRetry(
      api, rt, ns, name, [&](const Json& o) { return AddFinalizerPatch(o, finalizer); }, false,
      std::move(stop));
}

StatusOr<Json> RemoveFinalizer(ApiClient& api, const ResourceType& rt, const std::string& ns,
                               const std::string& name, const std::string& finalizer,
                               std::stop_token stop) {
  return PatchWithRetry(
      api, rt, ns, name, [&](const Json& o) { return RemoveFinalizerPatch(o, finalizer); }, false,
      std::move(stop));
}

StatusOr<Json> PatchCondition(ApiClient& api, const ResourceType& rt, const std::string& ns,
                              const std::string& name, const Condition& c, const std::string& now,
                              std::stop_token stop) {
  return PatchWithRetry(
      api, rt, ns, name, [&](const Json& o) { return SetConditionPatch(o, c, now); }, true,
      std::move(stop));
}

}  // namespace ferry::kube

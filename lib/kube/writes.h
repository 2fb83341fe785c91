// Safe writes for controllers: optimistic concurrency and list edits that never erase another
// writer's entries.
//
// The rule everywhere: a write carries the resourceVersion it was computed from, so the API
// server rejects it with 409 (kConflict) when anyone changed the object meanwhile; the caller
// re-reads and recomputes (RetryOnConflict). A JSON patch that edits a list by index
// (finalizers, conditions) is only correct against the exact list it was computed from, so
// every JsonPatch built here starts with that precondition. A blind merge patch of a list
// would replace the whole list and drop what another writer added: never do that.
//
//   auto vm = kube::MutateStatus(api, kube::resources::kVirtualMachines, ns, name,
//       [&](Json& obj) { return kube::SetCondition(obj, cond); }, stop);
//   kube::AddFinalizer(api, kube::resources::kVirtualMachineMigrations, ns, name,
//       "ferry.dev/migration", stop);
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/status.h"
#include "kube/api_client.h"

namespace ferry::kube {

// client-go's retry.DefaultRetry: 5 attempts, 10 ms apart (+ up to 10 % jitter).
struct RetryOptions {
  int attempts = 5;
  std::chrono::milliseconds delay{10};
  double jitter = 0.1;
};

// Calls fn until it returns anything but kConflict, at most opts.attempts times (sleeping
// opts.delay between attempts, returning early with kCancelled when `stop` is requested).
// fn must re-read the object it writes on every call. Returns fn's last result.
Status RetryOnConflict(const std::function<Status()>& fn, std::stop_token stop = {},
                       RetryOptions opts = {});

// A JSON patch (RFC 6902) under construction.
class JsonPatch {
 public:
  JsonPatch& Test(const std::string& path, Json value);
  JsonPatch& Add(const std::string& path, Json value);
  JsonPatch& Replace(const std::string& path, Json value);
  JsonPatch& Remove(const std::string& path);
  bool empty() const { return ops_.empty(); }
  // Operations other than the preconditions (Test, resourceVersion).
  size_t edits() const { return edits_; }
  const Json& ops() const { return ops_; }

  // A patch that only applies to `obj` exactly as read: it sets metadata.resourceVersion to
  // obj's, which the API server compares with the stored one (409 on a mismatch).
  static JsonPatch Against(const Json& obj);

 private:
  Json ops_ = Json::array();
  size_t edits_ = 0;
};

// RFC 6901 escaping of one path segment ("a/b" -> "a~1b").
std::string JsonPointerEscape(const std::string& segment);

// --- list edits as patches (pure: object in, patch out; empty edits() = nothing to do)

// Appends `finalizer` unless present.
JsonPatch AddFinalizerPatch(const Json& obj, const std::string& finalizer);
// Removes every occurrence of `finalizer` (by index, highest first).
JsonPatch RemoveFinalizerPatch(const Json& obj, const std::string& finalizer);
bool HasFinalizer(const Json& obj, const std::string& finalizer);

// A status condition (metav1.Condition shape: type, status, reason, message,
// lastTransitionTime, observedGeneration).
struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  std::optional<int64_t> observed_generation;
};
// Sets the condition of that type in obj.status.conditions (in place): lastTransitionTime
// changes only when status changes (now = RFC 3339 UTC). Returns true if anything changed.
bool SetCondition(Json& obj, const Condition& c, const std::string& now);
// The condition of `type`, if any.
std::optional<Json> FindCondition(const Json& obj, const std::string& type);
// The patch that turns obj's status.conditions into what SetCondition would make: replaces
// one entry by index (with a Test of that entry's type) or appends.
JsonPatch SetConditionPatch(const Json& obj, const Condition& c, const std::string& now);

// --- read-modify-write against the API server (each: Get, compute, write with the read
// resourceVersion; on 409 again, up to RetryOptions; returns the object as written, or as
// read when there was nothing to change)

// mutate edits the object in place and returns true when it changed something; the result
// is written with PUT (Update). Other writers' changes are never lost: a stale PUT is a 409.
StatusOr<Json> MutateObject(ApiClient& api, const ResourceType& rt, const std::string& ns,
                            const std::string& name, const std::function<bool(Json&)>& mutate,
                            std::stop_token stop = {}, RetryOptions opts = {});
// The same for the status subresource (PUT .../status). Write only what changed.
StatusOr<Json> MutateStatus(ApiClient& api, const ResourceType& rt, const std::string& ns,
                            const std::string& name, const std::function<bool(Json&)>& mutate,
                            std::stop_token stop = {}, RetryOptions opts = {});
// Applies make_patch(current object) as a JSON patch with the resourceVersion precondition.
StatusOr<Json> PatchWithRetry(ApiClient& api, const ResourceType& rt, const std::string& ns,
                              const std::string& name,
                              const std::function<JsonPatch(const Json&)>& make_patch,
                              bool status_subresource = false, std::stop_token stop = {},
                              RetryOptions opts = {});
// Merge patch that applies only if the object's resourceVersion is still `resource_version`
// (metadata.resourceVersion in the patch body; 409 otherwise).
StatusOr<Json> MergePatchIfUnchanged(ApiClient& api, const ResourceType& rt, const std::string& ns,
                                     const std::string& name, const std::string& resource_version,
                                     Json patch, bool status_subresource = false);

StatusOr<Json> AddFinalizer(ApiClient& api, const ResourceType& rt, const std::string& ns,
                            const std::string& name, const std::string& finalizer,
                            std::stop_token stop = {});
// NotFound counts as done (the object is gone): returns kNotFound for the caller to ignore.
StatusOr<Json> RemoveFinalizer(ApiClient& api, const ResourceType& rt, const std::string& ns,
                               const std::string& name, const std::string& finalizer,
                               std::stop_token stop = {});
// Sets one status condition (status subresource), keeping every other condition.
StatusOr<Json> PatchCondition(ApiClient& api, const ResourceType& rt, const std::string& ns,
                              const std::string& name, const Condition& c, const std::string& now,
                              std::stop_token stop = {});

}  // namespace ferry::kube

// Private to ferry_sim_api: the in-memory API server's state and the helpers its parts share
// (sim_api_server.cc: the verbs; sim_api_list.cc: lists; sim_api_watch_gc.cc: watches,
// compaction, garbage collection; sim_api_validation.cc: object-metadata validation and the
// API server's error shapes).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim_api_server.h"

namespace ferry::sim::internal {

// ---- errors, shaped as RestApiClient reports the real server's (code, HTTP status, reason) ----
// `gr` is the group-resource ("virtualmachines.ferry.dev", "nodes"); `gk` the group-kind.
std::string GroupResource(const kube::ResourceType& rt);
std::string GroupKind(const kube::ResourceType& rt);
Status ApiError(StatusCode code, int http, const char* reason, std::string message);
Status NotFound(const kube::ResourceType& rt, const std::string& name);
Status NoSuchResource();  // 404 for a resource or subresource that is not served
Status AlreadyExists(const kube::ResourceType& rt, const std::string& name);
Status Conflict(const kube::ResourceType& rt, const std::string& name, const std::string& why);
Status StaleObject(const kube::ResourceType& rt, const std::string& name);  // the PUT 409
Status BadRequest(std::string message);                                     // 400
Status Invalid(const kube::ResourceType& rt, const std::string& name,
               std::vector<StatusCause> causes);  // 422 with causes

// ---- validation (k8s.io/apimachinery/pkg/util/validation and ValidateObjectMeta) ----
bool IsDns1123Label(const std::string& s);
bool IsDns1123Subdomain(const std::string& s);
bool IsQualifiedName(const std::string& s);
bool IsLabelValue(const std::string& s);
// The causes of a 422 for obj.metadata: name (when check_name; a DNS label when
// name_is_label, else a DNS subdomain), labels, annotations, finalizers, ownerReferences.
std::vector<StatusCause> ValidateObjectMeta(const Json& obj, bool check_name, bool name_is_label);

// ---- object accessors ----
std::string MetaString(const Json& obj, const char* field);
std::vector<std::string> Finalizers(const Json& obj);
bool HasFinalizer(const Json& obj, const std::string& f);
void SetFinalizers(Json& obj, const std::vector<std::string>& f);
bool BeingDeleted(const Json& obj);

inline constexpr const char* kOrphanFinalizer = "orphan";
inline constexpr const char* kForegroundFinalizer = "foregroundDeletion";

// Built-in API groups (core, *.k8s.io, apps, ...) follow their own strategies; everything else
// is a custom resource served from a CRD (generation, no unconditional update, kind required).
bool IsCustomResource(const kube::ResourceType& rt);

// Storage key as etcd orders it: "ns/name" (namespaced) or "name" (cluster-scoped).
std::string StorageKey(const kube::ResourceType& rt, const std::string& ns,
                       const std::string& name);

struct Resource {
  kube::ResourceType rt;
  bool status_subresource = false;
  std::map<std::string, Json> objects;  // by StorageKey
};

}  // namespace ferry::sim::internal

namespace ferry::sim {

struct SimApiServer::Impl {
  explicit Impl(Clock& c) : clock(c) {}

  Clock& clock;
  std::map<std::string, internal::Resource> resources;  // by ResourceType::resource
  std::vector<Change> log;
  int64_t rv = 0;
  int64_t compacted = 0;
  uint64_t uids = 0;
  uint64_t generated_names = 0;

  StatusOr<internal::Resource*> Find(const kube::ResourceType& rt);
  const internal::Resource* FindConst(const std::string& resource) const;
  std::string Now() const;

  // PUT of the object (status = false) or of its status subresource, after the URL's
  // namespace/name were resolved; Patch ends here too.
  StatusOr<Json> Put(internal::Resource& r, const std::string& ns, const std::string& name,
                     Json obj, bool status);
  // The store's write of a prepared update: nothing when identical (etcd skips it), removal
  // when it leaves a deleting object without finalizers, else a kModified change.
  Json CommitUpdate(internal::Resource& r, const std::string& key, Json next);
  // Removes the object: a kDeleted change carrying its last state at the deletion's rv.
  Json Remove(internal::Resource& r, const std::string& key);
  Status DeleteObject(internal::Resource& r, const std::string& key,
                      const kube::DeleteOptions& opts);
  // The objects of `r` as they were at `at` (for paged lists), from the change log.
  std::map<std::string, Json> StateAt(const internal::Resource& r, int64_t at) const;

  // ---- garbage collector (sim_api_watch_gc.cc) ----
  enum class OwnerState { kSolid, kDangling, kWaiting, kUnknown };
  struct ObjectRef {
    std::string resource;
    std::string key;
  };
  OwnerState ClassifyOwner(const std::string& dependent_ns, const Json& ref) const;
  std::vector<ObjectRef> Dependents(const internal::Resource& owner_r, const Json& owner) const;
  void RemoveOwnerRefs(const ObjectRef& item, const std::vector<std::string>& uids);
  void RemoveFinalizer(const ObjectRef& item, const std::string& finalizer);
  void GcOrphan(const ObjectRef& item);
  void GcAttemptToDelete(const ObjectRef& item);
  void GcDeletingDependents(const ObjectRef& item);
  Json* Lookup(const ObjectRef& item);
};

}  // namespace ferry::sim

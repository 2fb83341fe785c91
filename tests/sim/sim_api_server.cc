// SimApiServer's verbs: get, create, update, update status, patch, delete — with the
// generic registry's semantics (k8s.io/apiserver/pkg/registry/generic/registry/store.go, the
// custom-resource strategy, etcd3's store) as far as Ferry's protocol can observe them.
#include <algorithm>

#include "api/time.h"
#include "sim_api_internal.h"

namespace ferry::sim {

using internal::Resource;

namespace {

// apiVersion/kind of a request body: a custom resource's decoder requires both (400 when
// missing or different); built-in endpoints default them from the URL.
Status CheckKind(const kube::ResourceType& rt, Json& obj) {
  const bool custom = internal::IsCustomResource(rt);
  for (const auto& [field, want] :
       {std::pair<const char*, std::string>{"apiVersion", rt.ApiVersion()}, {"kind", rt.kind}}) {
    if (!obj.contains(field) || !obj[field].is_string() || obj[field].get<std::string>().empty()) {
      if (custom) return internal::BadRequest(std::string("Object '") + field + "' is missing");
      obj[field] = want;
    } else if (obj[field] != want) {
      return internal::BadRequest(std::string("the ") + field + " in the data (" +
                                  obj[field].get<std::string>() + ") does not match the expected " +
                                  field + " (" + want + ")");
    }
  }
  return OkStatus();
}

// A 5-character suffix from the alphabet of k8s.io/apimachinery/pkg/util/rand.String, drawn
// from a counter instead of randomness.
std::string NameSuffix(uint64_t n) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (int i = 0; i < 5; ++i) {
    out.push_back(kAlphabet[n % 27]);
    n /= 27;
  }
  return out;
}

bool HasStatusOnCreate(const kube::ResourceType& rt) {
  // Nodes may set status on create (nodeStrategy); CRDs with a status subresource drop it.
  return rt.group.empty() && rt.resource == "nodes";
}

bool HasGeneration(const kube::ResourceType& rt) {
  return internal::IsCustomResource(rt) || rt.resource == "customresourcedefinitions";
}

}  // namespace

// ---- Impl ----

StatusOr<Resource*> SimApiServer::Impl::Find(const kube::ResourceType& rt) {
  auto it = resources.find(rt.resource);
  if (it == resources.end()) return internal::NoSuchResource();
  return &it->second;
}

const Resource* SimApiServer::Impl::FindConst(const std::string& resource) const {
  auto it = resources.find(resource);
  return it == resources.end() ? nullptr : &it->second;
}

std::string SimApiServer::Impl::Now() const { return api::FormatTime(clock.WallNow()); }

Json SimApiServer::Impl::CommitUpdate(Resource& r, const std::string& key, Json next) {
  Json& stored = r.objects.at(key);
  next["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"];
  if (next == stored) return stored;  // etcd3's GuaranteedUpdate skips an identical write
  if (internal::BeingDeleted(next) && internal::Finalizers(next).empty()) {
    // shouldDeleteDuringUpdate: the update is not written; the stored object is deleted (its
    // DELETED event carries the stored state) and the caller gets the object it sent, at the
    // resourceVersion it was based on.
    Remove(r, key);
    return next;
  }
  ++rv;
  next["metadata"]["resourceVersion"] = std::to_string(rv);
  log.push_back(Change{rv, r.rt.resource, kube::WatchEvent::Type::kModified, next, stored});
  stored = next;
  return next;
}

Json SimApiServer::Impl::Remove(Resource& r, const std::string& key) {
  auto it = r.objects.find(key);
  Json last = it->second;
  ++rv;
  // etcd3 and the watch cache send the last state with the deletion's revision.
  last["metadata"]["resourceVersion"] = std::to_string(rv);
  log.push_back(Change{rv, r.rt.resource, kube::WatchEvent::Type::kDeleted, last, it->second});
  r.objects.erase(it);
  return last;
}

StatusOr<Json> SimApiServer::Impl::Put(Resource& r, const std::string& ns, const std::string& name,
                                       Json obj, bool status) {
  if (status && !r.status_subresource) return internal::NoSuchResource();
  const std::string key = internal::StorageKey(r.rt, ns, name);
  auto it = r.objects.find(key);
  if (it == r.objects.end()) return internal::NotFound(r.rt, name);
  const Json& old = it->second;
  if (!obj.is_object()) return internal::BadRequest("the body must be a JSON object");
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = Json::object();
  if (internal::MetaString(obj, "name") != name) {
    return internal::BadRequest("the name of the object (" + internal::MetaString(obj, "name") +
                                ") does not match the name on the URL (" + name + ")");
  }
  // The optimistic lock: an update must name the stored version. Core types (Nodes,
  // ConfigMaps, Events, Namespaces) take a missing one as "the latest"; custom resources and
  // Leases refuse it (checked against kube-apiserver 1.20.2).
  const std::string stored_rv = internal::MetaString(old, "resourceVersion");
  const std::string want_rv = internal::MetaString(obj, "resourceVersion");
  if (want_rv.empty()) {
    if (!r.rt.group.empty()) {
      return internal::Invalid(r.rt, name,
                               {{"FieldValueInvalid", "metadata.resourceVersion",
                                 "Invalid value: 0x0: must be specified for an update"}});
    }
  } else if (want_rv != stored_rv) {
    return internal::StaleObject(r.rt, name);
  }

  // Copies `field` of `from` into `to` (or removes it from `to` when `from` has none).
  auto keep = [](Json& to, const Json& from, const char* field) {
    if (from.contains(field)) {
      to[field] = from[field];
    } else {
      to.erase(field);
    }
  };
  Json next;
  if (status && internal::IsCustomResource(r.rt)) {
    // The custom-resource status strategy: everything but status comes from the stored object.
    next = old;
    keep(next, obj, "status");
  } else {
    // A PUT of the object keeps the stored status; a built-in status strategy (Nodes) keeps
    // the stored spec and takes metadata like a PUT of the object.
    next = std::move(obj);
    FERRY_RETURN_IF_ERROR(CheckKind(r.rt, next));
    if (status) {
      keep(next, old, "spec");
    } else if (r.status_subresource) {
      keep(next, old, "status");
    }
    Json& m = next["metadata"];
    const Json& om = old["metadata"];
    if (r.rt.namespaced) {
      if (!internal::MetaString(next, "namespace").empty() && m["namespace"] != ns) {
        return internal::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the "
            "request");
      }
      m["namespace"] = ns;
    } else {
      m.erase("namespace");
    }
    std::vector<StatusCause> causes;
    const std::string uid = internal::MetaString(next, "uid");
    if (!uid.empty() && uid != om["uid"]) {
      causes.push_back({"FieldValueInvalid", "metadata.uid",
                        "Invalid value: \"" + uid + "\": field is immutable"});
    }
    m["uid"] = om["uid"];
    m["creationTimestamp"] = om["creationTimestamp"];
    for (const char* f : {"deletionTimestamp", "generation"}) {
      if (om.contains(f)) {
        m[f] = om[f];
      } else {
        m.erase(f);
      }
    }
    if (om.contains("deletionGracePeriodSeconds")) {
      if (m.contains("deletionGracePeriodSeconds") &&
          m["deletionGracePeriodSeconds"] != om["deletionGracePeriodSeconds"]) {
        causes.push_back({"FieldValueInvalid", "metadata.deletionGracePeriodSeconds",
                          "field is immutable; may only be changed via deletion"});
      }
      m["deletionGracePeriodSeconds"] = om["deletionGracePeriodSeconds"];
    } else if (m.contains("deletionGracePeriodSeconds")) {
      causes.push_back({"FieldValueInvalid", "metadata.deletionGracePeriodSeconds",
                        "field is immutable; may only be changed via deletion"});
    }
    auto more = internal::ValidateObjectMeta(next, false, false);
    causes.insert(causes.end(), more.begin(), more.end());
    if (internal::BeingDeleted(old)) {
      std::vector<std::string> added;
      for (const auto& f : internal::Finalizers(next)) {
        if (!internal::HasFinalizer(old, f)) added.push_back("\"" + f + "\"");
      }
      if (!added.empty()) {
        std::string list;
        for (const auto& a : added) list += (list.empty() ? "" : ", ") + a;
        causes.push_back({"FieldValueForbidden", "metadata.finalizers",
                          "Forbidden: no new finalizers can be added if the object is being "
                          "deleted, found new finalizers []string{" +
                              list + "}"});
      }
    }
    if (!causes.empty()) return internal::Invalid(r.rt, name, std::move(causes));
    if (HasGeneration(r.rt)) {
      // The custom-resource strategy: any change outside metadata (and status, when it is a
      // subresource) is a new generation.
      Json a = next, b = old;
      for (Json* j : {&a, &b}) {
        j->erase("metadata");
        if (r.status_subresource) j->erase("status");
      }
      if (a != b) m["generation"] = om.value("generation", int64_t{0}) + 1;
    }
  }
  return CommitUpdate(r, key, std::move(next));
}

Status SimApiServer::Impl::DeleteObject(Resource& r, const std::string& key,
                                        const kube::DeleteOptions& opts) {
  auto it = r.objects.find(key);
  const Json& old = it->second;
  const std::string name = internal::MetaString(old, "name");
  const std::string uid = internal::MetaString(old, "uid");
  const std::string orv = internal::MetaString(old, "resourceVersion");
  if (opts.precondition_uid && *opts.precondition_uid != uid) {
    return internal::Conflict(r.rt, name,
                              "Precondition failed: UID in precondition: " +
                                  *opts.precondition_uid + ", UID in object meta: " + uid);
  }
  if (opts.precondition_resource_version && *opts.precondition_resource_version != orv) {
    return internal::Conflict(r.rt, name,
                              "Precondition failed: ResourceVersion in precondition: " +
                                  *opts.precondition_resource_version +
                                  ", ResourceVersion in object meta: " + orv);
  }
  const std::string& policy = opts.propagation_policy;
  if (!policy.empty() && policy != "Foreground" && policy != "Background" && policy != "Orphan") {
    return internal::Invalid(r.rt, name,
                             {{"FieldValueNotSupported", "propagationPolicy",
                               "Unsupported value: \"" + policy +
                                   "\": supported values: \"Foreground\", \"Background\", "
                                   "\"Orphan\", \"nil\""}});
  }
  // deletionFinalizersForGarbageCollection: an explicit policy replaces the orphan and
  // foregroundDeletion finalizers; without one they stay as they are.
  std::vector<std::string> finalizers = internal::Finalizers(old);
  if (!policy.empty()) {
    std::vector<std::string> kept;
    for (const auto& f : finalizers) {
      if (f != internal::kOrphanFinalizer && f != internal::kForegroundFinalizer) kept.push_back(f);
    }
    if (policy == "Orphan") kept.push_back(internal::kOrphanFinalizer);
    if (policy == "Foreground") kept.push_back(internal::kForegroundFinalizer);
    std::vector<std::string> a = finalizers, b = kept;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b) finalizers = kept;
  }
  if (finalizers.empty()) {
    Remove(r, key);
    return OkStatus();
  }
  Json next = old;
  internal::SetFinalizers(next, finalizers);
  Json& m = next["metadata"];
  if (!internal::BeingDeleted(old)) {
    // markAsDeleting: a resource without graceful deletion gets a new generation once.
    if (m.contains("generation") && m["generation"].get<int64_t>() > 0) {
      m["generation"] = m["generation"].get<int64_t>() + 1;
    }
    m["deletionTimestamp"] = Now();
  }
  m["deletionGracePeriodSeconds"] = 0;
  CommitUpdate(r, key, std::move(next));
  return OkStatus();
}

// ---- SimApiServer ----

SimApiServer::SimApiServer(Clock& clock) : impl_(std::make_shared<Impl>(clock)) {}

void SimApiServer::Register(const kube::ResourceType& rt, bool status_subresource) {
  auto& r = impl_->resources[rt.resource];
  r.rt = rt;
  r.status_subresource = status_subresource;
}

StatusOr<Json> SimApiServer::Get(const kube::ResourceType& rt, const std::string& ns,
                                 const std::string& name) {
  auto r = impl_->Find(rt);
  if (!r.ok()) return r.status();
  if (rt.namespaced && ns.empty()) return internal::NotFound(rt, name);
  auto it = (*r)->objects.find(internal::StorageKey(rt, ns, name));
  if (it == (*r)->objects.end()) return internal::NotFound(rt, name);
  return it->second;
}

StatusOr<Json> SimApiServer::Create(const kube::ResourceType& rt, const std::string& ns_arg,
                                    const Json& in) {
  auto found = impl_->Find(rt);
  if (!found.ok()) return found.status();
  Resource& r = **found;
  if (!in.is_object()) return internal::BadRequest("the body must be a JSON object");
  Json obj = in;
  FERRY_RETURN_IF_ERROR(CheckKind(rt, obj));
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = Json::object();
  Json& m = obj["metadata"];
  std::string ns;
  if (rt.namespaced) {
    const std::string obj_ns = internal::MetaString(obj, "namespace");
    if (!ns_arg.empty() && !obj_ns.empty() && obj_ns != ns_arg) {
      return internal::BadRequest(
          "the namespace of the provided object does not match the namespace sent on the "
          "request");
    }
    ns = ns_arg.empty() ? obj_ns : ns_arg;
    if (ns.empty()) return internal::BadRequest("a namespaced object needs a namespace");
    m["namespace"] = ns;
  } else {
    m.erase("namespace");
  }
  if (!internal::MetaString(obj, "resourceVersion").empty()) {
    // etcd3's store refuses it: a 500, which RestApiClient reports as kUnavailable.
    return internal::ApiError(StatusCode::kUnavailable, 500, "InternalError",
                              "resourceVersion should not be set on objects to be created");
  }
  const std::string generate = internal::MetaString(obj, "generateName");
  if (internal::MetaString(obj, "name").empty() && !generate.empty()) {
    m["name"] = generate.substr(0, 58) + NameSuffix(impl_->generated_names++);
  }
  for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "generation", "selfLink", "managedFields"}) {
    m.erase(f);
  }
  if (r.status_subresource && !HasStatusOnCreate(rt)) obj.erase("status");
  auto causes = internal::ValidateObjectMeta(obj, true, rt.resource == "namespaces");
  const std::string name = internal::MetaString(obj, "name");
  if (!causes.empty()) return internal::Invalid(rt, name, std::move(causes));
  const std::string key = internal::StorageKey(rt, ns, name);
  if (r.objects.count(key)) return internal::AlreadyExists(rt, name);

  m["uid"] = "uid-" + std::to_string(++impl_->uids);
  m["creationTimestamp"] = impl_->Now();
  if (HasGeneration(rt)) m["generation"] = 1;
  m["resourceVersion"] = std::to_string(++impl_->rv);
  impl_->log.push_back(Change{impl_->rv, rt.resource, kube::WatchEvent::Type::kAdded, obj, Json()});
  r.objects[key] = obj;
  return obj;
}

StatusOr<Json> SimApiServer::Update(const kube::ResourceType& rt, const Json& obj) {
  auto r = impl_->Find(rt);
  if (!r.ok()) return r.status();
  return impl_->Put(**r, rt.namespaced ? internal::MetaString(obj, "namespace") : "",
                    internal::MetaString(obj, "name"), obj, false);
}

StatusOr<Json> SimApiServer::UpdateStatus(const kube::ResourceType& rt, const Json& obj) {
  auto r = impl_->Find(rt);
  if (!r.ok()) return r.status();
  return impl_->Put(**r, rt.namespaced ? internal::MetaString(obj, "namespace") : "",
                    internal::MetaString(obj, "name"), obj, true);
}

StatusOr<Json> SimApiServer::Patch(const kube::ResourceType& rt, const std::string& ns,
                                   const std::string& name, const Json& patch, kube::PatchType type,
                                   bool status_subresource) {
  auto found = impl_->Find(rt);
  if (!found.ok()) return found.status();
  Resource& r = **found;
  if (status_subresource && !r.status_subresource) return internal::NoSuchResource();
  const std::string the_ns = rt.namespaced ? ns : "";
  auto it = r.objects.find(internal::StorageKey(rt, the_ns, name));
  if (it == r.objects.end()) return internal::NotFound(rt, name);
  Json patched = it->second;
  if (type == kube::PatchType::kStrategicMerge && internal::IsCustomResource(rt)) {
    return internal::ApiError(StatusCode::kUnknown, 415, "UnsupportedMediaType",
                              "the body of the request was in an unknown format - accepted "
                              "media types include: application/json-patch+json, "
                              "application/merge-patch+json, application/apply-patch+yaml");
  }
  if (type == kube::PatchType::kJson) {
    if (!patch.is_array()) return internal::BadRequest("a JSON patch must be a list of operations");
    try {
      patched = patched.patch(patch);
    } catch (const Json::exception& e) {
      // A failed "test", a missing path: the patch cannot be applied (422).
      return internal::ApiError(StatusCode::kInvalid, 422, "Invalid", e.what());
    }
  } else {
    // RFC 7386 (and, for built-in types, strategic merge taken as a merge: Ferry patches
    // only maps of those).
    if (!patch.is_object()) return internal::BadRequest("a merge patch must be a JSON object");
    patched.merge_patch(patch);
  }
  // The patched object goes through the update path: a resourceVersion the patch set that
  // differs from the stored one is a 409, as for a PUT.
  return impl_->Put(r, the_ns, name, std::move(patched), status_subresource);
}

Status SimApiServer::Delete(const kube::ResourceType& rt, const std::string& ns,
                            const std::string& name, const kube::DeleteOptions& opts) {
  auto found = impl_->Find(rt);
  if (!found.ok()) return found.status();
  const std::string key = internal::StorageKey(rt, rt.namespaced ? ns : "", name);
  if (!(*found)->objects.count(key)) return internal::NotFound(rt, name);
  return impl_->DeleteObject(**found, key, opts);
}

std::vector<Json> SimApiServer::All(const kube::ResourceType& rt) const {
  std::vector<Json> out;
  if (const Resource* r = impl_->FindConst(rt.resource)) {
    for (const auto& [key, o] : r->objects) out.push_back(o);
  }
  return out;
}

const std::vector<Change>& SimApiServer::log() const { return impl_->log; }
int64_t SimApiServer::current_rv() const { return impl_->rv; }
int64_t SimApiServer::compacted_rv() const { return impl_->compacted; }

}  // namespace ferry::sim

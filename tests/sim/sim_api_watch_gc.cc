// SimApiServer's watches (from the change log, with the watch cache's transitions for
// selected watches), compaction, the garbage collector as one step (kube-controller-manager's
// garbagecollector.go: attemptToDeleteItem, processDeletingDependentsItem, orphanDependents),
// and SimClient, one process's connection with its faults.
#include <algorithm>

#include "kube/selector.h"
#include "sim_api_internal.h"

namespace ferry::sim {

using internal::Resource;
using Type = kube::WatchEvent::Type;

// ---- watches ----

StatusOr<std::vector<kube::WatchEvent>> SimApiServer::WatchEventsSince(
    const kube::ResourceType& rt, const std::string& ns, const std::string& label_selector,
    int64_t after_rv, size_t max) const {
  if (!impl_->FindConst(rt.resource)) return internal::NoSuchResource();
  if (after_rv < impl_->compacted) {
    return internal::ApiError(StatusCode::kGone, 410, "Expired",
                              "too old resource version: " + std::to_string(after_rv) + " (" +
                                  std::to_string(impl_->compacted) + ")");
  }
  auto selector = kube::LabelSelector::Parse(label_selector);
  if (!selector.ok()) return internal::BadRequest(selector.status().message());
  auto matches = [&](const Json& o) {
    if (rt.namespaced && !ns.empty() && internal::MetaString(o, "namespace") != ns) return false;
    return selector->Matches(o);
  };
  std::vector<kube::WatchEvent> out;
  const auto& log = impl_->log;
  auto it = std::upper_bound(log.begin(), log.end(), after_rv,
                             [](int64_t v, const Change& c) { return v < c.rv; });
  for (; it != log.end() && (max == 0 || out.size() < max); ++it) {
    const Change& c = *it;
    if (c.resource != rt.resource) continue;
    // cacheWatcher.convertToWatchEvent: the event as this watch's filter sees it.
    const bool now = c.type != Type::kDeleted && matches(c.object);
    const bool before = c.type != Type::kAdded && matches(c.previous);
    if (now && before) {
      out.push_back({Type::kModified, c.object});
    } else if (now) {
      out.push_back({Type::kAdded, c.object});
    } else if (before) {
      // The previous content with the event's resourceVersion (also when the object only
      // stopped matching: the watcher forgets it).
      Json gone = c.previous;
      gone["metadata"]["resourceVersion"] = std::to_string(c.rv);
      out.push_back({Type::kDeleted, std::move(gone)});
    }
  }
  return out;
}

void SimApiServer::Compact(int64_t rv) {
  rv = std::min(rv, impl_->rv);
  if (rv <= impl_->compacted) return;
  impl_->compacted = rv;
  auto& log = impl_->log;
  log.erase(log.begin(), std::upper_bound(log.begin(), log.end(), rv,
                                          [](int64_t v, const Change& c) { return v < c.rv; }));
}

// ---- garbage collection ----

Json* SimApiServer::Impl::Lookup(const ObjectRef& item) {
  auto r = resources.find(item.resource);
  if (r == resources.end()) return nullptr;
  auto it = r->second.objects.find(item.key);
  return it == r->second.objects.end() ? nullptr : &it->second;
}

SimApiServer::Impl::OwnerState SimApiServer::Impl::ClassifyOwner(const std::string& dependent_ns,
                                                                 const Json& ref) const {
  const std::string api_version = ref.value("apiVersion", "");
  const std::string group = api_version.find('/') == std::string::npos
                                ? ""
                                : api_version.substr(0, api_version.find('/'));
  const std::string kind = ref.value("kind", "");
  for (const auto& [name, r] : resources) {
    if (r.rt.kind != kind || r.rt.group != group) continue;
    // A namespaced owner is looked up in its dependent's namespace.
    auto it = r.objects.find(
        internal::StorageKey(r.rt, r.rt.namespaced ? dependent_ns : "", ref.value("name", "")));
    if (it == r.objects.end() || internal::MetaString(it->second, "uid") != ref.value("uid", "")) {
      return OwnerState::kDangling;
    }
    if (internal::BeingDeleted(it->second) &&
        internal::HasFinalizer(it->second, internal::kForegroundFinalizer)) {
      return OwnerState::kWaiting;
    }
    return OwnerState::kSolid;
  }
  return OwnerState::kUnknown;  // the REST mapping fails: the real GC retries forever
}

std::vector<SimApiServer::Impl::ObjectRef> SimApiServer::Impl::Dependents(const Resource& owner_r,
                                                                          const Json& owner) const {
  std::vector<ObjectRef> out;
  const std::string uid = internal::MetaString(owner, "uid");
  const std::string ns = internal::MetaString(owner, "namespace");
  for (const auto& [name, r] : resources) {
    for (const auto& [key, o] : r.objects) {
      if (owner_r.rt.namespaced && internal::MetaString(o, "namespace") != ns) continue;
      const Json& m = o["metadata"];
      if (!m.contains("ownerReferences") || !m["ownerReferences"].is_array()) continue;
      for (const auto& ref : m["ownerReferences"]) {
        if (ref.is_object() && ref.value("uid", "") == uid) {
          out.push_back({name, key});
          break;
        }
      }
    }
  }
  return out;
}

void SimApiServer::Impl::RemoveOwnerRefs(const ObjectRef& item,
                                         const std::vector<std::string>& uids) {
  Json* o = Lookup(item);
  if (!o) return;
  Json next = *o;
  Json refs = Json::array();
  for (const auto& ref : (*o)["metadata"]["ownerReferences"]) {
    if (std::find(uids.begin(), uids.end(), ref.value("uid", "")) == uids.end()) {
      refs.push_back(ref);
    }
  }
  if (refs.empty()) {
    next["metadata"].erase("ownerReferences");
  } else {
    next["metadata"]["ownerReferences"] = refs;
  }
  CommitUpdate(resources.at(item.resource), item.key, std::move(next));
}

void SimApiServer::Impl::RemoveFinalizer(const ObjectRef& item, const std::string& finalizer) {
  Json* o = Lookup(item);
  if (!o) return;
  Json next = *o;
  auto f = internal::Finalizers(next);
  f.erase(std::remove(f.begin(), f.end(), finalizer), f.end());
  internal::SetFinalizers(next, f);
  CommitUpdate(resources.at(item.resource), item.key, std::move(next));
}

// attemptToOrphanWorker: an owner deleted with propagationPolicy Orphan loses its dependents'
// references to it, then its "orphan" finalizer.
void SimApiServer::Impl::GcOrphan(const ObjectRef& item) {
  Json* o = Lookup(item);
  if (!o || !internal::BeingDeleted(*o) || !internal::HasFinalizer(*o, internal::kOrphanFinalizer))
    return;
  const std::string uid = internal::MetaString(*o, "uid");
  for (const auto& dep : Dependents(resources.at(item.resource), *o)) {
    RemoveOwnerRefs(dep, {uid});
  }
  RemoveFinalizer(item, internal::kOrphanFinalizer);
}

// processDeletingDependentsItem: an owner deleted in the foreground has its dependents
// deleted, and loses its foregroundDeletion finalizer once no dependent that blocks it
// (blockOwnerDeletion: true) exists any more — dependents held by their own finalizers block.
void SimApiServer::Impl::GcDeletingDependents(const ObjectRef& item) {
  Json* o = Lookup(item);
  if (!o) return;
  const Json owner = *o;
  const std::string uid = internal::MetaString(owner, "uid");
  const Resource& owner_r = resources.at(item.resource);
  for (const auto& dep : Dependents(owner_r, owner)) {
    Json* d = Lookup(dep);
    if (d && !internal::BeingDeleted(*d)) GcAttemptToDelete(dep);
  }
  for (const auto& dep : Dependents(owner_r, owner)) {
    for (const auto& ref : (*Lookup(dep))["metadata"]["ownerReferences"]) {
      if (ref.value("uid", "") == uid && ref.value("blockOwnerDeletion", false)) return;
    }
  }
  RemoveFinalizer(item, internal::kForegroundFinalizer);
}

// attemptToDeleteItem.
void SimApiServer::Impl::GcAttemptToDelete(const ObjectRef& item) {
  Json* o = Lookup(item);
  if (!o) return;
  const bool deleting_dependents =
      internal::BeingDeleted(*o) && internal::HasFinalizer(*o, internal::kForegroundFinalizer);
  if (internal::BeingDeleted(*o) && !deleting_dependents) return;  // a one-way trip already
  if (deleting_dependents) {
    GcDeletingDependents(item);
    return;
  }
  const Json& m = (*o)["metadata"];
  if (!m.contains("ownerReferences") || !m["ownerReferences"].is_array() ||
      m["ownerReferences"].empty()) {
    return;
  }
  const std::string ns = internal::MetaString(*o, "namespace");
  std::vector<std::string> dangling_or_waiting;
  bool solid = false, waiting = false;
  for (const auto& ref : m["ownerReferences"]) {
    switch (ClassifyOwner(ns, ref)) {
      case OwnerState::kUnknown:
        return;
      case OwnerState::kSolid:
        solid = true;
        break;
      case OwnerState::kWaiting:
        waiting = true;
        dangling_or_waiting.push_back(ref.value("uid", ""));
        break;
      case OwnerState::kDangling:
        dangling_or_waiting.push_back(ref.value("uid", ""));
        break;
    }
  }
  Resource& r = resources.at(item.resource);
  if (solid) {
    // Still owned: only the references to gone or foreground-deleting owners go.
    if (!dangling_or_waiting.empty()) RemoveOwnerRefs(item, dangling_or_waiting);
    return;
  }
  kube::DeleteOptions opts;
  opts.precondition_uid = internal::MetaString(*o, "uid");
  if (waiting && !Dependents(r, *o).empty()) {
    opts.propagation_policy = "Foreground";
  } else if (internal::HasFinalizer(*o, internal::kOrphanFinalizer)) {
    opts.propagation_policy = "Orphan";
  } else if (internal::HasFinalizer(*o, internal::kForegroundFinalizer)) {
    opts.propagation_policy = "Foreground";
  } else {
    opts.propagation_policy = "Background";
  }
  (void)DeleteObject(r, item.key, opts);
}

bool SimApiServer::CollectGarbage() {
  const int64_t before = impl_->rv;
  std::vector<Impl::ObjectRef> items;
  for (const auto& [name, r] : impl_->resources) {
    for (const auto& [key, o] : r.objects) items.push_back({name, key});
  }
  for (const auto& item : items) {
    impl_->GcOrphan(item);
    impl_->GcAttemptToDelete(item);
  }
  return impl_->rv != before;
}

// ---- SimClient ----

namespace {

Status Unreachable(const std::string& client, const char* verb, const kube::ResourceType& rt) {
  return UnavailableError(client + ": " + verb + " " + rt.resource +
                          ": connection refused (simulated partition)");
}

// The call was served; the caller hears a transport error instead of the answer.
template <typename R>
R Finish(Fault fault, bool write, R result, uint64_t& lost, const std::string& client,
         const char* verb, const kube::ResourceType& rt) {
  if (fault != Fault::kLoseResponse) return result;
  if (write && result.ok()) ++lost;
  return UnavailableError(client + ": " + verb + " " + rt.resource +
                          ": response lost (connection reset)");
}

}  // namespace

SimClient::SimClient(SimApiServer& server, std::string name, FaultPolicy faults)
    : server_(server), name_(std::move(name)), faults_(std::move(faults)) {}

Fault SimClient::Decide(const char* verb, const kube::ResourceType& rt, bool write) {
  ++calls_;
  if (!faults_) return Fault::kNone;
  return faults_(CallInfo{name_, verb, rt.resource, write});
}

StatusOr<Json> SimClient::Get(const kube::ResourceType& rt, const std::string& ns,
                              const std::string& name) {
  const Fault f = Decide("get", rt, false);
  if (f == Fault::kUnavailable) return Unreachable(name_, "get", rt);
  return Finish(f, false, server_.Get(rt, ns, name), lost_, name_, "get", rt);
}

StatusOr<kube::ListResult> SimClient::List(const kube::ResourceType& rt, const std::string& ns,
                                           const kube::ListOptions& opts) {
  const Fault f = Decide("list", rt, false);
  if (f == Fault::kUnavailable) return Unreachable(name_, "list", rt);
  return Finish(f, false, server_.List(rt, ns, opts), lost_, name_, "list", rt);
}

StatusOr<Json> SimClient::Create(const kube::ResourceType& rt, const std::string& ns,
                                 const Json& obj) {
  const Fault f = Decide("create", rt, true);
  if (f == Fault::kUnavailable) return Unreachable(name_, "create", rt);
  return Finish(f, true, server_.Create(rt, ns, obj), lost_, name_, "create", rt);
}

StatusOr<Json> SimClient::Update(const kube::ResourceType& rt, const Json& obj) {
  const Fault f = Decide("update", rt, true);
  if (f == Fault::kUnavailable) return Unreachable(name_, "update", rt);
  return Finish(f, true, server_.Update(rt, obj), lost_, name_, "update", rt);
}

StatusOr<Json> SimClient::UpdateStatus(const kube::ResourceType& rt, const Json& obj) {
  const Fault f = Decide("updatestatus", rt, true);
  if (f == Fault::kUnavailable) return Unreachable(name_, "updatestatus", rt);
  return Finish(f, true, server_.UpdateStatus(rt, obj), lost_, name_, "updatestatus", rt);
}

StatusOr<Json> SimClient::Patch(const kube::ResourceType& rt, const std::string& ns,
                                const std::string& name, const Json& patch, kube::PatchType type,
                                bool status_subresource) {
  const Fault f = Decide("patch", rt, true);
  if (f == Fault::kUnavailable) return Unreachable(name_, "patch", rt);
  return Finish(f, true, server_.Patch(rt, ns, name, patch, type, status_subresource), lost_, name_,
                "patch", rt);
}

Status SimClient::Delete(const kube::ResourceType& rt, const std::string& ns,
                         const std::string& name, const kube::DeleteOptions& opts) {
  const Fault f = Decide("delete", rt, true);
  if (f == Fault::kUnavailable) return Unreachable(name_, "delete", rt);
  return Finish(f, true, server_.Delete(rt, ns, name, opts), lost_, name_, "delete", rt);
}

Status SimClient::Watch(const kube::ResourceType& rt, const std::string&, const kube::WatchOptions&,
                        const std::function<bool(const kube::WatchEvent&)>&, std::stop_token) {
  return InternalError(name_ + ": watch " + rt.resource +
                       ": not served by SimClient (the simulation delivers watch events from "
                       "SimApiServer::WatchEventsSince)");
}

}  // namespace ferry::sim

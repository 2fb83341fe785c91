// SimApiServer: an in-memory Kubernetes API server for the deterministic simulation
// (tests/sim/, docs/simulation.md). It keeps the semantics Ferry's protocol depends on, not
// the HTTP: resourceVersions and 409 on a stale one, the status subresource (a PUT of the
// object never changes status; a PUT of status changes nothing else), metadata.generation on
// spec changes, finalizers and deletionTimestamp, background and foreground deletion through
// ownerReferences (a garbage-collector step the simulation schedules), label selectors, label
// value validation (422), merge and JSON patches, and a change log from which watches are
// served — with the transitions a label-selected watch reports (an object that stops
// matching arrives as DELETED, one that starts matching as ADDED) and 410 Gone for a
// resourceVersion older than the last compaction.
//
// Each simulated process talks to it through its own SimClient (a kube::ApiClient), so a
// fault can hit one process: a partition (every call fails, nothing is committed) or a lost
// response (the write is committed, the caller hears kUnavailable). Which fault hits which
// call is decided by a FaultPolicy the simulation draws from its seed. Everything here is
// single-threaded and deterministic: uids and resourceVersions come from counters, times from
// the simulation's clock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "kube/api_client.h"

namespace ferry::sim {

using kube::Json;

// One committed change, as the log keeps it.
struct Change {
  int64_t rv = 0;               // the resourceVersion it produced
  std::string resource;         // ResourceType::resource ("virtualmachines")
  kube::WatchEvent::Type type;  // kAdded, kModified or kDeleted
  Json object;                  // the object after the change (for kDeleted: its last state)
  Json previous;                // the object before (null for kAdded)
};

class SimApiServer {
 public:
  // `clock` gives creation and deletion timestamps (WallNow).
  explicit SimApiServer(Clock& clock);

  // A resource the server serves. `status_subresource` as in the CRD (all of Ferry's have it;
  // core Nodes do too; Leases, Events, Namespaces do not).
  void Register(const kube::ResourceType& rt, bool status_subresource);

  // ---- the API (what SimClient forwards when no fault applies) ----
  StatusOr<Json> Get(const kube::ResourceType& rt, const std::string& ns, const std::string& name);
  StatusOr<kube::ListResult> List(const kube::ResourceType& rt, const std::string& ns,
                                  const kube::ListOptions& opts);
  StatusOr<Json> Create(const kube::ResourceType& rt, const std::string& ns, const Json& obj);
  StatusOr<Json> Update(const kube::ResourceType& rt, const Json& obj);
  StatusOr<Json> UpdateStatus(const kube::ResourceType& rt, const Json& obj);
  StatusOr<Json> Patch(const kube::ResourceType& rt, const std::string& ns,
                       const std::string& name, const Json& patch,
                       kube::PatchType type = kube::PatchType::kMerge,
                       bool status_subresource = false);
  Status Delete(const kube::ResourceType& rt, const std::string& ns, const std::string& name,
                const kube::DeleteOptions& opts = {});

  // ---- watches ----
  // The events a watch of `rt` in `ns` ("" = all) with `label_selector` would deliver after
  // `after_rv`, oldest first, at most `max` (0 = all). kGone (410) when after_rv is older than
  // the last compaction: the watcher must relist.
  StatusOr<std::vector<kube::WatchEvent>> WatchEventsSince(const kube::ResourceType& rt,
                                                           const std::string& ns,
                                                           const std::string& label_selector,
                                                           int64_t after_rv, size_t max = 0) const;
  // Drops the log up to `rv` (etcd compaction): older watch positions get 410.
  void Compact(int64_t rv);
  int64_t current_rv() const;
  int64_t compacted_rv() const;

  // ---- garbage collection (kube-controller-manager's, as a step) ----
  // Deletes dependents of owners that are gone (background) and of owners being deleted in
  // the foreground (then removes the owner's foregroundDeletion finalizer once no dependent
  // with blockOwnerDeletion is left). Returns true when it changed anything.
  bool CollectGarbage();

  // ---- for invariant checks (no copy of the API; the objects as stored) ----
  std::vector<Json> All(const kube::ResourceType& rt) const;
  const std::vector<Change>& log() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// What a fault policy may do to one call.
enum class Fault {
  kNone,
  kUnavailable,   // not sent: the call fails (kUnavailable), nothing is committed
  kLoseResponse,  // sent and committed, but the caller hears kUnavailable (a timeout/reset)
};

struct CallInfo {
  std::string client;    // SimClient's name ("operator-0", "handler/node-a")
  std::string verb;      // "get", "list", "create", "update", "updatestatus", "patch", "delete"
  std::string resource;  // "virtualmachinemigrations"
  bool write = false;
};

using FaultPolicy = std::function<Fault(const CallInfo&)>;

// One process's connection. Watch() is not served here (the simulation delivers watch events
// itself, from WatchEventsSince, when it schedules them): it returns kInternal (StatusCode has
// no kUnimplemented; calling it in the simulation is a bug of the simulation).
class SimClient final : public kube::ApiClient {
 public:
  SimClient(SimApiServer& server, std::string name, FaultPolicy faults = {});
  void set_faults(FaultPolicy faults) { faults_ = std::move(faults); }
  const std::string& name() const { return name_; }
  // Calls made, and writes that were committed although the caller heard an error.
  uint64_t calls() const { return calls_; }
  uint64_t lost_responses() const { return lost_; }

  StatusOr<Json> Get(const kube::ResourceType& rt, const std::string& ns,
                     const std::string& name) override;
  StatusOr<kube::ListResult> List(const kube::ResourceType& rt, const std::string& ns,
                                  const kube::ListOptions& opts) override;
  StatusOr<Json> Create(const kube::ResourceType& rt, const std::string& ns,
                        const Json& obj) override;
  StatusOr<Json> Update(const kube::ResourceType& rt, const Json& obj) override;
  StatusOr<Json> UpdateStatus(const kube::ResourceType& rt, const Json& obj) override;
  StatusOr<Json> Patch(const kube::ResourceType& rt, const std::string& ns,
                       const std::string& name, const Json& patch,
                       kube::PatchType type = kube::PatchType::kMerge,
                       bool status_subresource = false) override;
  Status Delete(const kube::ResourceType& rt, const std::string& ns, const std::string& name,
                const kube::DeleteOptions& opts = {}) override;
  Status Watch(const kube::ResourceType& rt, const std::string& ns,
               const kube::WatchOptions& opts,
               const std::function<bool(const kube::WatchEvent&)>& on_event,
               std::stop_token stop) override;

 private:
  Fault Decide(const char* verb, const kube::ResourceType& rt, bool write);

  SimApiServer& server_;
  std::string name_;
  FaultPolicy faults_;
  uint64_t calls_ = 0;
  uint64_t lost_ = 0;
};

}  // namespace ferry::sim

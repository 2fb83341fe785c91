// Informer: list + watch one resource into a Store and tell handlers what changed.
// The reflector loop (client-go semantics): list in pages; watch from the list's
// resourceVersion with bookmarks; when a watch ends, re-watch from the last version seen;
// on 410 Gone (expired version) relist; on errors back off (exponential, jittered).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <vector>

#include "controller/backoff.h"
#include "core/clock.h"
#include "kube/api_client.h"
#include "kube/selector.h"
#include "kube/store.h"

namespace ferry::kube {

// Why an object left the informer's cache.
enum class DeleteReason {
  kDeleted,          // the object was deleted from the API server
  kNoLongerMatches,  // it still exists, but its labels no longer match the informer's selector
                     // (e.g. a VM relabelled to another node): "not mine any more"
  kUnknown,          // the informer could not tell (the read-back failed, or the object
                     // still matches: a field selector, or it was recreated meanwhile): check
};
// How: for an informer without selectors a DELETED event or an object missing from a relist
// is a deletion. With a selector the API server reports an object that left it exactly like
// a deletion (DELETED with the previous content), so the informer reads the object back
// once (a GET on its thread): NotFound or another uid = kDeleted; present and no longer
// matching the label selector = kNoLongerMatches.
const char* DeleteReasonName(DeleteReason r);

// Handlers run on the informer's thread, one event at a time, and must not block for long.
// An exception thrown by a handler is caught, logged and counted (InformerStats::
// handler_errors); the event still reaches the other handlers and the cache stays right.
struct EventHandler {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_obj, const ObjectPtr& new_obj)> on_update;
  // `last` is the last state the informer saw (for kDeleted through a watch: the state at
  // deletion).
  std::function<void(const ObjectPtr& last, DeleteReason why)> on_delete;
};

struct InformerOptions {
  std::string ns;  // "" = all namespaces
  // e.g. "ferry.dev/node=node-a": only matching objects are cached; an object relabelled
  // out of the selector is reported with DeleteReason::kNoLongerMatches.
  std::string label_selector;
  std::string field_selector;
  int64_t page_size = 500;
  // Server-side timeout of one watch request: each watch asks for a random value in
  // [watch_timeout_seconds, 2 * watch_timeout_seconds) as client-go does (5-10 min), so
  // informers started together do not all re-watch at the same moment.
  int watch_timeout_seconds = 300;
  std::chrono::milliseconds backoff_initial{800};
  std::chrono::milliseconds backoff_max{30000};
  // Applied to every object before it is cached; default drops metadata.managedFields,
  // which controllers never read and which can double an object's size.
  std::function<void(Json&)> transform = DropManagedFields;

  static void DropManagedFields(Json& obj);
};

struct InformerStats {
  uint64_t lists = 0;           // full lists (first sync and every relist)
  uint64_t relists_on_gone = 0; // relists caused by 410 Gone
  uint64_t watches = 0;         // watch requests opened
  uint64_t watch_errors = 0;    // watch requests that ended in an error
  uint64_t events = 0;          // ADDED/MODIFIED/DELETED events applied
  uint64_t bookmarks = 0;
  uint64_t handler_errors = 0;   // exceptions thrown by event handlers (caught)
  uint64_t throttled = 0;        // list/watch answered 429 (or 503 with Retry-After)
};

class Informer {
 public:
  Informer(ApiClient& api, ResourceType rt, InformerOptions options = {}, Clock& clock = RealClock::Get());

  // Register before Run().
  void AddIndex(const std::string& name, IndexFunc fn) { store_.AddIndex(name, std::move(fn)); }
  void AddEventHandler(EventHandler handler);

  // Runs the list/watch loop until `stop` is requested.
  void Run(std::stop_token stop);
  // True once the first list has been stored.
  bool HasSynced() const { return synced_.load(); }
  // Blocks until synced or stop/timeout; returns HasSynced().
  bool WaitForSync(std::stop_token stop, std::chrono::milliseconds timeout);

  // ---- Driving it without Run's thread (the deterministic simulation, tests/sim/) ----
  // One list into the store, as Run starts (and as it relists after 410): handlers told.
  Status ListOnce() { return ListAndReplace({}); }
  // One watch event, applied as Run applies it. False when the event ends the watch (an
  // error event: for 410 the driver must ListOnce again).
  bool Deliver(const WatchEvent& ev) {
    Status ignored;
    return Apply(ev, &ignored);
  }

  const Store& store() const { return store_; }
  const ResourceType& resource() const { return rt_; }
  const InformerOptions& options() const { return options_; }
  std::string LastResourceVersion() const;
  InformerStats stats() const;

 private:
  Status ListAndReplace(std::stop_token stop);
  // Applies one watch event; returns false to end the watch (error event).
  bool Apply(const WatchEvent& ev, Status* watch_error);
  // Tells every handler: added (prev null), updated, or deleted (obj null; prev is the last
  // state), containing handler exceptions.
  void Notify(const ObjectPtr& prev, const ObjectPtr& obj, DeleteReason why = DeleteReason::kDeleted);
  // Why an object the relist did not return has gone (reads it back when selectors apply).
  DeleteReason WhyMissing(const Json& last);
  // How long to wait after a failed list/watch: the backoff, or longer when the server asked.
  std::chrono::nanoseconds RetryDelay(const Status& st, controller::Backoff& backoff);
  int WatchTimeoutSeconds();
  void SetResourceVersion(const Json& obj);
  // Sleeps up to d, returning early when stop is requested.
  void SleepFor(std::chrono::nanoseconds d, std::stop_token stop);

  ApiClient& api_;
  ResourceType rt_;
  InformerOptions options_;
  Clock& clock_;
  Store store_;
  std::optional<LabelSelector> selector_;  // parsed options_.label_selector (null if invalid)
  std::vector<EventHandler> handlers_;
  std::atomic<bool> synced_{false};

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::string resource_version_;
  InformerStats stats_;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace ferry::kube

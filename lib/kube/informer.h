// Informer: list + watch one resource into a Store and tell handlers what changed.
// The reflector loop (client-go semantics): list in pages; watch from the list's
// resourceVersion with bookmarks; when a watch ends, re-watch from the last version seen;
// on 410 Gone (expired version) relist; on errors back off (exponential, jittered).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "core/clock.h"
#include "kube/api_client.h"
#include "kube/store.h"

namespace ferry::kube {

struct EventHandler {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_obj, const ObjectPtr& new_obj)> on_update;
  std::function<void(const ObjectPtr&)> on_delete;
};

struct InformerOptions {
  std::string ns;  // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  int64_t page_size = 500;
  // Server-side timeout of one watch request (client-go picks 5-10 min at random).
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

  const Store& store() const { return store_; }
  const ResourceType& resource() const { return rt_; }
  std::string LastResourceVersion() const;
  InformerStats stats() const;

 private:
  Status ListAndReplace(std::stop_token stop);
  // Applies one watch event; returns false to end the watch (error event).
  bool Apply(const WatchEvent& ev, Status* watch_error);
  // Tells every handler: added (prev null), updated, or deleted (obj null; prev is the last state).
  void Notify(const ObjectPtr& prev, const ObjectPtr& obj) const;
  void SetResourceVersion(const Json& obj);
  // Sleeps up to d, returning early when stop is requested.
  void SleepFor(std::chrono::nanoseconds d, std::stop_token stop);

  ApiClient& api_;
  ResourceType rt_;
  InformerOptions options_;
  Clock& clock_;
  Store store_;
  std::vector<EventHandler> handlers_;
  std::atomic<bool> synced_{false};

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::string resource_version_;
  InformerStats stats_;
};

}  // namespace ferry::kube

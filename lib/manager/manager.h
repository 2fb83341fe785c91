// Manager: what every Ferry binary's main() hands its controllers to (controller-runtime's
// manager, small). It owns
//   * the shared informers (one per resource + namespace + selectors, however many
//     controllers watch it), started when work starts, with /readyz reporting their sync;
//   * optional leader election (the operator elects; the node agent runs without it);
//   * the ops server: /healthz (ping + "leader-election", which fails when the elector is
//     stuck), /readyz (caches synced; a standby is ready), /metrics;
//   * the controllers: each a name, a work queue, a reconcile function, worker threads and
//     watches that map informer events to keys.
//
// Lifecycle of Run(stop): ops server up → (campaign for the lease) → informers start →
// once all have synced, controllers start → ... → on stop or on losing the lease: every
// controller is cancelled (the stop token of in-flight reconciles is requested, queued keys
// are dropped) and drained (Run waits until in-flight reconciles return), informers stop,
// and only then, on a clean stop, the lease is released. A manager leads at most once: after
// losing the lease Run returns kUnavailable and the process should exit (and be restarted
// clean), as controller-runtime does.
#pragma once

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <source_location>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "controller/controller.h"
#include "core/clock.h"
#include "core/status.h"
#include "http/ops_server.h"
#include "kube/api_client.h"
#include "kube/informer.h"
#include "kube/leader_election.h"
#include "log/log.h"

namespace ferry::manager {

struct ManagerOptions {
  // Names the process in logs.
  std::string name = "ferry";
  // Prefix of the manager's own metrics: <prefix>_leader, <prefix>_cached_objects{resource},
  // <prefix>_cache_bytes{resource}, <prefix>_informer_handler_errors{resource}.
  std::string metrics_prefix = "ferry";
  // Set to elect a leader before starting any work; nullopt = always work (node agent).
  // The manager installs its own on_started/on_stopped_leading callbacks (on_new_leader is
  // kept) and releases the lease itself after draining.
  std::optional<kube::LeaderElectionConfig> leader_election;
  // Client of the elector; nullptr = the manager's client. Give the elector a client of its
  // own (its own rate limiter and short timeouts) so controllers' traffic cannot delay
  // renewals.
  kube::ApiClient* election_api = nullptr;
  // Ops server address; ops_port < 0 = no server (tests).
  std::string ops_host = "0.0.0.0";
  int ops_port = 8080;
  // Longest wait for in-flight reconciles after cancelling; past it the lease is NOT
  // released (the reconcile may still write) and expires instead.
  std::chrono::milliseconds drain_timeout{30000};
  // nullptr: a registry of the manager's own.
  std::shared_ptr<prometheus::Registry> registry;
  Clock* clock = nullptr;  // nullptr: RealClock::Get()
  // Log sink for the manager's own lines; unset (the default): structured lines through
  // lib/log, each naming its object (lease, informer, process).
  std::function<void(const std::string&)> log;
};

// Keys to enqueue for an event about `obj` (old and new states of an update are both mapped).
using MapFunc = std::function<std::vector<std::string>(const kube::Json& obj)>;

struct Watch {
  kube::Informer* informer = nullptr;
  MapFunc map;  // null: the object's own key
};
// The controller reconciles objects of this informer (key = the object's key).
Watch For(kube::Informer& informer);
// Events of this informer's objects enqueue the key of their controlling owner of
// owner_group/owner_kind (controller-runtime's Owns()).
Watch Owns(kube::Informer& informer, const std::string& owner_group, const std::string& owner_kind);
// Events of this informer's objects enqueue whatever `map` returns (Watches(obj, mapFn)).
Watch Watches(kube::Informer& informer, MapFunc map);

struct ControllerSpec {
  std::string name;
  int workers = 1;
  controller::ReconcileFunc reconcile;
  std::vector<Watch> watches;
  // nullptr: client-go's default controller rate limiter.
  std::unique_ptr<controller::RateLimiter> rate_limiter;
  // Unset: logged through lib/log ("Reconciler error" with the object's key, the controller
  // and err), as controller-runtime does.
  std::function<void(const std::string& key, const Status& error)> on_terminal_error;
  std::function<void(const std::string& key, const Status& error)> on_error;
};

class Manager {
 public:
  Manager(kube::ApiClient& api, ManagerOptions options);
  // Stops whatever still runs.
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // The shared informer of (rt, opts.ns, opts.label_selector, opts.field_selector), created
  // on first use with `opts` (later callers' other options are ignored). Before Run only.
  kube::Informer& SharedInformer(const kube::ResourceType& rt, kube::InformerOptions opts = {});
  // Adds a controller; its watches' event handlers are registered now. Before Run only.
  StatusOr<controller::Controller*> AddController(ControllerSpec spec);

  // Add extra checks before Run.
  http::OpsServer& ops() { return *ops_; }
  prometheus::Registry& registry() { return *registry_; }
  kube::ApiClient& api() { return api_; }

  // For a driver that runs the informers and controllers itself instead of Run, one step at
  // a time on one thread (the deterministic simulation, tests/sim/): every shared informer
  // (in a fixed order) and every controller (in the order they were added).
  std::vector<kube::Informer*> informers() const;
  std::vector<controller::Controller*> controllers() const;

  // Runs until `stop` (OK) or until the lease is lost (kUnavailable). Call once.
  Status Run(std::stop_token stop);

  // The ops server's port once Run has started it (0 before, or without a server).
  int ops_port() const { return ops_port_.load(); }
  // True while this process may act: leading, or running without leader election.
  bool IsWorking() const { return working_.load(); }
  // True while a write that decides may leave this process: it works and, with leader
  // election, can prove by its own monotonic clock that its lease is still valid
  // (LeaderElector::HoldsLease: last successful renewal + renew deadline > now). Checked
  // right before every deciding write (kube::FencedApiClient); false as soon as the clock
  // passes the deadline, even before the elector's thread noticed. Thread-safe.
  bool HoldsLease() const;
  // True once every informer has synced since work started.
  bool CachesSynced() const;
  // Blocks until the controllers have started (caches synced) or `timeout`; for tests.
  bool WaitForStarted(std::chrono::milliseconds timeout) const;

 private:
  struct ControllerEntry {
    std::unique_ptr<controller::Reconciler> reconciler;
    std::unique_ptr<controller::Controller> controller;
  };
  void StartWork();
  // Cancels the controllers, waits for them (up to drain_timeout), stops the informers.
  // Returns false when in-flight reconciles did not return in time.
  bool StopWork();
  void UpdateMetrics();
  log::Ref Self() const;  // the process: lines about the manager itself
  // One line about `about`: through options_.log when set ("kind key: message k=v"), else
  // lib/log.
  void Log(const log::Ref& about, std::string_view message,
           std::vector<std::pair<std::string, std::string>> fields = {},
           std::source_location where = std::source_location::current()) const;

  kube::ApiClient& api_;
  ManagerOptions options_;
  Clock& clock_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<http::OpsServer> ops_;
  std::unique_ptr<kube::LeaderElector> elector_;
  controller::ControllerMetricFamilies controller_metrics_;
  prometheus::Gauge* leader_gauge_ = nullptr;
  prometheus::Family<prometheus::Gauge>* cached_ = nullptr;
  prometheus::Family<prometheus::Gauge>* cache_bytes_ = nullptr;
  prometheus::Family<prometheus::Gauge>* handler_errors_ = nullptr;

  std::map<std::string, std::unique_ptr<kube::Informer>> informers_;
  std::vector<ControllerEntry> controllers_;
  bool ran_ = false;

  std::atomic<int> ops_port_{0};
  std::atomic<bool> working_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable_any cv_;
  bool started_controllers_ = false;
  std::stop_source work_stop_;
  std::vector<std::jthread> work_threads_;
  bool drained_ = true;
};

}  // namespace ferry::manager

#include "manager/manager.h"

#include <future>

#include "kube/owner.h"
#include "kube/store.h"

namespace ferry::manager {
namespace {

std::string InformerId(const kube::ResourceType& rt, const kube::InformerOptions& o) {
  return rt.ApiVersion() + "/" + rt.resource + "|" + o.ns + "|" + o.label_selector + "|" +
         o.field_selector;
}

}  // namespace

Watch For(kube::Informer& informer) { return Watch{&informer, nullptr}; }

Watch Owns(kube::Informer& informer, const std::string& owner_group,
           const std::string& owner_kind) {
  return Watch{&informer, [owner_group, owner_kind](const kube::Json& obj) {
                 auto key = kube::ControllerKey(obj, owner_group, owner_kind);
                 return key ? std::vector<std::string>{*key} : std::vector<std::string>{};
               }};
}

Watch Watches(kube::Informer& informer, MapFunc map) { return Watch{&informer, std::move(map)}; }

Manager::Manager(kube::ApiClient& api, ManagerOptions options)
    : api_(api),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : RealClock::Get()),
      registry_(options_.registry ? options_.registry : std::make_shared<prometheus::Registry>()) {
  auto families = controller::ControllerMetricFamilies::Register(*registry_);
  if (families.ok()) controller_metrics_ = *families;
  const std::string& p = options_.metrics_prefix;
  leader_gauge_ =
      &prometheus::BuildGauge()
           .Name(p + "_leader")
           .Help(
               "1 while this process may act (holds the lease, or runs without election), else 0.")
           .Register(*registry_)
           .Add({});
  cached_ = &prometheus::BuildGauge()
                 .Name(p + "_cached_objects")
                 .Help("Objects in the informer caches, by resource.")
                 .Register(*registry_);
  cache_bytes_ =
      &prometheus::BuildGauge()
           .Name(p + "_cache_bytes")
           .Help("Packed (CBOR) size of the objects in the informer caches, by resource.")
           .Register(*registry_);
  handler_errors_ =
      &prometheus::BuildGauge()
           .Name(p + "_informer_handler_errors")
           .Help("Exceptions thrown by informer event handlers (caught), by resource.")
           .Register(*registry_);
  ops_ = std::make_unique<http::OpsServer>(registry_);
  if (options_.leader_election) {
    kube::LeaderElectionConfig le = *options_.leader_election;
    le.release_on_cancel = false;  // Run releases after draining, and only if drained
    le.on_started_leading = [this] { StartWork(); };
    le.on_stopped_leading = [this] {
      const bool drained = StopWork();
      std::lock_guard<std::mutex> l(mu_);
      drained_ = drained;
    };
    kube::ApiClient& eapi = options_.election_api != nullptr ? *options_.election_api : api_;
    elector_ = std::make_unique<kube::LeaderElector>(eapi, std::move(le), clock_);
  }
}

Manager::~Manager() { StopWork(); }

log::Ref Manager::Self() const { return log::Obj("process", options_.name); }

void Manager::Log(const log::Ref& about, std::string_view message,
                  std::vector<std::pair<std::string, std::string>> fields,
                  std::source_location where) const {
  if (options_.log) {
    std::string text = about.kind + " " + about.Key() + ": " + std::string(message);
    for (const auto& [k, v] : fields) text += " " + k + "=" + v;
    options_.log(text);
    return;
  }
  log::Line line = log::Info(about, message, where);
  for (const auto& [k, v] : fields) line.With(k, v);
}

kube::Informer& Manager::SharedInformer(const kube::ResourceType& rt, kube::InformerOptions opts) {
  const std::string id = InformerId(rt, opts);
  auto it = informers_.find(id);
  if (it != informers_.end()) return *it->second;
  auto inf = std::make_unique<kube::Informer>(api_, rt, std::move(opts), clock_);
  kube::Informer& ref = *inf;
  informers_.emplace(id, std::move(inf));
  return ref;
}

StatusOr<controller::Controller*> Manager::AddController(ControllerSpec spec) {
  if (ran_) return FailedPreconditionError("AddController after Run");
  if (spec.name.empty()) return InvalidError("controller: name is required");
  if (!spec.reconcile)
    return InvalidError("controller " + spec.name + ": reconcile function is required");
  for (const auto& e : controllers_) {
    if (e.controller->name() == spec.name)
      return InvalidError("controller " + spec.name + " added twice");
  }
  ControllerEntry e;
  e.reconciler = std::make_unique<controller::FuncReconciler>(std::move(spec.reconcile));
  controller::ControllerOptions co;
  co.name = spec.name;
  co.workers = spec.workers;
  co.clock = &clock_;
  co.rate_limiter = std::move(spec.rate_limiter);
  co.metrics = controller_metrics_.reconcile_total != nullptr ? &controller_metrics_ : nullptr;
  co.on_terminal_error = std::move(spec.on_terminal_error);
  co.on_error = std::move(spec.on_error);
  if (!co.on_error) {
    co.on_error = [name = spec.name](const std::string& key, const Status& st) {
      log::Error(log::Obj("object", key), "Reconciler error").With("controller", name).Err(st);
    };
  }
  if (!co.on_terminal_error) {
    co.on_terminal_error = [name = spec.name](const std::string& key, const Status& st) {
      log::Error(log::Obj("object", key), "Reconciler error, not retried")
          .With("controller", name)
          .Err(st);
    };
  }
  e.controller = std::make_unique<controller::Controller>(std::move(co), *e.reconciler);
  controller::Controller* ctl = e.controller.get();
  for (auto& w : spec.watches) {
    if (w.informer == nullptr)
      return InvalidError("controller " + spec.name + ": a watch has no informer");
    MapFunc map = w.map ? std::move(w.map) : [](const kube::Json& o) {
      return std::vector<std::string>{kube::ObjectKey(o)};
    };
    auto enqueue = [ctl, map](const kube::ObjectPtr& o) {
      if (!o) return;
      for (const auto& k : map(*o)) {
        if (!k.empty()) ctl->Enqueue(k);
      }
    };
    kube::EventHandler h;
    h.on_add = enqueue;
    h.on_update = [enqueue](const kube::ObjectPtr& old_obj, const kube::ObjectPtr& new_obj) {
      enqueue(old_obj);  // e.g. the owner changed: both owners hear of it
      enqueue(new_obj);
    };
    h.on_delete = [enqueue](const kube::ObjectPtr& last, kube::DeleteReason) { enqueue(last); };
    w.informer->AddEventHandler(std::move(h));
  }
  controllers_.push_back(std::move(e));
  return ctl;
}

std::vector<kube::Informer*> Manager::informers() const {
  std::vector<kube::Informer*> out;
  for (const auto& [id, inf] : informers_) out.push_back(inf.get());
  return out;
}

std::vector<controller::Controller*> Manager::controllers() const {
  std::vector<controller::Controller*> out;
  for (const auto& e : controllers_) out.push_back(e.controller.get());
  return out;
}

bool Manager::CachesSynced() const {
  for (const auto& [id, inf] : informers_) {
    if (!inf->HasSynced()) return false;
  }
  return true;
}

bool Manager::HoldsLease() const {
  if (!working_.load()) return false;
  return !elector_ || elector_->HoldsLease();
}

bool Manager::WaitForStarted(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [this] { return started_controllers_; });
}

void Manager::StartWork() {
  std::lock_guard<std::mutex> l(mu_);
  working_ = true;
  leader_gauge_->Set(1);
  if (options_.leader_election) {
    Log(log::Obj("lease", options_.leader_election->lease_namespace,
                 options_.leader_election->lease_name),
        "Acquired the lease; starting informers",
        {{"identity", options_.leader_election->identity}});
  } else {
    Log(Self(), "Starting informers");
  }
  std::stop_token stop = work_stop_.get_token();
  for (auto& [id, inf] : informers_) {
    kube::Informer* p = inf.get();
    work_threads_.emplace_back([p, stop](std::stop_token) { p->Run(stop); });
  }
  // Controllers start once every cache has synced, so a reconcile never mistakes a cache
  // still filling for the world (an object not yet listed is not a deleted one).
  work_threads_.emplace_back([this, stop](std::stop_token) {
    for (auto& [id, inf] : informers_) {
      while (!stop.stop_requested() && !inf->WaitForSync(stop, std::chrono::seconds(30))) {
        Log(log::Obj("informer", inf->resource().resource), "Waiting for the cache to sync");
      }
    }
    if (stop.stop_requested()) return;
    for (auto& e : controllers_) e.controller->Start();
    {
      std::lock_guard<std::mutex> lk(mu_);
      started_controllers_ = true;
    }
    cv_.notify_all();
    Log(Self(), "Caches synced; controllers started",
        {{"controllers", std::to_string(controllers_.size())}});
  });
}

bool Manager::StopWork() {
  std::vector<std::jthread> threads;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!working_.exchange(false)) return drained_;
    leader_gauge_->Set(0);
    work_stop_.request_stop();
    threads = std::move(work_threads_);
  }
  // Cancel the controllers (in-flight reconciles see their stop token) and wait for them.
  auto cancel_all = std::async(std::launch::async, [this] {
    for (auto& e : controllers_) e.controller->Cancel();
  });
  bool drained = cancel_all.wait_for(options_.drain_timeout) == std::future_status::ready;
  if (!drained) {
    Log(Self(),
        "In-flight reconciles did not return within the drain timeout; the lease will not be "
        "released");
  }
  for (auto& t : threads) {
    t.request_stop();
    t.join();
  }
  if (!drained) {
    // Keep the future alive until the reconciles return, so nothing is destroyed under them.
    cancel_all.wait();
  }
  Log(Self(), "Work stopped");
  return drained;
}

void Manager::UpdateMetrics() {
  for (const auto& [id, inf] : informers_) {
    const std::string& r = inf->resource().resource;
    cached_->Add({{"resource", r}}).Set(static_cast<double>(inf->store().Size()));
    cache_bytes_->Add({{"resource", r}}).Set(static_cast<double>(inf->store().PackedBytes()));
    handler_errors_->Add({{"resource", r}}).Set(static_cast<double>(inf->stats().handler_errors));
  }
}

Status Manager::Run(std::stop_token stop) {
  if (ran_) return FailedPreconditionError("Manager::Run called twice");
  ran_ = true;
  ops_->AddLivenessCheck("ping", [] { return OkStatus(); });
  if (elector_) ops_->AddLivenessCheck("leader-election", [this] { return elector_->Check(); });
  ops_->AddReadinessCheck("informers", [this] {
    if (elector_ && !working_.load()) return OkStatus();  // a standby is ready to take over
    for (const auto& [id, inf] : informers_) {
      if (!inf->HasSynced()) return UnavailableError(inf->resource().resource + " not synced");
    }
    return OkStatus();
  });
  if (options_.ops_port >= 0) {
    auto port = ops_->Start(options_.ops_host, options_.ops_port);
    if (!port.ok()) return port.status().WithContext("cannot serve /healthz /readyz /metrics");
    ops_port_ = *port;
    Log(Self(), "Serving /healthz /readyz /metrics",
        {{"address", options_.ops_host + ":" + std::to_string(*port)}});
  }
  std::jthread metrics([this](std::stop_token st) {
    std::mutex m;
    std::condition_variable_any cv;
    while (!st.stop_requested()) {
      UpdateMetrics();
      std::unique_lock<std::mutex> l(m);
      cv.wait_for(l, st, std::chrono::seconds(1), [] { return false; });
    }
  });

  Status result = OkStatus();
  if (!elector_) {
    StartWork();
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock<std::mutex> l(m);
    cv.wait(l, stop, [] { return false; });
    StopWork();
  } else {
    result = elector_->Run(stop);
    StopWork();  // no-op when on_stopped_leading already stopped it
    bool drained;
    {
      std::lock_guard<std::mutex> l(mu_);
      drained = drained_;
    }
    if (result.ok() && drained) {
      // A clean stop: hand the lease over now that nothing of ours runs any more.
      Status rel = elector_->Release();
      const log::Ref lease = log::Obj("lease", options_.leader_election->lease_namespace,
                                      options_.leader_election->lease_name);
      if (rel.ok()) {
        Log(lease, "Released the lease");
      } else {
        Log(lease, "Could not release the lease", {{"err", rel.ToString()}});
      }
    }
    if (result.code() == StatusCode::kCancelled) result = OkStatus();  // stopped while standing by
  }
  metrics.request_stop();
  metrics.join();
  UpdateMetrics();
  ops_->Stop();
  return result;
}

}  // namespace ferry::manager

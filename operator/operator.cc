#include "operator.h"

#include <unistd.h>

#include <cstdio>

#include "api/group.h"
#include "api/labels.h"
#include "evacuation/evacuation_controller.h"
#include "evacuation/evacuation_plan.h"
#include "kube/store.h"
#include "migration/migration_controller.h"
#include "servergroup/servergroup_controller.h"
#include "vm/vm_controller.h"

namespace ferry::op {

const kube::ResourceType kHypervisorResource{api::kGroup, api::kVersion, api::kHypervisors,
                                             "Hypervisor", false};

namespace {

constexpr const char* kTickKey = "tick";

std::string HostName() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return host;
}

// Feeds one informer's events into the cluster state, decoding each object as T.
template <typename T>
kube::EventHandler Feed(std::function<void(const T&)> upsert,
                        std::function<void(const std::string&)> remove) {
  auto on_obj = [upsert](const kube::ObjectPtr& o) {
    if (!o) return;
    auto decoded = T::FromJson(*o);
    if (decoded.ok()) upsert(*decoded);
  };
  kube::EventHandler h;
  h.on_add = on_obj;
  h.on_update = [on_obj](const kube::ObjectPtr&, const kube::ObjectPtr& now) { on_obj(now); };
  h.on_delete = [remove](const kube::ObjectPtr& last, kube::DeleteReason) {
    if (last) remove(kube::ObjectKey(*last));
  };
  return h;
}

// Transient and terminal reconcile errors go to the log (the controller retries the former).
void LogErrors(manager::ControllerSpec& c) {
  const std::string name = c.name;
  c.on_error = [name](const std::string& key, const Status& st) {
    std::fprintf(stderr, "ferry-operator: %s %s: %s (retrying)\n", name.c_str(), key.c_str(),
                 st.ToString().c_str());
  };
  c.on_terminal_error = [name](const std::string& key, const Status& st) {
    std::fprintf(stderr, "ferry-operator: %s %s: %s\n", name.c_str(), key.c_str(),
                 st.ToString().c_str());
  };
}

std::string LabelOf(const kube::Json& obj, const char* key) {
  const kube::Json& md = obj["metadata"];
  if (!md.contains("labels") || !md["labels"].contains(key)) return "";
  return md["labels"][key].get<std::string>();
}

std::string VmKeyOfMigration(const kube::Json& vmm) {
  const std::string ns = vmm["metadata"].value("namespace", "");
  // The full name behind a hashed label (docs/adr/0006 §8).
  std::string vm = api::FullLabelValue(vmm, api::kLabelVm).value_or("");
  if (vm.empty() && vmm.contains("spec")) vm = vmm["spec"].value("vmName", "");
  return vm.empty() ? "" : ns + "/" + vm;
}

}  // namespace


Operator::Operator(kube::ApiClient& api, OperatorOptions options, Clock& clock,
                   kube::ApiClient* events_api)
    : api_(api),
      events_api_(events_api != nullptr ? *events_api : api),
      options_(std::move(options)),
      clock_(clock),
      state_(clock, options_.deadlines.heartbeat_timeout, options_.limits) {
  state_.SetTickInterval(options_.heartbeat_check_interval);
}

Operator::~Operator() = default;

Status Operator::Register(manager::Manager& mgr) {
  using kube::resources::kMigrationPolicies;
  using kube::resources::kNamespaces;
  using kube::resources::kNodes;
  using kube::resources::kServerGroups;
  using kube::resources::kVirtualMachineMigrations;
  using kube::resources::kVirtualMachines;
  kube::InformerOptions scoped;
  scoped.ns = options_.watch_namespace;
  kube::Informer& vms = mgr.SharedInformer(kVirtualMachines, scoped);
  kube::Informer& vmms = mgr.SharedInformer(kVirtualMachineMigrations, scoped);
  kube::Informer& groups = mgr.SharedInformer(kServerGroups, scoped);
  kube::Informer& policies = mgr.SharedInformer(kMigrationPolicies);
  kube::Informer& nodes = mgr.SharedInformer(kNodes);
  kube::Informer& hypervisors = mgr.SharedInformer(kHypervisorResource);
  kube::Informer& namespaces = mgr.SharedInformer(kNamespaces);
  vmms.AddIndex(kIndexByVm, [](const kube::Json& o) {
    std::string k = VmKeyOfMigration(o);
    return k.empty() ? std::vector<std::string>{} : std::vector<std::string>{k};
  });

  events_ = std::make_unique<kube::EventRecorder>(events_api_, "ferry-operator", HostName(),
                                                  clock_);
  metrics_ = std::make_unique<OperatorMetrics>(mgr.registry());
  // Every write of the controllers goes through the fence: none leaves a replica that cannot
  // prove by its own monotonic clock that it still holds the lease (ADR 6 §4).
  std::function<bool()> holds_lease = lease_check_;
  if (!holds_lease) holds_lease = [&mgr] { return mgr.HoldsLease(); };
  fenced_api_ =
      std::make_unique<kube::FencedApiClient>(api_, holds_lease, "the operator's leader lease");
  ctx_ = std::unique_ptr<Context>(new Context{*fenced_api_, state_, *events_, *metrics_, options_,
                                              defaults_, clock_, vms, vmms, groups, policies, nodes,
                                              hypervisors, namespaces, holds_lease});

  // The cluster state first: controllers registered below then never read a view older
  // than the cache that woke them.
  ClusterState& st = state_;
  nodes.AddEventHandler(Feed<api::Node>([&st](const api::Node& n) { st.UpsertNode(n); },
                                        [&st](const std::string& k) { st.RemoveNode(k); }));
  hypervisors.AddEventHandler(
      Feed<api::Hypervisor>([&st](const api::Hypervisor& h) { st.UpsertHypervisor(h); },
                            [&st](const std::string& k) { st.RemoveHypervisor(k); }));
  vms.AddEventHandler(
      Feed<api::VirtualMachine>([&st](const api::VirtualMachine& v) { st.UpsertVm(v); },
                                [&st](const std::string& k) { st.RemoveVm(k); }));
  groups.AddEventHandler(
      Feed<api::ServerGroup>([&st](const api::ServerGroup& g) { st.UpsertGroup(g); },
                             [&st](const std::string& k) { st.RemoveGroup(k); }));
  vmms.AddEventHandler(Feed<api::VirtualMachineMigration>(
      [&st](const api::VirtualMachineMigration& m) { st.UpsertMigration(m); },
      [&st](const std::string& k) { st.RemoveMigration(k); }));

  vm_ = std::make_unique<vm::VmController>(*ctx_);
  migration_ = std::make_unique<migration::MigrationController>(*ctx_);
  servergroup_ = std::make_unique<servergroup::ServerGroupController>(*ctx_);
  evacuation_ = std::make_unique<evacuation::EvacuationController>(*ctx_);
  kube::EventHandler observed;
  observed.on_add = [this](const kube::ObjectPtr& o) {
    if (o) evacuation_->Observed(*o);
  };
  vmms.AddEventHandler(std::move(observed));

  const int workers = std::max(1, options_.workers);
  {
    manager::ControllerSpec c;
    c.name = "migration";
    c.workers = workers;
    c.reconcile = [this](const std::string& k, std::stop_token s) {
      return migration_->Reconcile(k, s);
    };
    c.watches = {manager::For(vmms),
                 // A migration that finished or left frees a slot: the waiting ones look again.
                 manager::Watches(vmms,
                                  [&st](const kube::Json& o) {
                                    const std::string phase =
                                        o.value("status", kube::Json::object()).value("phase", "");
                                    const bool done = phase == "Succeeded" || phase == "Failed" ||
                                                      phase == "Cancelled" ||
                                                      o["metadata"].contains("deletionTimestamp");
                                    return done ? st.WaitingMigrations()
                                                : std::vector<std::string>{};
                                  }),
                 manager::Watches(vms,
                                  [&vmms](const kube::Json& o) {
                                    std::vector<std::string> keys;
                                    for (const auto& m :
                                         vmms.store().ByIndex(kIndexByVm, kube::ObjectKey(o))) {
                                      keys.push_back(kube::ObjectKey(*m));
                                    }
                                    return keys;
                                  }),
                 manager::Watches(nodes, [&st](const kube::Json& o) {
                   return st.MigrationsTouching(o["metadata"].value("name", ""));
                 })};
    LogErrors(c);
    auto ctl = mgr.AddController(std::move(c));
    if (!ctl.ok()) return ctl.status();
    migration_ctl_ = *ctl;
    migration_->SetWake([this](const std::string& k) { migration_ctl_->Enqueue(k); });
  }
  {
    manager::ControllerSpec c;
    c.name = "vm";
    c.workers = workers;
    c.reconcile = [this](const std::string& k, std::stop_token s) { return vm_->Reconcile(k, s); };
    c.watches = {manager::For(vms), manager::Watches(vmms, [](const kube::Json& o) {
                   std::string k = VmKeyOfMigration(o);
                   return k.empty() ? std::vector<std::string>{} : std::vector<std::string>{k};
                 })};
    LogErrors(c);
    auto ctl = mgr.AddController(std::move(c));
    if (!ctl.ok()) return ctl.status();
    vm_ctl_ = *ctl;
  }
  {
    manager::ControllerSpec c;
    c.name = "servergroup";
    c.workers = 1;
    c.reconcile = [this](const std::string& k, std::stop_token s) {
      return servergroup_->Reconcile(k, s);
    };
    c.watches = {
        manager::For(groups),
        manager::Watches(
            vms,
            [](const kube::Json& o) {
              const std::string g = o.value("spec", kube::Json::object()).value("serverGroup", "");
              if (g.empty()) return std::vector<std::string>{};
              return std::vector<std::string>{o["metadata"].value("namespace", "") + "/" + g};
            }),
        manager::Watches(nodes, [&groups](const kube::Json&) { return groups.store().Keys(); })};
    LogErrors(c);
    auto ctl = mgr.AddController(std::move(c));
    if (!ctl.ok()) return ctl.status();
    servergroup_ctl_ = *ctl;
  }
  {
    manager::ControllerSpec c;
    c.name = "evacuation";
    c.workers = 1;
    c.reconcile = [this](const std::string& k, std::stop_token s) {
      return evacuation_->Reconcile(k, s);
    };
    c.watches = {manager::For(nodes),
                 manager::Watches(
                     vms,
                     [](const kube::Json& o) {
                       const std::string n =
                           o.value("status", kube::Json::object()).value("nodeName", "");
                       return n.empty() ? std::vector<std::string>{} : std::vector<std::string>{n};
                     }),
                 manager::Watches(vmms, [](const kube::Json& o) {
                   std::string n = LabelOf(o, evacuation::kLabelEvacuationNode);
                   if (n.empty()) n = LabelOf(o, api::kLabelSourceNode);
                   return n.empty() ? std::vector<std::string>{} : std::vector<std::string>{n};
                 })};
    LogErrors(c);
    auto ctl = mgr.AddController(std::move(c));
    if (!ctl.ok()) return ctl.status();
    evacuation_ctl_ = *ctl;
  }
  {
    // One key that re-queues itself: heartbeats judged against the clock, retries when the
    // cluster changed, metrics. Any Node event starts it.
    manager::ControllerSpec c;
    c.name = "tick";
    c.workers = 1;
    c.reconcile = [this](const std::string& k, std::stop_token) { return Tick(k); };
    c.watches = {manager::Watches(
        nodes, [](const kube::Json&) { return std::vector<std::string>{kTickKey}; })};
    LogErrors(c);
    auto ctl = mgr.AddController(std::move(c));
    if (!ctl.ok()) return ctl.status();
  }
  return OkStatus();
}

controller::ReconcileResult Operator::Tick(const std::string&) {
  state_.ExpireUncertainAssumptions();
  for (const std::string& node : state_.RefreshHeartbeats()) {
    for (const std::string& k : state_.MigrationsTouching(node)) migration_ctl_->Enqueue(k);
    evacuation_ctl_->Enqueue(node);
  }
  const uint64_t gen = state_.generation();
  if (gen != last_generation_) {
    last_generation_ = gen;
    for (const std::string& k : state_.WaitingMigrations()) migration_ctl_->Enqueue(k);
    for (const std::string& k : vm_->Unschedulable()) vm_ctl_->Enqueue(k);
  }
  // A host's hardware changed (a node came or went, a CPU model or pool changed): every VM's
  // Migratable condition is judged again.
  if (const uint64_t hosts = state_.hosts_generation(); hosts != last_hosts_generation_) {
    last_hosts_generation_ = hosts;
    for (const std::string& k : ctx_->vms.store().Keys()) vm_ctl_->Enqueue(k);
  }
  if (options_.evacuation.rebalance) evacuation_ctl_->Enqueue(evacuation::kRebalanceKey);
  metrics_->SetMigrationsByPhase(state_.PhaseCounts());
  metrics_->SetGuestLocationUnknown(state_.GuestLocationUnknownCount());
  return controller::ReconcileResult::RequeueAfter(
      std::chrono::duration_cast<Clock::Duration>(options_.heartbeat_check_interval));
}

}  // namespace ferry::op

// The node agent's fencing through a real kube-apiserver (ADR 6 §1-3): the source runner holds
// a source the failed job left paused until the target's word, and the target controller
// writes that word, cleans up only its own migration's domain, records it durably and ends an
// unknown migration whose pre-copy guest runs there. libvirt is faked (a scripted source job,
// a node of domains); the API server, informers and writes are real.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "../../unit/handler/fake_hypervisor.h"
#include "../kube_env.h"
#include "agent/agent_context.h"
#include "agent/migration_runner.h"
#include "agent/target_controller.h"
#include "agent/typed_writes.h"
#include "api/group.h"
#include "api/migration.h"
#include "api/vm.h"
#include "kube/informer.h"

namespace ferry::agent {
namespace {

using api::MigrationPhase;
using domain::DomainReason;
using domain::DomainState;
using kube::Json;
using kube::testing::Eventually;
using namespace std::chrono_literals;

// This node's libvirtd as the agent sees it: a map of domains.
class FakeNode : public domain::NodeHypervisor {
 public:
  void Put(domain::DomainInfo d) {
    std::lock_guard<std::mutex> l(mu_);
    domains_[d.name] = std::move(d);
  }
  std::optional<domain::DomainInfo> Find(const std::string& name) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = domains_.find(name);
    if (it == domains_.end()) return std::nullopt;
    return it->second;
  }
  int destroyed() {
    std::lock_guard<std::mutex> l(mu_);
    return destroyed_;
  }
  int undefined() {
    std::lock_guard<std::mutex> l(mu_);
    return undefined_;
  }

  StatusOr<domain::HostFacts> Host() override { return domain::HostFacts{}; }
  StatusOr<std::vector<domain::DomainInfo>> ListDomains() override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<domain::DomainInfo> out;
    for (const auto& [n, d] : domains_) out.push_back(d);
    return out;
  }
  StatusOr<std::optional<domain::DomainInfo>> GetDomain(const std::string& name) override {
    return Find(name);
  }
  Status Define(const std::string&) override { return FailedPreconditionError("not in this test"); }
  Status Start(const std::string&) override { return FailedPreconditionError("not in this test"); }
  Status Shutdown(const std::string&) override {
    return FailedPreconditionError("not in this test");
  }
  Status Destroy(const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = domains_.find(name);
    if (it == domains_.end()) return NotFoundError("no domain " + name);
    ++destroyed_;
    it->second.state = DomainState::kShutOff;
    it->second.reason = DomainReason::kDestroyed;
    return OkStatus();
  }
  Status Undefine(const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    if (domains_.erase(name) == 0) return NotFoundError("no domain " + name);
    ++undefined_;
    return OkStatus();
  }
  StatusOr<domain::FileInfo> StatFile(const std::string&) override { return domain::FileInfo{}; }
  Status CreateDiskImage(const std::string&, domain::DiskImageFormat, uint64_t) override {
    return OkStatus();
  }
  Status DeleteDiskImage(const std::string&) override { return OkStatus(); }
  void SetEventHandler(std::function<void(const domain::DomainEvent&)>) override {}
  Status Ping() override { return OkStatus(); }

 private:
  std::mutex mu_;
  std::map<std::string, domain::DomainInfo> domains_;
  int destroyed_ = 0;
  int undefined_ = 0;
};

constexpr const char* kNode = "node-a";

class AgentFencingIT : public ::testing::Test {
 protected:
  void SetUp() override {
    api_ = kube::testing::ClientFromEnv();
    ASSERT_NE(api_, nullptr);
    ns_ = kube::testing::CreateTestNamespace(*api_, "agent-fencing");
    config_.node_name = kNode;
    config_.migration_address = "10.0.0.11";
    events_ = std::make_unique<kube::EventRecorder>(*api_, "ferry-handler", kNode);
    host_ = std::make_unique<HostFactsCache>(node_);
    auto selected = [&](const char* label) {
      kube::InformerOptions o;
      o.label_selector = std::string(label) + "=" + kNode;
      o.ns = ns_;
      return o;
    };
    vms_ = std::make_unique<kube::Informer>(*api_, kube::resources::kVirtualMachines,
                                            selected(api::kLabelNode));
    source_ = std::make_unique<kube::Informer>(*api_, kube::resources::kVirtualMachineMigrations,
                                               selected(api::kLabelSourceNode));
    target_ = std::make_unique<kube::Informer>(*api_, kube::resources::kVirtualMachineMigrations,
                                               selected(api::kLabelTargetNode));
    hypervisors_ = std::make_unique<kube::Informer>(*api_, kHypervisors);
    source_->AddIndex(kIndexVm, VmmIndexByVm);
    target_->AddIndex(kIndexVm, VmmIndexByVm);
    for (kube::Informer* i : {vms_.get(), source_.get(), target_.get(), hypervisors_.get()}) {
      threads_.emplace_back([i](std::stop_token st) { i->Run(st); });
      ASSERT_TRUE(i->WaitForSync({}, 20s));
    }
    ctx_ = std::make_unique<AgentContext>(AgentContext{config_,
                                                       *api_,
                                                       node_,
                                                       hv_,
                                                       nullptr,
                                                       *events_,
                                                       RealClock::Get(),
                                                       *host_,
                                                       vms_.get(),
                                                       source_.get(),
                                                       target_.get(),
                                                       hypervisors_.get(),
                                                       {},
                                                       {}});
  }
  void TearDown() override {
    for (auto& t : threads_) t.request_stop();
    threads_.clear();
  }

  // A VM and a VMM of it from `source` to `target`, the status written as the operator and
  // the target would have it at `phase`.
  api::VirtualMachineMigration MakeVmm(const std::string& source, const std::string& target,
                                       MigrationPhase phase) {
    auto vm = api_->Create(kube::resources::kVirtualMachines, ns_,
                           kube::testing::VirtualMachine(ns_, "web", 1, "128Mi"));
    EXPECT_TRUE(vm.ok()) << vm.status();
    vm_uid_ = vm.ok() ? vm->value("/metadata/uid"_json_pointer, std::string()) : "";
    Json m = {{"apiVersion", "ferry.dev/v1alpha1"},
              {"kind", "VirtualMachineMigration"},
              {"metadata",
               {{"name", "move-web"},
                {"namespace", ns_},
                {"labels",
                 {{api::kLabelSourceNode, source},
                  {api::kLabelTargetNode, target},
                  {api::kLabelVm, "web"}}}}},
              {"spec", {{"vmName", "web"}}}};
    auto created = api_->Create(kube::resources::kVirtualMachineMigrations, ns_, m);
    EXPECT_TRUE(created.ok()) << created.status();
    auto w = Mutate([&](api::VirtualMachineMigration& cur) {
      cur.status.phase = phase;
      cur.status.source_node = source;
      cur.status.target_node = target;
      cur.status.target_uri = "qemu+tcp://10.0.0.12/system";
      api::EffectiveMigrationOptions e;
      e.mode = api::MigrationMode::kPreCopy;
      cur.status.effective_options = e;
      return true;
    });
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? *w : api::VirtualMachineMigration{};
  }

  StatusOr<api::VirtualMachineMigration> Mutate(
      const std::function<bool(api::VirtualMachineMigration&)>& fn) {
    return MutateTyped<api::VirtualMachineMigration>(
        *api_, kube::resources::kVirtualMachineMigrations, ns_, "move-web", fn, true);
  }
  api::VirtualMachineMigration Read() {
    auto o = api_->Get(kube::resources::kVirtualMachineMigrations, ns_, "move-web");
    EXPECT_TRUE(o.ok()) << o.status();
    auto m = api::VirtualMachineMigration::FromJson(o.ok() ? *o : Json::object());
    return m.ok() ? *m : api::VirtualMachineMigration{};
  }
  void SetCondition(const char* type, bool status, const std::string& reason) {
    auto w = Mutate([&](api::VirtualMachineMigration& cur) {
      api::Condition c;
      c.type = type;
      c.status = status ? api::ConditionStatus::kTrue : api::ConditionStatus::kFalse;
      c.reason = reason;
      return api::SetCondition(&cur.status.conditions, c, std::chrono::system_clock::now());
    });
    ASSERT_TRUE(w.ok()) << w.status();
  }
  static std::string Cond(const api::VirtualMachineMigration& m, const char* type) {
    const api::Condition* c = api::FindCondition(m.status.conditions, type);
    if (c == nullptr) return "-";
    return std::string(c->status == api::ConditionStatus::kTrue ? "True/" : "False/") + c->reason;
  }
  // Waits until the target informer shows the VMM with `pred`.
  bool CachedTarget(const std::function<bool(const api::VirtualMachineMigration&)>& pred) {
    return Eventually([&] {
      auto o = target_->store().Get(ns_ + "/move-web");
      if (!o) return false;
      auto m = api::VirtualMachineMigration::FromJson(*o);
      return m.ok() && pred(*m);
    });
  }
  domain::DomainInfo Domain(DomainState s, DomainReason r, const std::string& migration_uid) {
    domain::DomainInfo d;
    d.name = ns_ + "_web";
    d.uuid = vm_uid_;
    d.state = s;
    d.reason = r;
    d.persistent = true;
    d.mark = domain::FerryMark{ns_, "web", vm_uid_, "h", migration_uid};
    return d;
  }
  // A source job that fails and leaves the source paused (libvirt does so when the target may
  // already run the guest).
  void FailLeavingThePausedSource() {
    hv_.script = migration::testing::HotScript(3);
    hv_.migrate_error = Status(StatusCode::kUnknown,
                               "virDomainMigrateToURI3: operation failed: job 'migration out' "
                               "failed: unexpectedly failed");
    hv_.leave_source_paused = true;
  }

  std::unique_ptr<kube::RestApiClient> api_;
  std::string ns_;
  std::string vm_uid_;
  AgentConfig config_;
  FakeNode node_;
  migration::testing::FakeHypervisor hv_;
  std::unique_ptr<kube::EventRecorder> events_;
  std::unique_ptr<HostFactsCache> host_;
  std::unique_ptr<kube::Informer> vms_, source_, target_, hypervisors_;
  std::vector<std::jthread> threads_;
  std::unique_ptr<AgentContext> ctx_;
};

// ADR 6 §2: the failed job left the source paused; it is not resumed before the target said it
// has no copy (before: resumed at once). Then: resumed, Failed, SourcePaused resolved.
TEST_F(AgentFencingIT, APausedSourceWaitsForTheTargetsWordThenResumes) {
  FailLeavingThePausedSource();
  const auto vmm = MakeVmm(kNode, "node-b", MigrationPhase::kTargetReady);
  MigrationRunner runner(*ctx_, vmm, MigrationRunner::Start::kFresh);
  runner.Launch();
  ASSERT_TRUE(Eventually(
      [&] { return Cond(Read(), api::kConditionSourcePaused) == "True/WaitingForTarget"; }));
  EXPECT_EQ(hv_.mark_at_migrate, vmm.metadata.uid);  // the target's domain carries the uid
  std::this_thread::sleep_for(1500ms);               // no word yet: it keeps waiting
  auto m = Read();
  EXPECT_EQ(m.status.phase, MigrationPhase::kRunning);
  EXPECT_EQ(hv_.domain_resume_calls, 0);

  SetCondition(api::kConditionTargetDomain, false, api::kReasonTargetDomainRemoved);
  ASSERT_TRUE(Eventually([&] { return Read().status.phase == MigrationPhase::kFailed; }));
  m = Read();
  EXPECT_EQ(hv_.domain_resume_calls, 1);
  EXPECT_EQ(Cond(m, api::kConditionSourcePaused), "False/Resolved");
  EXPECT_NE(m.status.message.find("resumed"), std::string::npos) << m.status.message;
  EXPECT_EQ(node_.destroyed(), 0);
}

// ...and when the target says its copy runs, the paused source copy is destroyed (as libvirt's
// confirm step would have) and the migration Succeeded.
TEST_F(AgentFencingIT, APausedSourceIsDestroyedWhenTheTargetRunsTheGuest) {
  FailLeavingThePausedSource();
  const auto vmm = MakeVmm(kNode, "node-b", MigrationPhase::kTargetReady);
  node_.Put(Domain(DomainState::kPaused, DomainReason::kMigration, vmm.metadata.uid));
  MigrationRunner runner(*ctx_, vmm, MigrationRunner::Start::kFresh);
  runner.Launch();
  ASSERT_TRUE(Eventually(
      [&] { return Cond(Read(), api::kConditionSourcePaused) == "True/WaitingForTarget"; }));
  SetCondition(api::kConditionTargetDomain, true, api::kReasonTargetDomainIncoming);
  std::this_thread::sleep_for(1500ms);  // Incoming: still waiting
  EXPECT_EQ(Read().status.phase, MigrationPhase::kRunning);
  SetCondition(api::kConditionTargetDomain, true, api::kReasonTargetDomainRunning);
  ASSERT_TRUE(Eventually([&] { return Read().status.phase == MigrationPhase::kSucceeded; }));
  EXPECT_EQ(hv_.domain_resume_calls, 0);
  EXPECT_EQ(node_.undefined(), 1);
  EXPECT_FALSE(node_.Find(ns_ + "_web").has_value());
  EXPECT_EQ(Cond(Read(), api::kConditionSourcePaused), "False/Resolved");
}

// ADR 6 §1: the target removes only the domain carrying the failed VMM's uid, records
// Removed durably, and a restarted controller never cleans up again — not even a later
// migration's paused incoming domain of the same name (before: by name, remembered in memory).
TEST_F(AgentFencingIT, TargetCleansOnlyItsMigrationsDomainAndOnlyOnce) {
  const auto vmm = MakeVmm("node-b", kNode, MigrationPhase::kFailed);
  node_.Put(Domain(DomainState::kPaused, DomainReason::kMigration, vmm.metadata.uid));
  ASSERT_TRUE(
      CachedTarget([](const auto& m) { return m.status.phase == MigrationPhase::kFailed; }));
  {
    TargetController ctl(*ctx_);
    const auto r = ctl.Reconcile(ns_ + "/move-web", {});
    EXPECT_TRUE(r.status().ok()) << r.status();
  }
  EXPECT_EQ(node_.undefined(), 1);
  EXPECT_EQ(Cond(Read(), api::kConditionTargetDomain), "False/Removed");

  // A later migration's incoming domain of the same name arrives; the agent restarts.
  node_.Put(Domain(DomainState::kPaused, DomainReason::kMigration, "a-later-vmm-uid"));
  ASSERT_TRUE(CachedTarget(
      [](const auto& m) { return Cond(m, api::kConditionTargetDomain) == "False/Removed"; }));
  TargetController restarted(*ctx_);
  const auto r = restarted.Reconcile(ns_ + "/move-web", {});
  EXPECT_TRUE(r.status().ok()) << r.status();
  EXPECT_EQ(node_.undefined(), 1);
  EXPECT_EQ(node_.destroyed(), 1);
  EXPECT_TRUE(node_.Find(ns_ + "_web").has_value());
}

// ADR 6 §3: under GuestLocationUnknown, the target whose pre-copy domain of this VMM runs ends
// the migration Succeeded (TargetRunsGuest); a running domain of another migration would not.
TEST_F(AgentFencingIT, UnknownMigrationEndsWhereTheTargetRunsTheGuest) {
  const auto vmm = MakeVmm("node-b", kNode, MigrationPhase::kRunning);
  node_.Put(Domain(DomainState::kRunning, DomainReason::kMigrated, "another-vmm-uid"));
  SetCondition(api::kConditionGuestLocationUnknown, true, "HandlerLost");
  ASSERT_TRUE(CachedTarget([](const auto& m) {
    return Cond(m, api::kConditionGuestLocationUnknown) == "True/HandlerLost";
  }));
  TargetController ctl(*ctx_);
  auto r = ctl.Reconcile(ns_ + "/move-web", {});
  EXPECT_TRUE(r.status().ok()) << r.status();
  auto m = Read();
  EXPECT_EQ(m.status.phase, MigrationPhase::kRunning);
  EXPECT_EQ(Cond(m, api::kConditionTargetDomain), "False/Absent");

  node_.Put(Domain(DomainState::kRunning, DomainReason::kMigrated, vmm.metadata.uid));
  ASSERT_TRUE(CachedTarget([](const auto& cached) {
    return Cond(cached, api::kConditionTargetDomain) == "False/Absent";
  }));
  r = ctl.Reconcile(ns_ + "/move-web", {});
  EXPECT_TRUE(r.status().ok()) << r.status();
  m = Read();
  EXPECT_EQ(m.status.phase, MigrationPhase::kSucceeded);
  EXPECT_EQ(m.status.reason, api::kReasonTargetRunsGuest);
  EXPECT_EQ(Cond(m, api::kConditionTargetDomain), "True/Running");
  EXPECT_EQ(node_.destroyed(), 0);
}

}  // namespace
}  // namespace ferry::agent

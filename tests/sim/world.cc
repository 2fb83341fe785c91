#include "world.h"

#include <algorithm>
#include <cstdio>

#include "api/group.h"
#include "api/time.h"
#include "invariants.h"

namespace ferry::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr size_t kTraceTail = 400;
const kube::ResourceType kHv{api::kGroup, api::kVersion, api::kHypervisors, "Hypervisor", false};
constexpr const char* kNs = "default";

std::string Secs(Clock::Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fs", std::chrono::duration<double>(d).count());
  return buf;
}

}  // namespace

op::OperatorOptions WorldOptions::DefaultOperatorOptions() {
  op::OperatorOptions o;
  o.workers = 1;
  return o;
}

World::World(WorldOptions options)
    : options_(std::move(options)),
      rng_(options_.seed),
      user_clock_(time_),
      server_(user_clock_),
      user_(server_, "user"),
      chaos_(options_.chaos) {
  Setup();
}

World::~World() {
  // Processes first (their controllers may hold references into the server).
  agents_.clear();
  operators_.clear();
}

Clock::Duration World::Between(Clock::Duration lo, Clock::Duration hi) {
  const auto l = std::chrono::duration_cast<milliseconds>(lo).count();
  const auto h = std::chrono::duration_cast<milliseconds>(hi).count();
  return milliseconds(std::uniform_int_distribution<int64_t>(l, h)(rng_));
}

void World::Setup() {
  using namespace kube::resources;
  server_.Register(kVirtualMachines, true);
  server_.Register(kVirtualMachineMigrations, true);
  server_.Register(kServerGroups, true);
  server_.Register(kMigrationPolicies, true);
  server_.Register(kNodes, true);
  server_.Register(kHv, true);
  server_.Register(kLeases, false);
  server_.Register(kEvents, false);
  server_.Register(kNamespaces, false);
  for (const char* ns : {kNs, "ferry-system"}) {
    (void)user_.Create(kNamespaces, "",
                       {{"apiVersion", "v1"},
                        {"kind", "Namespace"},
                        {"metadata", {{"name", ns}, {"labels", {{"kubernetes.io/metadata.name", ns}}}}}});
  }
  (void)user_.Create(kServerGroups, kNs,
                     {{"apiVersion", api::kApiVersion},
                      {"kind", "ServerGroup"},
                      {"metadata", {{"name", "web"}, {"namespace", kNs}}},
                      {"spec", {{"policy", "AntiAffinity"}, {"bestEffort", false}, {"maxPerNode", 1}}}});
  (void)user_.Create(kServerGroups, kNs,
                     {{"apiVersion", api::kApiVersion},
                      {"kind", "ServerGroup"},
                      {"metadata", {{"name", "db"}, {"namespace", kNs}}},
                      {"spec", {{"policy", "Affinity"}, {"bestEffort", false}}}});
  AgentKnobs knobs;
  knobs.draw_job = [this](Job j) { return DrawJob(std::move(j)); };
  for (const std::string& n : options_.nodes) {
    (void)user_.Create(kNodes, "",
                       {{"apiVersion", "v1"},
                        {"kind", "Node"},
                        {"metadata", {{"name", n}, {"labels", {{"kubernetes.io/hostname", n}}}}},
                        {"spec", Json::object()}});
    const std::string now = api::FormatTime(time_.WallNow());
    (void)user_.Patch(kNodes, "", n,
                      {{"status",
                        {{"conditions",
                          {{{"type", "Ready"},
                            {"status", "True"},
                            {"reason", "KubeletReady"},
                            {"lastHeartbeatTime", now},
                            {"lastTransitionTime", now}}}}}}},
                      kube::PatchType::kMerge, true);
    libvirt_.AddNode(n);
    agents_[n] = std::make_unique<SimAgent>(n, server_, time_, libvirt_, knobs);
  }
  for (int i = 0; i < options_.operators; ++i) {
    operators_.push_back(std::make_unique<SimOperator>("operator-" + std::to_string(i), server_,
                                                       time_, options_.operator_options));
  }
  for (auto& o : operators_) procs_.push_back(Proc{o.get(), o.get()});
  for (auto& [n, a] : agents_) {
    procs_.push_back(Proc{a.get(), nullptr});
    if (options_.max_skew > Clock::Duration::zero() && Uniform() < 0.5) {
      const auto skew = Between(-options_.max_skew, options_.max_skew);
      a->clock().set_skew(skew);
      Note("skew " + n + " " + Secs(skew));
    }
    a->Start();
  }
  for (size_t i = 0; i < procs_.size(); ++i) procs_[i].p->api().set_faults(FaultsFor(i));
}

FaultPolicy World::FaultsFor(size_t i) {
  return [this, i](const CallInfo& c) -> Fault {
    Proc& pr = procs_[i];
    if (time_.Now() < pr.partitioned_until) return Fault::kUnavailable;
    if (pr.op != nullptr && c.write && c.resource != "leases") {
      // docs/adr/0006 §4: a deciding write only from a replica whose lease is valid by its
      // own clock — and so by everyone's: nobody else may have taken it over.
      const SimOperator& op = *pr.op;
      const auto valid_until = op.last_renew() + op.election().lease_duration;
      auto lease = server_.Get(kube::resources::kLeases, "ferry-system", "ferry-operator");
      const std::string holder =
          lease.ok() ? (*lease)["spec"].value("holderIdentity", "") : std::string();
      if (!op.Leading() || time_.Now() >= valid_until || holder != op.name()) {
        Fail("lease", op.name() + " wrote (" + c.verb + " " + c.resource + ") " +
                          Secs(time_.Now() - op.last_renew()) +
                          " after its last renewal; the lease is held by '" + holder + "'");
      }
    }
    if (!chaos_ || settling_) return Fault::kNone;
    const double u = Uniform();
    if (c.write && u < options_.lose_response) return Fault::kLoseResponse;
    if (u < options_.lose_response + options_.fail_call) return Fault::kUnavailable;
    return Fault::kNone;
  };
}

Job World::DrawJob(Job j) {
  j.length = Between(milliseconds(500), seconds(20));
  const double u = chaos_ && !settling_ ? Uniform() : 1.0;
  if (u < 0.08) {
    j.end = Job::End::kFailsBeforeSwitch;
  } else if (u < 0.14) {
    j.end = Job::End::kBreaksAtSwitch;
    j.target_took_over = Uniform() < 0.5;
  }
  return j;
}

void World::Note(const std::string& line) {
  trace_.push_back("[" + Secs(time_.Elapsed()) + " #" + std::to_string(steps_) + "] " + line);
  if (!options_.full_trace && trace_.size() > kTraceTail) trace_.pop_front();
}

void World::NoteChanges() {
  const auto& log = server_.log();
  auto it = std::upper_bound(log.begin(), log.end(), noted_rv_,
                             [](int64_t v, const Change& c) { return v < c.rv; });
  for (; it != log.end(); ++it) {
    const Change& c = *it;
    noted_rv_ = c.rv;
    const bool vm = c.resource == kube::resources::kVirtualMachines.resource;
    const bool vmm = c.resource == kube::resources::kVirtualMachineMigrations.resource;
    if (!vm && !vmm) continue;
    auto field = [](const Json& o, const char* a, const char* b) -> std::string {
      if (!o.is_object() || !o.contains(a) || !o[a].is_object()) return "";
      return o[a].value(b, "");
    };
    const std::string name = field(c.object, "metadata", "name");
    std::string what;
    auto diff = [&](const char* a, const char* b, const char* label) {
      const std::string before = field(c.previous, a, b), after = field(c.object, a, b);
      if (before != after) what += std::string(" ") + label + " " + before + "->" + after;
    };
    if (c.type == kube::WatchEvent::Type::kDeleted) {
      what = " deleted";
    } else {
      if (c.type == kube::WatchEvent::Type::kAdded) what = " created";
      diff("status", "phase", "phase");
      diff("status", "nodeName", "node");
      diff("status", "reason", "reason");
      if (vm) diff("status", "activeMigration", "active");
      if (c.object["metadata"].contains("deletionTimestamp") &&
          !c.previous.is_null() && !c.previous["metadata"].contains("deletionTimestamp"))
        what += " deleting";
    }
    if (what.empty()) continue;
    std::string extra;
    if (vmm && field(c.object, "status", "phase") != field(c.previous, "status", "phase"))
      extra = " (" + field(c.object, "status", "sourceNode") + "->" +
              field(c.object, "status", "targetNode") + ") " + field(c.object, "status", "message");
    Note("  " + std::string(vm ? "vm " : "vmm ") + name + what + extra);
  }
}

std::vector<std::string> World::Trace() const { return {trace_.begin(), trace_.end()}; }

bool World::Active(const Proc& pr) const {
  return !pr.down && time_.Now() >= pr.paused_until;
}

void World::Advance(Clock::Duration d) {
  time_.Advance(d);
  libvirt_.Progress(time_.Now());
  for (auto& pr : procs_) {
    if (pr.down && time_.Now() >= pr.down_until) {
      pr.down = false;
      Note("restart " + pr.p->name());
      if (pr.op == nullptr) pr.p->Start();  // an operator starts work when it leads again
    }
    pr.p->ProcessDue();
  }
  for (auto it = libvirtd_down_until_.begin(); it != libvirtd_down_until_.end();) {
    if (time_.Now() < it->second) {
      ++it;
      continue;
    }
    libvirt_.SetUp(it->first, true);
    Note("libvirtd up on " + it->first);
    it = libvirtd_down_until_.erase(it);
  }
}

bool World::Step() {
  if (violation_) return false;
  std::vector<Action> acts;
  for (auto& pr : procs_) {
    if (!Active(pr)) continue;
    SimProcess* p = pr.p;
    if (pr.op != nullptr && pr.op->ElectionDue()) {
      SimOperator* op = pr.op;
      acts.push_back({5, [this, op] {
                        const bool was = op->Leading();
                        op->ElectionStep();
                        if (was != op->Leading())
                          Note(op->name() + (op->Leading() ? " leads" : " lost the lease"));
                      }});
    }
    if (time_.Now() >= pr.partitioned_until) {
      for (InformerDriver* d : p->PendingInformers()) {
        acts.push_back({3, [this, p, d] {
                          Note(p->name() + " watch " + d->resource());
                          d->Step();
                        }});
      }
    }
    for (controller::Controller* c : p->ReadyControllers()) {
      acts.push_back({5, [this, p, c] {
                        Note(p->name() + " reconcile " + c->name());
                        c->ProcessNextItem();
                        for (const std::string& e : p->events().Take()) Note("  event " + e);
                      }});
    }
  }
  const bool busy = !acts.empty();
  // kube-controller-manager's garbage collector: part of the control plane, always running.
  acts.push_back({0.2, [this] {
                    if (server_.CollectGarbage()) Note("garbage collector deleted dependents");
                  }});
  acts.push_back({1, [this, busy] {
                    static const Clock::Duration kBusy[] = {milliseconds(1), milliseconds(10),
                                                            milliseconds(100), seconds(1)};
                    Advance(busy ? kBusy[std::uniform_int_distribution<int>(0, 3)(rng_)]
                                 : milliseconds(500));
                  }});
  if (chaos_ && !settling_) Chaos(acts);
  double total = 0;
  for (const auto& a : acts) total += a.weight;
  double r = std::uniform_real_distribution<double>(0, total)(rng_);
  size_t pick = acts.size() - 1;
  for (size_t i = 0; i < acts.size(); ++i) {
    if (r < acts[i].weight) {
      pick = i;
      break;
    }
    r -= acts[i].weight;
  }
  acts[pick].run();
  NoteChanges();
  // etcd compacts: keep the last 2,000 changes (a watch further behind relists on 410).
  if (server_.current_rv() - server_.compacted_rv() > 4000) server_.Compact(server_.current_rv() - 2000);
  ++steps_;
  Check();
  return !violation_;
}

bool World::RunUntil(const std::function<bool()>& done, Clock::Duration limit) {
  const auto end = time_.Now() + limit;
  while (time_.Now() < end) {
    if (!Step()) return false;
    if (done()) return true;
  }
  return done();
}

bool World::Settle(Clock::Duration settle) {
  settling_ = true;
  Note("settle: faults end, no more user actions");
  for (auto& pr : procs_) {
    pr.paused_until = pr.partitioned_until = time_.Now();
    if (pr.down) pr.down_until = time_.Now();
  }
  for (auto& [n, until] : libvirtd_down_until_) until = time_.Now();
  Advance(milliseconds(1));
  RunUntil([] { return false; }, settle);
  if (violation_) return false;
  CheckAtRest();
  return !violation_;
}

void World::Fail(const std::string& rule, const std::string& message) {
  if (violation_) return;
  violation_ = Violation{rule, message};
  Note("VIOLATION " + rule + ": " + message);
}

void World::Check() {
  if (server_.current_rv() == checked_rv_ && libvirt_.generation() == checked_libvirt_) return;
  checked_rv_ = server_.current_rv();
  checked_libvirt_ = libvirt_.generation();
  for (const Finding& f : CheckAlways(server_, libvirt_, options_.operator_options.limits)) {
    Fail(f.rule, f.message);
    return;
  }
}

void World::CheckAtRest() {
  for (const Finding& f : sim::CheckAtRest(server_, libvirt_)) {
    Fail(f.rule, f.message);
    return;
  }
}

}  // namespace ferry::sim

#include "sim_agent.h"

#include "api/group.h"
#include "api/labels.h"
#include "api/time.h"
#include "kube/store.h"

namespace ferry::sim {
namespace {

using controller::ReconcileResult;
using std::chrono::milliseconds;
using std::chrono::seconds;

const kube::ResourceType kHv{api::kGroup, api::kVersion, api::kHypervisors, "Hypervisor", false};

// Names of docs/adr/0006 §2-3 (the conditions each side writes about the guest's location).
constexpr const char* kSourcePaused = "SourcePaused";
constexpr const char* kTargetDomain = "TargetDomain";
constexpr const char* kGuestLocationUnknown = "GuestLocationUnknown";

const Json& Meta(const Json& o) { return o.at("metadata"); }
std::string Uid(const Json& o) { return Meta(o).value("uid", ""); }
bool Deleting(const Json& o) { return Meta(o).contains("deletionTimestamp"); }
Json Status(const Json& o) { return o.value("status", Json::object()); }
std::string Phase(const Json& o) { return Status(o).value("phase", ""); }
bool HasFinalizer(const Json& o, const std::string& f) {
  for (const auto& x : Meta(o).value("finalizers", Json::array()))
    if (x == f) return true;
  return false;
}
const Json* Cond(const Json& status, const std::string& type) {
  if (!status.contains("conditions")) return nullptr;
  for (const auto& c : status["conditions"])
    if (c.value("type", "") == type) return &c;
  return nullptr;
}
bool CondTrue(const Json& o, const char* type) {
  const Json s = Status(o);
  const Json* c = Cond(s, type);
  return c != nullptr && c->value("status", "") == "True";
}
void SetCond(Json& status, const std::string& type, bool value, const std::string& reason,
             const std::string& message, const std::string& now) {
  if (!status.contains("conditions")) status["conditions"] = Json::array();
  for (auto& c : status["conditions"]) {
    if (c.value("type", "") != type) continue;
    const std::string st = value ? "True" : "False";
    if (c.value("status", "") != st) c["lastTransitionTime"] = now;
    c["status"] = st;
    c["reason"] = reason;
    c["message"] = message;
    return;
  }
  status["conditions"].push_back({{"type", type},
                                  {"status", value ? "True" : "False"},
                                  {"reason", reason},
                                  {"message", message},
                                  {"lastTransitionTime", now}});
}
std::string VmNameOfVmm(const Json& vmm) {
  // The label may be hashed (a long name, ADR 6 §8): the full name is in the annotation.
  std::optional<std::string> n = api::FullLabelValue(vmm, api::kLabelVm);
  return n && !n->empty() ? *n : vmm.value("spec", Json::object()).value("vmName", "");
}
std::string DomainName(const std::string& ns, const std::string& vm) { return ns + "_" + vm; }

}  // namespace

SimAgent::SimAgent(std::string node, SimApiServer& server, const SimTime& time,
                   FakeLibvirt& libvirt, AgentKnobs knobs)
    : SimProcess("handler/" + node, server, time),
      node_(std::move(node)),
      libvirt_(libvirt),
      knobs_(std::move(knobs)) {}

SimAgent::~SimAgent() { Crash(); }

void SimAgent::Build(manager::Manager& mgr) {
  auto selected = [&](const char* label) {
    kube::InformerOptions o;
    o.label_selector = std::string(label) + "=" + node_;
    return o;
  };
  vms_ = &mgr.SharedInformer(kube::resources::kVirtualMachines, selected(api::kLabelNode));
  source_ = &mgr.SharedInformer(kube::resources::kVirtualMachineMigrations,
                                selected(api::kLabelSourceNode));
  target_ = &mgr.SharedInformer(kube::resources::kVirtualMachineMigrations,
                                selected(api::kLabelTargetNode));
  auto vm_of = [](const Json& vmm) {
    return std::vector<std::string>{Meta(vmm).value("namespace", "") + "/" + VmNameOfVmm(vmm)};
  };
  auto add = [&](const char* name, controller::ReconcileFunc fn,
                 std::vector<manager::Watch> watches) {
    manager::ControllerSpec c;
    c.name = name;
    c.reconcile = std::move(fn);
    c.watches = std::move(watches);
    c.on_error = [](const std::string&, const ferry::Status&) {};
    c.on_terminal_error = [](const std::string&, const ferry::Status&) {};
    auto ctl = mgr.AddController(std::move(c));
    if (!ctl.ok()) throw std::runtime_error(ctl.status().ToString());
    return *ctl;
  };
  add("vm", [this](const std::string& k, std::stop_token) { return ReconcileVm(k); },
      {manager::For(*vms_), manager::Watches(*source_, vm_of), manager::Watches(*target_, vm_of)});
  add("target", [this](const std::string& k, std::stop_token) { return ReconcileTarget(k); },
      {manager::For(*target_)});
  add("source", [this](const std::string& k, std::stop_token) { return ReconcileSource(k); },
      {manager::For(*source_)});
  controller::Controller* report =
      add("report", [this](const std::string&, std::stop_token) { return Report(); }, {});
  report->Enqueue(node_);
}

// ---- vm ----------------------------------------------------------------------------------

ReconcileResult SimAgent::ReconcileVm(const std::string& key) {
  kube::ObjectPtr obj = vms_->store().Get(key);
  if (!obj) return ReconcileResult::Success();  // moved away or deleted: never destroy for that
  const Json& vm = *obj;
  if (!libvirt_.Up(node_)) return ReconcileResult::RequeueAfter(seconds(2));
  const std::string name = DomainName(Meta(vm).value("namespace", ""), Meta(vm).value("name", ""));
  const std::string uid = Uid(vm);
  std::optional<Domain> dom = libvirt_.Lookup(node_, name);
  const std::string now = api::FormatTime(clock().WallNow());

  if (Deleting(vm)) {
    if (dom && dom->vm_uid == uid && !libvirt_.Destroy(node_, name))
      return ReconcileResult::RequeueAfter(seconds(1));
    if (!HasFinalizer(vm, api::kDomainFinalizer)) return ReconcileResult::Success();
    Json next = vm;
    auto& fins = next["metadata"]["finalizers"];
    fins.erase(std::remove(fins.begin(), fins.end(), Json(api::kDomainFinalizer)), fins.end());
    auto w = api().Update(kube::resources::kVirtualMachines, next);
    return w.ok() || w.status().code() == StatusCode::kNotFound
               ? ReconcileResult::Success()
               : ReconcileResult::Error(w.status());
  }
  const Json status = Status(vm);
  if (status.value("nodeName", "") != node_) return ReconcileResult::Success();
  if (!HasFinalizer(vm, api::kDomainFinalizer)) {
    Json next = vm;
    next["metadata"]["finalizers"].push_back(api::kDomainFinalizer);
    auto w = api().Update(kube::resources::kVirtualMachines, next);
    return w.ok() ? ReconcileResult::Success() : ReconcileResult::Error(w.status());
  }
  const bool want = vm.value("spec", Json::object()).value("running", false);
  const std::string phase = status.value("phase", "");
  const int64_t generation = Meta(vm).value("generation", int64_t{0});
  const Json* domain_cond = Cond(status, api::kConditionDomain);
  // The handler last acted on an older spec (or never did): a changed spec may start again.
  const bool spec_changed =
      domain_cond == nullptr || domain_cond->value("observedGeneration", int64_t{0}) < generation;
  const bool starting = phase.empty() || phase == "Pending" || phase == "Scheduled" ||
                        phase == "Starting" || phase == "Migrating";
  // The domain is a migration's while this node is the source of one in TargetReady/Running;
  // nothing is started while a migration of the VM is open or its outcome unknown (ADR 6 §2).
  bool migrating_here = false;
  bool moved_away = false;  // a migration from here succeeded: the domain left with it
  bool outcome_unknown = false;
  const std::string vm_name = Meta(vm).value("name", "");
  for (const std::string& k : source_->store().Keys()) {
    kube::ObjectPtr m = source_->store().Get(k);
    if (!m || VmNameOfVmm(*m) != vm_name) continue;
    const std::string p = Phase(*m);
    if (p == "TargetReady" || p == "Running") migrating_here = true;
    if (p == "Succeeded") moved_away = true;
  }
  for (kube::Informer* inf : {source_, target_}) {
    for (const std::string& k : inf->store().Keys()) {
      kube::ObjectPtr m = inf->store().Get(k);
      if (m && VmNameOfVmm(*m) == vm_name &&
          (CondTrue(*m, kGuestLocationUnknown) || CondTrue(*m, kSourcePaused)))
        outcome_unknown = true;
    }
  }
  const bool blocked = !status.value("activeMigration", "").empty() || outcome_unknown;
  Json next_status = status;
  auto set_phase = [&](const std::string& p) { next_status["phase"] = p; };
  auto acted = [&](bool up, const std::string& reason) {
    SetCond(next_status, api::kConditionDomain, up, reason, "", now);
    for (auto& c : next_status["conditions"])
      if (c.value("type", "") == api::kConditionDomain) c["observedGeneration"] = generation;
  };

  if (dom && dom->vm_uid != uid) {
    set_phase("Failed");
    SetCond(next_status, api::kConditionDomain, false, "DomainNameTaken",
            "a domain of this name with another UUID exists", now);
  } else if (dom) {
    switch (dom->state) {
      case DomainState::kRunning:
        if (migrating_here) break;
        if (!want) {
          if (!libvirt_.Shutdown(node_, name)) return ReconcileResult::RequeueAfter(seconds(1));
          set_phase("Stopped");
          acted(false, "Stopped");
        } else if (phase != "Running") {
          set_phase("Running");
          next_status["domainUUID"] = uid;
          acted(true, "Running");
        }
        break;
      case DomainState::kShutoff:
        if (!want) {
          if (phase != "Stopped") set_phase("Stopped");
        } else if (!blocked && (starting || spec_changed)) {
          if (!libvirt_.DefineAndStart(node_, *dom))
            return ReconcileResult::RequeueAfter(seconds(1));
          set_phase("Running");
          acted(true, "Running");
        }
        break;
      case DomainState::kPaused:
      case DomainState::kIncoming:
        break;  // a migration's business
    }
  } else if (!migrating_here) {
    const bool never_had = status.value("domainUUID", "").empty();
    if (!want) {
      if (!phase.empty() && phase != "Stopped") set_phase("Stopped");
    } else if (!blocked && (never_had || spec_changed)) {
      Domain d{name, uid, "", DomainState::kRunning};
      if (!libvirt_.DefineAndStart(node_, d)) return ReconcileResult::RequeueAfter(seconds(1));
      set_phase("Running");
      next_status["domainUUID"] = uid;
      acted(true, "Running");
    } else if (!blocked && !moved_away && (phase == "Running" || phase == "Migrating")) {
      // Vanished outside Ferry: never defined again on its own; two copies are worse than
      // none.
      set_phase("Failed");
      SetCond(next_status, api::kConditionDomain, false, "DomainMissing",
              "the domain vanished from " + node_, now);
    }
  }
  if (next_status != status) {
    Json next = vm;
    next["status"] = next_status;
    auto w = api().UpdateStatus(kube::resources::kVirtualMachines, next);
    if (!w.ok() && w.status().code() != StatusCode::kNotFound)
      return ReconcileResult::Error(w.status());
  }
  return ReconcileResult::RequeueAfter(seconds(30));
}

// ---- target ------------------------------------------------------------------------------

ReconcileResult SimAgent::ReconcileTarget(const std::string& key) {
  kube::ObjectPtr obj = target_->store().Get(key);
  if (!obj) return ReconcileResult::Success();
  const Json& vmm = *obj;
  if (!libvirt_.Up(node_)) return ReconcileResult::RequeueAfter(seconds(2));
  const std::string phase = Phase(vmm);
  const std::string vmm_uid = Uid(vmm);
  const std::string name = DomainName(Meta(vmm).value("namespace", ""), VmNameOfVmm(vmm));
  std::optional<Domain> dom = libvirt_.Lookup(node_, name);
  const std::string now = api::FormatTime(clock().WallNow());
  Json status = Status(vmm);
  Json next_status = status;

  if (phase == "Scheduled" || phase == "PreparingTarget") {
    if (Deleting(vmm)) return ReconcileResult::Success();  // the operator cancels it
    if (dom && dom->vmm_uid != vmm_uid) {
      next_status["phase"] = "Failed";
      next_status["reason"] = "TargetCheckFailed";
      next_status["message"] = "a domain named " + name + " already exists on " + node_;
    } else {
      next_status["phase"] = "TargetReady";
      next_status["targetURI"] = "qemu+tls://" + node_ + "/system";
    }
    next_status["phaseTransitionTime"] = now;
  } else {
    const bool ended = phase == "Failed" || phase == "Cancelled";
    const bool asked = CondTrue(vmm, kSourcePaused) || CondTrue(vmm, kGuestLocationUnknown);
    if (!ended && !asked) return ReconcileResult::Success();
    bool present = false;
    std::string reason = "Absent";
    std::string message = "no domain of this migration on " + node_;
    if (dom && dom->vmm_uid == vmm_uid) {
      if (dom->state == DomainState::kRunning) {
        present = true;
        reason = "Running";
        message = "the guest runs on " + node_;
        if (CondTrue(vmm, kGuestLocationUnknown) && phase == "Running") {
          next_status["phase"] = "Succeeded";
          next_status["reason"] = "TargetRunsGuest";
          next_status["message"] = "the guest runs on the target " + node_;
          next_status["phaseTransitionTime"] = now;
        }
      } else if (ended || CondTrue(vmm, kSourcePaused)) {
        // Paused incoming: never ran here; the job that could run it is over.
        if (!libvirt_.Destroy(node_, name)) return ReconcileResult::RequeueAfter(seconds(1));
        reason = "Removed";
        message = "the paused incoming domain was removed from " + node_;
      } else {
        present = true;
        reason = "Incoming";
        message = "an incoming domain waits on " + node_;
      }
    } else if (const Json* c = Cond(status, kTargetDomain);
               c != nullptr && c->value("reason", "") == "Removed") {
      reason = "Removed";
      message = c->value("message", "");
    }
    SetCond(next_status, kTargetDomain, present, reason, message, now);
  }
  if (next_status != status) {
    Json next = vmm;
    next["status"] = next_status;
    auto w = api().UpdateStatus(kube::resources::kVirtualMachineMigrations, next);
    if (!w.ok() && w.status().code() != StatusCode::kNotFound)
      return ReconcileResult::Error(w.status());
  }
  return CondTrue(vmm, kGuestLocationUnknown) ? ReconcileResult::RequeueAfter(seconds(5))
                                             : ReconcileResult::Success();
}

// ---- source ------------------------------------------------------------------------------

ReconcileResult SimAgent::ReconcileSource(const std::string& key) {
  kube::ObjectPtr obj = source_->store().Get(key);
  if (!obj) return ReconcileResult::Success();
  const Json& vmm = *obj;
  const std::string phase = Phase(vmm);
  if (phase != "TargetReady" && phase != "Running") return ReconcileResult::Success();
  if (!libvirt_.Up(node_)) return ReconcileResult::RequeueAfter(seconds(2));
  const std::string vmm_uid = Uid(vmm);
  const std::string name = DomainName(Meta(vmm).value("namespace", ""), VmNameOfVmm(vmm));
  const std::string now = api::FormatTime(clock().WallNow());
  const Json status = Status(vmm);

  auto write = [&](const Json& base, const std::function<void(Json&)>& edit) -> ferry::Status {
    Json next = base;
    Json st = Status(base);
    edit(st);
    next["status"] = st;
    auto w = api().UpdateStatus(kube::resources::kVirtualMachineMigrations, next);
    return w.status();
  };
  auto end = [&](const char* p, const std::string& reason, const std::string& message) {
    ferry::Status st = write(vmm, [&](Json& s) {
      s["phase"] = p;
      s["reason"] = reason;
      s["message"] = message;
      s["phaseTransitionTime"] = now;
      s["completionTime"] = now;
      if (Cond(s, kSourcePaused) != nullptr) SetCond(s, kSourcePaused, false, "Resolved", "", now);
    });
    return st.ok() || st.code() == StatusCode::kNotFound ? ReconcileResult::Success()
                                                         : ReconcileResult::Error(st);
  };

  if (phase == "TargetReady") {
    if (Deleting(vmm)) return end("Cancelled", "Cancelled", "deleted before the migration started");
    Json running = vmm;
    {
      Json st = status;
      st["phase"] = "Running";
      st["phaseTransitionTime"] = now;
      running["status"] = st;
    }
    auto w = api().UpdateStatus(kube::resources::kVirtualMachineMigrations, running);
    if (!w.ok()) return ReconcileResult::Error(w.status());
    std::optional<Domain> dom = libvirt_.Lookup(node_, name);
    Job job;
    job.vmm_uid = vmm_uid;
    job.vm_uid = dom ? dom->vm_uid : "";
    job.source = node_;
    job.target = status.value("targetNode", "");
    job.started = clock().Now();
    job.length = seconds(3);
    if (knobs_.draw_job) job = knobs_.draw_job(job);
    if (!dom || !libvirt_.StartJob(node_, name, job)) {
      Json after = *w;
      ferry::Status st = write(after, [&](Json& s) {
        s["phase"] = "Failed";
        s["reason"] = "MigrationFailed";
        s["message"] = dom ? "libvirt refused to start the job" : "Domain not found: " + name;
        s["phaseTransitionTime"] = now;
        s["completionTime"] = now;
      });
      return st.ok() ? ReconcileResult::Success() : ReconcileResult::Error(st);
    }
    return ReconcileResult::RequeueAfter(milliseconds(500));
  }

  // Running: follow the job, or judge from libvirt after a restart (re-attach).
  switch (libvirt_.JobState(node_, vmm_uid)) {
    case JobResult::kActive:
      if (Deleting(vmm)) libvirt_.CancelJob(node_, vmm_uid);
      return ReconcileResult::RequeueAfter(milliseconds(500));
    case JobResult::kCompleted:
      return end("Succeeded", "Succeeded", "moved to " + status.value("targetNode", ""));
    case JobResult::kFailed:
      return end("Failed", "MigrationFailed", "the job failed before the switch");
    case JobResult::kCancelled:
      return end("Cancelled", "Cancelled", "cancelled before the switch");
    case JobResult::kUnclear:
    case JobResult::kNone:
      break;
  }
  std::optional<Domain> dom = libvirt_.Lookup(node_, name);
  if (!dom) {
    // A persistent source is undefined only by a completed migration.
    return end("Succeeded", "Succeeded", "the domain left " + node_);
  }
  if (dom->state == DomainState::kRunning) {
    return end("Failed", "MigrationFailed", "the job ended; the guest runs on " + node_);
  }
  if (dom->state != DomainState::kPaused) {
    return end("Failed", "MigrationFailed", "the source domain is not running");
  }
  // Paused: the target may run the guest. Ask, and wait for its word (docs/adr/0006 §2).
  if (!CondTrue(vmm, kSourcePaused)) {
    ferry::Status st = write(vmm, [&](Json& s) {
      SetCond(s, kSourcePaused, true, "JobEndedUnclear",
              "the source is paused; waiting for the target's word", now);
    });
    return st.ok() ? ReconcileResult::RequeueAfter(seconds(1)) : ReconcileResult::Error(st);
  }
  const Json* word = Cond(status, kTargetDomain);
  const std::string said = word != nullptr ? word->value("reason", "") : "";
  if (said == "Absent" || said == "Removed") {
    if (!libvirt_.Resume(node_, name)) return ReconcileResult::RequeueAfter(seconds(1));
    return end("Failed", "MigrationFailed", "the target never ran the guest; resumed on " + node_);
  }
  if (said == "Running") {
    if (!libvirt_.Destroy(node_, name)) return ReconcileResult::RequeueAfter(seconds(1));
    return end("Succeeded", "Succeeded", "the target runs the guest; the paused source removed");
  }
  return ReconcileResult::RequeueAfter(seconds(1));
}

// ---- report ------------------------------------------------------------------------------

ReconcileResult SimAgent::Report() {
  const bool up = libvirt_.Up(node_);
  Json status = {{"ready", up},
                 {"lastHeartbeatTime", api::FormatTime(clock().WallNow())},
                 {"cpuModel", "Skylake-Server"},
                 {"libvirtVersion", "9.0.0"},
                 {"qemuVersion", "10.0.2"},
                 {"migrationAddress", node_},
                 {"capacity", {{"cpus", 8}, {"memory", "16Gi"}, {"dedicatedCpus", 0}}},
                 {"allocatable", {{"cpus", 8}, {"memory", "16Gi"}, {"dedicatedCpus", 0}}}};
  auto w = api().Patch(kHv, "", node_, {{"status", status}}, kube::PatchType::kMerge, true);
  if (!w.ok() && w.status().code() == StatusCode::kNotFound) {
    Json hv = {{"apiVersion", api::kApiVersion},
               {"kind", "Hypervisor"},
               {"metadata", {{"name", node_}, {"labels", {{api::kLabelNode, node_}}}}},
               {"spec", Json::object()}};
    if (api().Create(kHv, "", hv).ok())
      w = api().Patch(kHv, "", node_, {{"status", status}}, kube::PatchType::kMerge, true);
  }
  // The heartbeat is a loop, not a backed-off retry: a failed one is tried again shortly.
  return ReconcileResult::RequeueAfter(w.ok() ? seconds(10) : seconds(2));
}

}  // namespace ferry::sim

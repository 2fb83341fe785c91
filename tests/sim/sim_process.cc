#include "sim_process.h"

namespace ferry::sim {
namespace {

Status NotServed() { return FailedPreconditionError("the event sink only takes Events"); }

}  // namespace

StatusOr<Json> EventSink::Get(const kube::ResourceType&, const std::string&, const std::string&) {
  return NotServed();
}
StatusOr<kube::ListResult> EventSink::List(const kube::ResourceType&, const std::string&,
                                           const kube::ListOptions&) {
  return NotServed();
}
StatusOr<Json> EventSink::Create(const kube::ResourceType&, const std::string&, const Json& obj) {
  std::lock_guard l(mu_);
  events_.push_back(obj.value("reason", "") + ": " + obj.value("message", ""));
  return obj;
}
StatusOr<Json> EventSink::Update(const kube::ResourceType&, const Json&) { return NotServed(); }
StatusOr<Json> EventSink::UpdateStatus(const kube::ResourceType&, const Json&) {
  return NotServed();
}
StatusOr<Json> EventSink::Patch(const kube::ResourceType&, const std::string&, const std::string&,
                                const Json&, kube::PatchType, bool) {
  return NotServed();
}
Status EventSink::Delete(const kube::ResourceType&, const std::string&, const std::string&,
                         const kube::DeleteOptions&) {
  return NotServed();
}
Status EventSink::Watch(const kube::ResourceType&, const std::string&, const kube::WatchOptions&,
                        const std::function<bool(const kube::WatchEvent&)>&, std::stop_token) {
  return NotServed();
}
std::vector<std::string> EventSink::Take() {
  std::lock_guard l(mu_);
  std::vector<std::string> out;
  out.swap(events_);
  return out;
}

SimProcess::SimProcess(std::string name, SimApiServer& server, const SimTime& time)
    : name_(std::move(name)),
      server_(server),
      clock_(time),
      api_(std::make_unique<SimClient>(server, name_)) {}

SimProcess::~SimProcess() = default;

void SimProcess::Start() {
  if (up_) return;
  manager::ManagerOptions mo;
  mo.name = name_;
  mo.ops_port = -1;
  mo.clock = &clock_;
  mo.log = [](const std::string&) {};
  mgr_ = std::make_unique<manager::Manager>(*api_, mo);
  Build(*mgr_);
  for (kube::Informer* inf : mgr_->informers()) drivers_.emplace_back(*inf, server_);
  up_ = true;
}

void SimProcess::Crash() {
  if (!up_) return;
  drivers_.clear();
  Teardown();
  mgr_.reset();
  up_ = false;
}

bool SimProcess::Working() const { return up_ && Synced(); }

bool SimProcess::Synced() const {
  for (const auto& d : drivers_) {
    if (!d.Synced()) return false;
  }
  return true;
}

std::vector<InformerDriver*> SimProcess::PendingInformers() {
  std::vector<InformerDriver*> out;
  if (!up_) return out;
  for (auto& d : drivers_) {
    if (d.Pending()) out.push_back(&d);
  }
  return out;
}

std::vector<controller::Controller*> SimProcess::ReadyControllers() {
  std::vector<controller::Controller*> out;
  if (!Working()) return out;
  for (controller::Controller* c : mgr_->controllers()) {
    if (c->queue().Len() > 0) out.push_back(c);
  }
  return out;
}

void SimProcess::ProcessDue() {
  if (!up_) return;
  for (controller::Controller* c : mgr_->controllers()) c->queue().ProcessDue();
}

}  // namespace ferry::sim

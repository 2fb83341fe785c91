// A simulated process (an operator replica or a node's handler): the real controllers of that
// binary on a manager::Manager that never runs threads of its own — the simulation lists and
// feeds its informers (InformerDriver) and calls its controllers' ProcessNextItem one key at a
// time. A crash throws the whole process away (caches, queues, in-memory state) and a restart
// builds it anew from the API server, as a restarted container does.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "informer_driver.h"
#include "manager/manager.h"
#include "sim_api_server.h"
#include "sim_clock.h"

namespace ferry::sim {

// A thread-safe sink for Events (the EventRecorder writes them off its own thread, and
// nothing in the protocol reads them): kept for the trace.
class EventSink final : public kube::ApiClient {
 public:
  StatusOr<Json> Get(const kube::ResourceType&, const std::string&, const std::string&) override;
  StatusOr<kube::ListResult> List(const kube::ResourceType&, const std::string&,
                                  const kube::ListOptions&) override;
  StatusOr<Json> Create(const kube::ResourceType&, const std::string&, const Json& obj) override;
  StatusOr<Json> Update(const kube::ResourceType&, const Json&) override;
  StatusOr<Json> UpdateStatus(const kube::ResourceType&, const Json&) override;
  StatusOr<Json> Patch(const kube::ResourceType&, const std::string&, const std::string&,
                       const Json&, kube::PatchType, bool) override;
  Status Delete(const kube::ResourceType&, const std::string&, const std::string&,
                const kube::DeleteOptions&) override;
  Status Watch(const kube::ResourceType&, const std::string&, const kube::WatchOptions&,
               const std::function<bool(const kube::WatchEvent&)>&, std::stop_token) override;
  // "reason: message" of every Event so far, oldest first; clears the list.
  std::vector<std::string> Take();

 private:
  std::mutex mu_;
  std::vector<std::string> events_;
};

class SimProcess {
 public:
  SimProcess(std::string name, SimApiServer& server, const SimTime& time);
  virtual ~SimProcess();

  const std::string& name() const { return name_; }
  ProcessClock& clock() { return clock_; }
  const ProcessClock& clock() const { return clock_; }
  SimClient& api() { return *api_; }
  EventSink& events() { return events_; }

  bool up() const { return up_; }
  // Builds the process (after a crash: anew). Subclasses register their controllers on the
  // manager in Build().
  void Start();
  // Throws everything away (a crash: nothing is flushed, nothing released).
  virtual void Crash();

  // True while the process may reconcile: up and, for an operator, leading with synced caches.
  virtual bool Working() const;
  // Informer steps that would do something now.
  std::vector<InformerDriver*> PendingInformers();
  // Controllers with a key ready.
  std::vector<controller::Controller*> ReadyControllers();
  // Moves due delayed keys into every queue (after the simulation advanced time).
  void ProcessDue();
  bool Synced() const;

 protected:
  virtual void Build(manager::Manager& mgr) = 0;
  virtual void Teardown() {}
  manager::Manager* mgr() { return mgr_.get(); }
  SimApiServer& server() { return server_; }

 private:
  std::string name_;
  SimApiServer& server_;
  ProcessClock clock_;
  std::unique_ptr<SimClient> api_;
  EventSink events_;
  bool up_ = false;
  std::unique_ptr<manager::Manager> mgr_;
  std::vector<InformerDriver> drivers_;
};

}  // namespace ferry::sim

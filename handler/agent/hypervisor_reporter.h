// The Hypervisor reporter: creates this node's Hypervisor object and keeps its status true
// (hypervisor_status.h): at start-up, every heartbeat interval (lastHeartbeatTime, 10 s),
// and at once when something changes (libvirtd lost or back, a domain started or stopped, a
// VM or migration of this node changed). A report equal to the last one apart from the
// heartbeat is not written before the heartbeat is due. Also sets the agent's gauges (VMs by
// phase, libvirt up, orphan domains).
#pragma once

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <memory>
#include <stop_token>
#include <string>

#include "agent/agent_context.h"
#include "agent/hypervisor_status.h"
#include "api/hypervisor.h"
#include "controller/controller.h"

namespace ferry::agent {

class HypervisorReporter {
 public:
  HypervisorReporter(AgentContext& ctx, prometheus::Registry& registry);
  controller::ReconcileResult Reconcile(const std::string& key, std::stop_token stop);
  // The last libvirtd check (for /readyz).
  Status LibvirtStatus() const;

 private:
  ReportInputs Gather();
  void UpdateMetrics(const ReportInputs& in);

  AgentContext& ctx_;
  prometheus::Family<prometheus::Gauge>& vms_;
  prometheus::Gauge& libvirt_up_;
  prometheus::Gauge& orphans_;
  prometheus::Gauge& domains_;
  mutable std::mutex mu_;
  Status libvirt_ = UnavailableError("not checked yet");
  std::optional<api::HypervisorStatus> last_;
  Clock::TimePoint last_write_{};
};

}  // namespace ferry::agent

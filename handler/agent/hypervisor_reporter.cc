#include "agent/hypervisor_reporter.h"

#include <map>

#include "agent/typed_writes.h"
#include "api/migration.h"
#include "domain/domain_builder.h"
#include "log/log.h"

namespace ferry::agent {
namespace {

using api::MigrationPhase;
using controller::ReconcileResult;

bool InFlight(MigrationPhase p) {
  return p == MigrationPhase::kScheduled || p == MigrationPhase::kPreparingTarget ||
         p == MigrationPhase::kTargetReady || p == MigrationPhase::kRunning;
}

}  // namespace

HypervisorReporter::HypervisorReporter(AgentContext& ctx, prometheus::Registry& registry)
    : ctx_(ctx),
      vms_(prometheus::BuildGauge()
               .Name("ferry_handler_vms")
               .Help("VirtualMachines on this node, by status phase.")
               .Register(registry)),
      libvirt_up_(prometheus::BuildGauge()
                      .Name("ferry_handler_libvirt_up")
                      .Help("1 while this node's libvirtd answers the handler, else 0.")
                      .Register(registry)
                      .Add({})),
      orphans_(
          prometheus::BuildGauge()
              .Name("ferry_handler_orphan_domains")
              .Help("Domains on this node that no VirtualMachine owns (reported, never touched).")
              .Register(registry)
              .Add({})),
      domains_(prometheus::BuildGauge()
                   .Name("ferry_handler_domains")
                   .Help("Domains on this node that run VirtualMachines.")
                   .Register(registry)
                   .Add({})) {}

Status HypervisorReporter::LibvirtStatus() const {
  std::lock_guard<std::mutex> l(mu_);
  return libvirt_;
}

ReportInputs HypervisorReporter::Gather() {
  ReportInputs in;
  Status ping = ctx_.node.Ping();
  in.libvirt_ok = ping.ok();
  in.libvirt_error = ping.message();
  if (ping.ok()) {
    auto host = ctx_.host.Get(std::chrono::seconds(0));
    auto domains = ctx_.node.ListDomains();
    if (host.ok() && domains.ok()) {
      in.host = *host;
      in.domains = *domains;
    } else {
      in.libvirt_ok = false;
      in.libvirt_error = (!host.ok() ? host.status() : domains.status()).message();
    }
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    libvirt_ = in.libvirt_ok ? OkStatus() : UnavailableError("libvirtd: " + in.libvirt_error);
  }
  ctx_.vms->store().ForEach([&](const kube::ObjectPtr& o) {
    const auto ns = o->value("/metadata/namespace"_json_pointer, std::string());
    const auto name = o->value("/metadata/name"_json_pointer, std::string());
    in.owners.vms[domain::DomainName(ns, name)] =
        o->value("/metadata/uid"_json_pointer, std::string());
  });
  auto migrations = [&](kube::Informer* inf, int64_t* count) {
    inf->store().ForEach([&](const kube::ObjectPtr& o) {
      auto m = api::VirtualMachineMigration::FromJson(*o);
      if (!m.ok()) return;
      const auto dom = domain::DomainName(m->metadata.namespace_, m->spec.vm_name);
      // An incoming domain is the migration's until the VM's node flips to this one.
      if (InFlight(m->status.phase) || m->status.phase == MigrationPhase::kSucceeded)
        in.owners.migrating.insert(dom);
      if (InFlight(m->status.phase)) ++*count;
    });
  };
  migrations(ctx_.vmm_target, &in.migrations_in);
  migrations(ctx_.vmm_source, &in.migrations_out);
  in.limits = {ctx_.config.reserved_cpus, ctx_.config.reserved_memory_bytes,
               ctx_.config.dedicated_cpus, ctx_.config.cpu_allocation_ratio};
  in.migration_address = ctx_.config.migration_address;
  in.handler_version = "ferry-handler 0.1.0";
  return in;
}

void HypervisorReporter::UpdateMetrics(const ReportInputs& in) {
  std::map<std::string, int> by_phase;
  for (const char* p :
       {"Pending", "Scheduled", "Starting", "Running", "Migrating", "Stopped", "Failed"})
    by_phase[p] = 0;
  ctx_.vms->store().ForEach([&](const kube::ObjectPtr& o) {
    ++by_phase[o->value("/status/phase"_json_pointer, std::string("Pending"))];
  });
  for (const auto& [phase, n] : by_phase) vms_.Add({{"phase", phase}}).Set(n);
  libvirt_up_.Set(in.libvirt_ok ? 1 : 0);
}

ReconcileResult HypervisorReporter::Reconcile(const std::string& key, std::stop_token stop) {
  const ReportInputs in = Gather();
  UpdateMetrics(in);
  const api::WallTime now = ctx_.clock.WallNow();
  const auto interval = ctx_.config.heartbeat;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (last_) {
      const api::HypervisorStatus next = BuildHypervisorStatus(in, *last_, now);
      const auto since = ctx_.clock.Now() - last_write_;
      if (SameReport(next, *last_) && since < interval) {
        return ReconcileResult::RequeueAfter(interval - since);
      }
    }
  }
  if (stop.stop_requested()) return ReconcileResult::Success();
  auto existing = ctx_.api.Get(kHypervisors, "", key);
  if (!existing.ok() && existing.status().code() == StatusCode::kNotFound) {
    kube::Json obj = {{"apiVersion", "ferry.dev/v1alpha1"},
                      {"kind", "Hypervisor"},
                      {"metadata", {{"name", key}, {"labels", {{"ferry.dev/node", key}}}}},
                      {"spec", kube::Json::object()}};
    auto created = ctx_.api.Create(kHypervisors, "", obj);
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) {
      return ReconcileResult::Error(created.status().WithContext("creating Hypervisor " + key));
    }
    log::Info(log::Obj("hypervisor", key), "Created the Hypervisor");
  } else if (!existing.ok()) {
    return ReconcileResult::Error(existing.status().WithContext("reading Hypervisor " + key));
  }
  api::HypervisorStatus written;
  auto w = MutateTyped<api::Hypervisor>(
      ctx_.api, kHypervisors, "", key,
      [&](api::Hypervisor& hv) {
        api::HypervisorStatus next = BuildHypervisorStatus(in, hv.status, now);
        next.last_heartbeat_time = now;
        hv.status = next;
        written = next;
        return true;
      },
      true, stop);
  if (!w.ok())
    return ReconcileResult::Error(w.status().WithContext("Hypervisor " + key + " status"));
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!last_ || last_->ready != written.ready ||
        last_->orphans.size() != written.orphans.size()) {
      log::Line line = log::Info(log::Obj("hypervisor", key), "Reported");
      line.With("ready", written.ready)
          .With("domains", written.domains)
          .With("orphans", static_cast<int64_t>(written.orphans.size()));
      if (!written.ready) line.With("libvirt", in.libvirt_error);
    }
    last_ = written;
    last_write_ = ctx_.clock.Now();
  }
  orphans_.Set(static_cast<double>(written.orphans.size()));
  domains_.Set(static_cast<double>(written.domains));
  return ReconcileResult::RequeueAfter(interval);
}

}  // namespace ferry::agent

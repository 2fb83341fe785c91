#include "agent/agent.h"

#include <csignal>
#include <cstdlib>
#include <thread>

#include "agent/agent_context.h"
#include "agent/hypervisor_reporter.h"
#include "agent/source_controller.h"
#include "agent/target_controller.h"
#include "agent/vm_controller.h"
#include "api/group.h"
#include "core/malloc_tuning.h"
#include "kube/config.h"
#include "kube/rest_client.h"
#include "libvirt/libvirt_hypervisor.h"
#include "libvirt/libvirt_node.h"
#include "log/log.h"
#include "manager/manager.h"

namespace ferry::agent {
namespace {

// libvirtd's liveness is checked this often, so the Hypervisor says not ready within seconds
// (the source of a migration reads the target's readiness before a post-copy switch).
constexpr auto kPingEvery = std::chrono::seconds(2);

volatile std::sig_atomic_t g_signalled = 0;
extern "C" void OnSignal(int) { g_signalled = 1; }

manager::MapFunc VmOfMigration() {
  return [](const kube::Json& vmm) { return VmmIndexByVm(vmm); };
}

}  // namespace

Status RunAgent(const AgentConfig& config, kube::ApiClient& api, domain::NodeHypervisor& node,
                migration::MigrationHypervisor& engine_hypervisor, std::stop_token stop,
                std::function<void(int)> on_listening) {
  manager::ManagerOptions mo;
  mo.name = "ferry-handler";
  mo.metrics_prefix = "ferry_handler";
  mo.ops_host = config.ops_host;
  mo.ops_port = config.ops_port;
  manager::Manager mgr(api, mo);
  migration::MigrationMetrics metrics(mgr.registry());
  kube::EventRecorder events(api, "ferry-handler", config.node_name);
  HostFactsCache host(node);

  auto selected = [&](const char* label) {
    kube::InformerOptions o;
    o.label_selector = std::string(label) + "=" + config.node_name;
    return o;
  };
  kube::Informer& vms =
      mgr.SharedInformer(kube::resources::kVirtualMachines, selected(api::kLabelNode));
  kube::Informer& vmm_source = mgr.SharedInformer(kube::resources::kVirtualMachineMigrations,
                                                  selected(api::kLabelSourceNode));
  kube::Informer& vmm_target = mgr.SharedInformer(kube::resources::kVirtualMachineMigrations,
                                                  selected(api::kLabelTargetNode));
  kube::Informer& hypervisors = mgr.SharedInformer(kHypervisors);
  vmm_source.AddIndex(kIndexVm, VmmIndexByVm);
  vmm_target.AddIndex(kIndexVm, VmmIndexByVm);

  AgentContext ctx{
      config, api,  node,        engine_hypervisor, &metrics,     events, RealClock::Get(),
      host,   &vms, &vmm_source, &vmm_target,       &hypervisors, {},     {}};

  VmController vm_ctl(ctx);
  TargetController target_ctl(ctx);
  SourceController source_ctl(ctx);
  HypervisorReporter reporter(ctx, mgr.registry());
  const std::string node_key = config.node_name;
  auto to_node = [node_key](const kube::Json&) { return std::vector<std::string>{node_key}; };

  manager::ControllerSpec vm_spec;
  vm_spec.name = "vm";
  vm_spec.workers = 2;
  vm_spec.reconcile = [&](const std::string& k, std::stop_token s) {
    return vm_ctl.Reconcile(k, s);
  };
  vm_spec.watches = {manager::For(vms), manager::Watches(vmm_source, VmOfMigration()),
                     manager::Watches(vmm_target, VmOfMigration())};
  auto vm_c = mgr.AddController(std::move(vm_spec));
  if (!vm_c.ok()) return vm_c.status();

  manager::ControllerSpec target_spec;
  target_spec.name = "migration-target";
  target_spec.reconcile = [&](const std::string& k, std::stop_token s) {
    return target_ctl.Reconcile(k, s);
  };
  target_spec.watches = {manager::For(vmm_target)};
  auto target_c = mgr.AddController(std::move(target_spec));
  if (!target_c.ok()) return target_c.status();

  manager::ControllerSpec source_spec;
  source_spec.name = "migration-source";
  source_spec.reconcile = [&](const std::string& k, std::stop_token s) {
    return source_ctl.Reconcile(k, s);
  };
  source_spec.watches = {manager::For(vmm_source)};
  auto source_c = mgr.AddController(std::move(source_spec));
  if (!source_c.ok()) return source_c.status();

  manager::ControllerSpec hv_spec;
  hv_spec.name = "hypervisor";
  hv_spec.reconcile = [&](const std::string& k, std::stop_token s) {
    return reporter.Reconcile(k, s);
  };
  hv_spec.watches = {manager::Watches(vms, to_node), manager::Watches(vmm_source, to_node),
                     manager::Watches(vmm_target, to_node)};
  auto hv_c = mgr.AddController(std::move(hv_spec));
  if (!hv_c.ok()) return hv_c.status();

  controller::Controller* vm_q = *vm_c;
  controller::Controller* hv_q = *hv_c;
  ctx.enqueue_vm = [vm_q](const std::string& k) { vm_q->Enqueue(k); };
  ctx.enqueue_report = [hv_q, node_key] { hv_q->Enqueue(node_key); };
  node.SetEventHandler([&vms, vm_q, hv_q, node_key](const domain::DomainEvent& e) {
    hv_q->Enqueue(node_key);
    if (e.domain.empty()) {  // libvirtd (re)connected: look at everything again
      for (const auto& k : vms.store().Keys()) vm_q->Enqueue(k);
      return;
    }
    if (auto key = VmController::KeyOfDomain(e.domain)) vm_q->Enqueue(*key);
  });
  hv_q->Enqueue(node_key);
  mgr.ops().AddReadinessCheck("libvirt", [&reporter] { return reporter.LibvirtStatus(); });

  std::stop_source mgr_stop;
  Status result;
  std::jthread runner([&] { result = mgr.Run(mgr_stop.get_token()); });
  std::jthread pinger([&](std::stop_token st) {
    bool last = false, first = true;
    std::mutex m;
    std::condition_variable_any cv;
    while (!st.stop_requested()) {
      const bool ok = node.Ping().ok();
      if (first || ok != last) hv_q->Enqueue(node_key);
      first = false;
      last = ok;
      std::unique_lock<std::mutex> l(m);
      cv.wait_for(l, st, kPingEvery, [] { return false; });
    }
  });
  if (on_listening) {
    while (mgr.ops_port() == 0 && !stop.stop_requested() && config.ops_port >= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    on_listening(mgr.ops_port());
  }
  {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock<std::mutex> l(m);
    cv.wait(l, stop, [] { return false; });
  }
  log::Info(log::Obj("node", config.node_name),
            "Stopping: detaching from running migrations (their libvirt jobs run on)");
  source_ctl.DetachAll();
  pinger.request_stop();
  pinger.join();
  mgr_stop.request_stop();
  runner.join();
  node.SetEventHandler({});
  events.Flush();
  return result;
}

int RunAgentCommand(const std::vector<std::string>& args) {
  LimitMallocArenas();
  const char* env = std::getenv("NODE_NAME");
  auto config = ParseAgentFlags(args, env == nullptr ? "" : env);
  if (!config.ok()) {
    std::fprintf(stderr, "ferry-handler agent: %s\n%s", config.status().message().c_str(),
                 AgentUsage().c_str());
    return 2;
  }
  log::Configure(config->log);
  auto cluster = config->kubeconfig.empty()
                     ? kube::LoadDefaultConfig()
                     : kube::LoadKubeconfig(config->kubeconfig, config->context);
  if (!cluster.ok()) {
    log::Error(log::Obj("node", config->node_name), "Cannot load the cluster configuration")
        .Err(cluster.status());
    return 1;
  }
  kube::RestOptions ro;
  ro.user_agent = "ferry-handler/" + config->node_name;
  ro.qps = config->api_qps;
  ro.burst = config->api_burst;
  auto api = kube::RestApiClient::FromConfig(*cluster, ro);
  libvirt::LibvirtNodeOptions lo;
  lo.uri = config->libvirt_uri;
  lo.emulator = config->domain.emulator;
  lo.virt_type = config->domain.virt_type;
  lo.arch = config->domain.arch;
  lo.machine = config->domain.machine;
  lo.qemu_version = config->qemu_version;
  auto node = libvirt::NewLibvirtNodeHypervisor(lo);
  // Outlives everything: a migrate call left blocked in libvirt by a Detach keeps using it
  // until the process exits.
  static auto* engine_hypervisor = libvirt::NewLibvirtHypervisor(config->libvirt_uri).release();

  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::stop_source stop;
  std::jthread watcher([&stop](std::stop_token st) {
    while (!st.stop_requested() && g_signalled == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop.request_stop();
  });
  log::Info(log::Obj("node", config->node_name), "Starting the node agent")
      .With("libvirt", config->libvirt_uri)
      .With("migrationURI", config->MigrationUri());
  Status st = RunAgent(*config, *api, *node, *engine_hypervisor, stop.get_token());
  watcher.request_stop();
  watcher.join();
  if (!st.ok()) {
    log::Error(log::Obj("node", config->node_name), "Stopped with an error").Err(st);
    return 1;
  }
  log::Info(log::Obj("node", config->node_name), "Stopped");
  return 0;
}

}  // namespace ferry::agent

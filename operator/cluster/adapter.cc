#include "cluster/adapter.h"

#include <algorithm>

#include "api/labels.h"

namespace ferry::op {
namespace {

placement::TaintEffect EffectFromApi(api::TaintEffect e) {
  switch (e) {
    case api::TaintEffect::kNoSchedule:
      return placement::TaintEffect::kNoSchedule;
    case api::TaintEffect::kPreferNoSchedule:
      return placement::TaintEffect::kPreferNoSchedule;
    case api::TaintEffect::kNoExecute:
      return placement::TaintEffect::kNoExecute;
  }
  return placement::TaintEffect::kNoSchedule;
}

placement::EvictionStrategy EvictionFromApi(api::EvictionStrategy s) {
  switch (s) {
    case api::EvictionStrategy::kLiveMigrate:
      return placement::EvictionStrategy::kLiveMigrate;
    case api::EvictionStrategy::kLiveMigrateIfPossible:
      return placement::EvictionStrategy::kLiveMigrateIfPossible;
    case api::EvictionStrategy::kShutdown:
      return placement::EvictionStrategy::kShutdown;
    case api::EvictionStrategy::kNone:
      return placement::EvictionStrategy::kNone;
  }
  return placement::EvictionStrategy::kLiveMigrate;
}

int64_t Version(const std::string& text) {
  if (text.empty()) return 0;
  auto v = api::ParseVersionNumber(text);
  return v.ok() ? *v : 0;
}

std::vector<placement::HugepagePool> Pools(const std::map<std::string, api::Quantity>& pages) {
  std::vector<placement::HugepagePool> pools;
  for (const auto& [size, total] : pages) {
    auto page = api::Quantity::Parse(size);
    if (!page.ok() || page->Value() <= 0) continue;  // a malformed size offers nothing
    pools.push_back({page->Value(), std::max<int64_t>(0, total.Value())});
  }
  return pools;
}

}  // namespace

bool IsActivePhase(api::MigrationPhase phase) {
  switch (phase) {
    case api::MigrationPhase::kScheduled:
    case api::MigrationPhase::kPreparingTarget:
    case api::MigrationPhase::kTargetReady:
    case api::MigrationPhase::kRunning:
      return true;
    default:
      return false;
  }
}

placement::Node NodeFromApi(const std::string& name, const api::Node* node,
                            const api::Hypervisor* hypervisor, bool hypervisor_alive) {
  placement::Node n;
  n.name = name;
  n.has_node_object = node != nullptr;
  if (node != nullptr) {
    n.ready = node->IsReady();
    n.unschedulable = node->spec.unschedulable;
    n.labels = node->metadata.labels;
    for (const api::Taint& t : node->spec.taints) {
      n.taints.push_back({t.key, t.value, EffectFromApi(t.effect)});
    }
  } else {
    n.ready = false;
  }
  n.has_hypervisor = hypervisor != nullptr;
  n.hypervisor_ready = hypervisor != nullptr && hypervisor_alive;
  if (hypervisor != nullptr) {
    const api::HypervisorStatus& st = hypervisor->status;
    n.cpu_millis = std::max<int64_t>(0, st.allocatable.cpus) * 1000;
    n.memory_bytes = std::max<int64_t>(0, st.allocatable.memory.Value());
    n.dedicated_cpus = std::max<int64_t>(0, st.allocatable.dedicated_cpus);
    n.hugepages = Pools(st.allocatable.hugepages);
    for (const api::HypervisorNumaCell& c : st.numa_cells) {
      n.numa_cells.push_back(
          {std::max<int64_t>(0, c.cpus) * 1000, std::max<int64_t>(0, c.memory.Value())});
    }
    n.cpu_model = st.cpu_model;
    n.cpu_models = st.cpu_models;
    n.version = {Version(st.libvirt_version), Version(st.qemu_version)};
  }
  return n;
}

placement::Vm VmFromApi(const api::VirtualMachine& vm) {
  placement::Vm v;
  v.name = VmKey(vm.metadata.namespace_, vm.metadata.name);
  v.cpu_millis = std::max<int64_t>(0, vm.spec.cpus) * 1000;
  v.memory_bytes = std::max<int64_t>(0, vm.spec.memory.Value());
  v.dedicated_cpus = vm.spec.dedicated_cpus;
  v.numa_nodes = static_cast<int>(std::clamp<int64_t>(vm.spec.numa_nodes.value_or(0), 0, 64));
  if (vm.spec.hugepages)
    v.hugepage_size_bytes = std::max<int64_t>(0, vm.spec.hugepages->page_size.Value());
  v.cpu_model = vm.spec.cpu_model;
  v.node_selector = vm.spec.node_selector;
  for (const api::Toleration& t : vm.spec.tolerations) {
    placement::Toleration pt;
    pt.key = t.key;
    pt.value = t.value;
    pt.exists = t.op == api::TolerationOperator::kExists;
    if (t.effect) pt.effect = EffectFromApi(*t.effect);
    v.tolerations.push_back(std::move(pt));
  }
  if (!vm.spec.server_group.empty())
    v.server_group = VmKey(vm.metadata.namespace_, vm.spec.server_group);
  v.node = vm.status.node_name;
  v.eviction_strategy = EvictionFromApi(vm.spec.eviction_strategy);
  if (vm.status.first_boot) {
    v.boot_version = {Version(vm.status.first_boot->libvirt_version),
                      Version(vm.status.first_boot->qemu_version)};
  }
  return v;
}

placement::ServerGroup GroupFromApi(const api::ServerGroup& group) {
  placement::ServerGroup g;
  g.name = VmKey(group.metadata.namespace_, group.metadata.name);
  g.policy = group.spec.policy == api::ServerGroupPolicy::kAffinity
                 ? placement::GroupPolicy::kAffinity
                 : placement::GroupPolicy::kAntiAffinity;
  g.best_effort = group.spec.best_effort;
  g.max_per_node = static_cast<int>(std::clamp<int64_t>(group.spec.max_per_node, 1, 1 << 20));
  return g;
}

std::optional<placement::InFlightMigration> MigrationFromApi(
    const api::VirtualMachineMigration& vmm, api::MigrationPhase phase) {
  const bool holds = IsActivePhase(phase) || (phase == api::MigrationPhase::kSucceeded &&
                                              vmm.metadata.HasFinalizer(api::kMigrationFinalizer));
  if (!holds || vmm.status.target_node.empty()) return std::nullopt;
  placement::InFlightMigration m;
  const std::string vm =
      api::FullLabelValue(vmm.metadata, api::kLabelVm).value_or(vmm.spec.vm_name);
  m.vm = VmKey(vmm.metadata.namespace_, vm);
  m.source_node = vmm.status.source_node;
  m.target_node = vmm.status.target_node;
  m.name = VmKey(vmm.metadata.namespace_, vmm.metadata.name);
  return m;
}

}  // namespace ferry::op

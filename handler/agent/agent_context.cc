#include "agent/agent_context.h"

namespace ferry::agent {

const kube::ResourceType kHypervisors{"ferry.dev", "v1alpha1", "hypervisors", "Hypervisor", false};

std::vector<std::string> VmmIndexByVm(const kube::Json& vmm) {
  const auto ns = vmm.value("/metadata/namespace"_json_pointer, std::string());
  const auto vm = vmm.value("/spec/vmName"_json_pointer, std::string());
  if (vm.empty()) return {};
  return {ns + "/" + vm};
}

StatusOr<domain::HostFacts> HostFactsCache::Get(std::chrono::seconds max_age) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (facts_ && std::chrono::steady_clock::now() - at_ < max_age) return *facts_;
  }
  auto f = node_.Host();
  if (!f.ok()) return f.status();
  std::lock_guard<std::mutex> l(mu_);
  facts_ = *f;
  at_ = std::chrono::steady_clock::now();
  return *f;
}

std::optional<domain::HostFacts> HostFactsCache::Last() const {
  std::lock_guard<std::mutex> l(mu_);
  return facts_;
}

}  // namespace ferry::agent

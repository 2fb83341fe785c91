#include "agent/target_checks.h"

#include <algorithm>

#include "domain/cpu_allocation.h"

namespace ferry::agent {
namespace {

std::string MiB(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

bool IsFilePath(const std::string& p) { return !p.empty() && p.rfind("/dev/", 0) != 0; }

void CheckResources(const TargetInputs& in, TargetPlan* plan) {
  const auto& spec = in.vm.spec;
  const NodeResources r = ComputeResources(in.host, in.domains, in.limits);
  const uint64_t memory = static_cast<uint64_t>(spec.memory.Value());
  if (spec.hugepages) {
    const uint64_t page = static_cast<uint64_t>(spec.hugepages->page_size.Value());
    const std::string name = PageSizeName(page);
    auto cap = r.allocatable.hugepages.find(name);
    auto used = r.used.hugepages.find(name);
    const uint64_t free_bytes =
        (cap == r.allocatable.hugepages.end() ? 0 : static_cast<uint64_t>(cap->second.Value())) -
        std::min<uint64_t>(
            cap == r.allocatable.hugepages.end() ? 0 : static_cast<uint64_t>(cap->second.Value()),
            used == r.used.hugepages.end() ? 0 : static_cast<uint64_t>(used->second.Value()));
    if (free_bytes < memory) {
      plan->problems.push_back("huge pages: the VM needs " + MiB(memory) + " in " + name +
                               " pages, " + MiB(free_bytes) + " free");
    }
  } else {
    const uint64_t alloc = static_cast<uint64_t>(r.allocatable.memory.Value());
    const uint64_t used = static_cast<uint64_t>(r.used.memory.Value()) +
                          static_cast<uint64_t>(std::max<int64_t>(0, in.incoming_memory_bytes));
    if (used + memory > alloc) {
      plan->problems.push_back("memory: the VM needs " + MiB(memory) + ", " +
                               MiB(alloc > used ? alloc - used : 0) + " free of " + MiB(alloc) +
                               " allocatable");
    }
  }
  if (spec.dedicated_cpus) {
    std::vector<int> pinned;
    for (const auto& d : in.domains) {
      if (d.IsActive()) pinned.insert(pinned.end(), d.pinned_cpus.begin(), d.pinned_cpus.end());
    }
    auto placed = domain::PlaceDomain(spec, in.host.cells, in.limits.dedicated_cpus, pinned);
    if (!placed.ok()) plan->problems.push_back(placed.status().message());
  } else {
    const int64_t used = r.used.cpus + in.incoming_cpus;
    if (used + spec.cpus > r.allocatable.cpus) {
      plan->problems.push_back("CPUs: the VM needs " + std::to_string(spec.cpus) + " vCPUs, " +
                               std::to_string(std::max<int64_t>(0, r.allocatable.cpus - used)) +
                               " free of " + std::to_string(r.allocatable.cpus) + " allocatable");
    }
  }
}

void CheckCpuModel(const TargetInputs& in, TargetPlan* plan) {
  std::string model =
      in.vm.spec.cpu_model.empty() ? in.settings.default_cpu_model : in.vm.spec.cpu_model;
  if (model.empty() || model == "host-model") return;  // libvirt adapts it (migratable host-model)
  if (model == api::kCpuModelHostPassthrough) {
    if (!in.source) {
      plan->problems.push_back("host-passthrough: the source node's Hypervisor is unknown");
    } else if (in.source->status.cpu_model != in.host.cpu_model ||
               in.source->status.cpu_features != in.host.cpu_features) {
      plan->problems.push_back(
          "host-passthrough needs an identical host CPU: source " + in.source->status.cpu_model +
          ", this node " + in.host.cpu_model +
          (in.source->status.cpu_model == in.host.cpu_model ? " (features differ)" : ""));
    }
    return;
  }
  if (std::find(in.host.cpu_models.begin(), in.host.cpu_models.end(), model) ==
      in.host.cpu_models.end()) {
    plan->problems.push_back("CPU model " + model + " is not usable on this node");
  }
}

void CheckFile(const TargetInputs& in, const std::string& what, const std::string& path,
               TargetPlan* plan) {
  if (!IsFilePath(path)) return;  // block devices are not probed
  auto it = in.files.find(path);
  if (it == in.files.end() || !it->second.exists)
    plan->problems.push_back(what + " " + path + " does not exist");
}

void CheckDisks(const TargetInputs& in, TargetPlan* plan) {
  const auto& spec = in.vm.spec;
  if (spec.kernel_boot) {
    CheckFile(in, "kernel", spec.kernel_boot->kernel, plan);
    if (!spec.kernel_boot->initrd.empty()) CheckFile(in, "initrd", spec.kernel_boot->initrd, plan);
  }
  const bool copy = in.options.storage == api::StorageMode::kCopy;
  for (const auto& d : spec.disks) {
    if (d.network) continue;  // reachable from every node (not probed)
    if (d.type == api::DiskType::kShared || d.read_only) {
      CheckFile(in, "shared disk " + d.name + ":", d.path, plan);
      continue;
    }
    if (!copy) {
      plan->problems.push_back("local disk " + d.name + " (" + d.path +
                               ") can only move with storage: Copy");
      continue;
    }
    if (!d.size || d.size->Value() <= 0) {
      plan->problems.push_back("local disk " + d.name + " has no size to prepare on the target");
      continue;
    }
    if (!IsFilePath(d.path)) {
      plan->problems.push_back("local disk " + d.name + ": block device " + d.path +
                               " cannot be prepared by the handler");
      continue;
    }
    for (const auto& dom : in.domains) {
      for (const auto& used : dom.disks) {
        if (used.source == d.path) {
          plan->problems.push_back("local disk " + d.name + ": " + d.path +
                                   " is in use by domain " + dom.name);
        }
      }
    }
    const uint64_t size = static_cast<uint64_t>(d.size->Value());
    auto it = in.files.find(d.path);
    if (it != in.files.end() && it->second.exists) {
      if (it->second.size_bytes < size) {
        plan->problems.push_back("local disk " + d.name + ": " + d.path + " exists with " +
                                 MiB(it->second.size_bytes) + ", smaller than " + MiB(size));
      }
      continue;  // reused: the copy overwrites it
    }
    plan->create.push_back({d.path,
                            d.format == api::DiskFormat::kQcow2 ? domain::DiskImageFormat::kQcow2
                                                                : domain::DiskImageFormat::kRaw,
                            size});
  }
}

}  // namespace

std::string TargetPlan::Summary() const {
  std::string out;
  for (const auto& p : problems) out += (out.empty() ? "" : "; ") + p;
  return out;
}

std::vector<std::string> PathsToCheck(const api::VirtualMachine& vm) {
  std::vector<std::string> out;
  if (vm.spec.kernel_boot) {
    out.push_back(vm.spec.kernel_boot->kernel);
    if (!vm.spec.kernel_boot->initrd.empty()) out.push_back(vm.spec.kernel_boot->initrd);
  }
  for (const auto& d : vm.spec.disks) {
    if (!d.network && IsFilePath(d.path)) out.push_back(d.path);
  }
  return out;
}

TargetPlan PlanTarget(const TargetInputs& in) {
  TargetPlan plan;
  const std::string name = domain::DomainName(in.vm.metadata.namespace_, in.vm.metadata.name);
  for (const auto& d : in.domains) {
    if (d.name != name) continue;
    if (d.state == domain::DomainState::kRunning || d.state == domain::DomainState::kBlocked) {
      plan.problems.push_back("a domain named " + name + " already runs on " + in.node);
      return plan;
    }
    const std::string mark = d.mark ? d.mark->migration_uid : std::string();
    if (in.vmm_uid.empty() || mark != in.vmm_uid) {
      plan.problems.push_back(
          "a domain named " + name + " is already on " + in.node + " (" +
          domain::DomainStateName(d.state) + ", " +
          (mark.empty() ? std::string("no migration mark") : "migration mark " + mark) +
          ", not this migration's " + in.vmm_uid + "): left alone");
      return plan;
    }
    plan.remove_leftover = true;
  }
  // A leftover's resources are freed before the guest arrives.
  TargetInputs rest = in;
  rest.domains.erase(std::remove_if(rest.domains.begin(), rest.domains.end(),
                                    [&](const domain::DomainInfo& d) { return d.name == name; }),
                     rest.domains.end());
  CheckResources(rest, &plan);
  CheckCpuModel(rest, &plan);
  CheckDisks(rest, &plan);
  return plan;
}

}  // namespace ferry::agent

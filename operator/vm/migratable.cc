#include "vm/migratable.h"

#include <algorithm>
#include <array>

namespace ferry::op::vm {
namespace {

enum Rule { kCpu, kDedicated, kHugepages, kRules };

struct Need {
  std::string passthrough_model;  // host-passthrough: the VM's node's model ("" = unknown)
  bool passthrough = false;
  std::string named_model;
  int64_t dedicated = 0;
  int64_t page_size = 0;
  int64_t page_bytes = 0;
};

// Which rules `h` meets.
std::array<bool, kRules> Meets(const Need& n, const HostFacts& h) {
  std::array<bool, kRules> ok{};
  if (n.passthrough) {
    ok[kCpu] = !n.passthrough_model.empty() && h.cpu_model == n.passthrough_model;
  } else if (!n.named_model.empty()) {
    ok[kCpu] = h.cpu_model == n.named_model || std::find(h.cpu_models.begin(), h.cpu_models.end(),
                                                         n.named_model) != h.cpu_models.end();
  } else {
    ok[kCpu] = true;
  }
  ok[kDedicated] = h.dedicated_cpus >= n.dedicated;
  if (n.page_size > 0) {
    auto it = h.hugepages.find(n.page_size);
    ok[kHugepages] = it != h.hugepages.end() && it->second >= n.page_bytes;
  } else {
    ok[kHugepages] = true;
  }
  return ok;
}

// The first writable local disk a target cannot prepare, and why ("" when none).
std::string UncopyableDisk(const api::VirtualMachine& vm) {
  for (const api::Disk& d : vm.spec.disks) {
    if (d.type != api::DiskType::kLocal || d.network || d.read_only) continue;
    if (!d.size || d.size->Value() <= 0)
      return "local disk " + d.name + " has no size to prepare on a target";
    if (d.path.empty() || d.path.rfind("/dev/", 0) == 0) {
      return "local disk " + d.name + " is a block device (" + d.path +
             "), which a target cannot prepare";
    }
  }
  return "";
}

bool HasLocalDisk(const api::VirtualMachine& vm) {
  return std::any_of(vm.spec.disks.begin(), vm.spec.disks.end(), [](const api::Disk& d) {
    return d.type == api::DiskType::kLocal && !d.network && !d.read_only;
  });
}

}  // namespace

MigratableVerdict DecideMigratable(const api::VirtualMachine& vm,
                                   const std::vector<HostFacts>& hosts) {
  MigratableVerdict v;
  if (std::string why = UncopyableDisk(vm); !why.empty()) {
    v.reason = kReasonLocalDiskNotCopyable;
    v.message = why;
    return v;
  }
  const std::string& own = vm.status.node_name;
  Need need;
  need.passthrough = vm.spec.cpu_model == api::kCpuModelHostPassthrough;
  if (!need.passthrough) need.named_model = vm.spec.cpu_model;
  if (vm.spec.dedicated_cpus) need.dedicated = std::max<int64_t>(1, vm.spec.cpus);
  if (vm.spec.hugepages) {
    need.page_size = vm.spec.hugepages->page_size.Value();
    need.page_bytes = vm.spec.memory.Value();
  }
  int others = 0;
  int qualify = 0;
  std::array<int, kRules> met{};
  for (const HostFacts& h : hosts) {
    if (h.name == own) {
      need.passthrough_model = h.cpu_model;
      break;
    }
  }
  for (const HostFacts& h : hosts) {
    if (h.name == own) continue;
    ++others;
    const std::array<bool, kRules> ok = Meets(need, h);
    for (int r = 0; r < kRules; ++r)
      met[static_cast<size_t>(r)] += ok[static_cast<size_t>(r)] ? 1 : 0;
    if (std::all_of(ok.begin(), ok.end(), [](bool b) { return b; })) ++qualify;
  }
  if (others == 0) {
    v.reason = kReasonNoOtherHost;
    v.message = "no other node has a Hypervisor to receive it";
    return v;
  }
  if (qualify > 0) {
    v.migratable = true;
    v.reason = kReasonMigratable;
    // No count in the message: a node joining would otherwise rewrite every VM's status.
    v.message = "another host can run it";
    if (HasLocalDisk(vm)) v.message += "; its local disks move with storage: Copy";
    return v;
  }
  if (met[kCpu] == 0) {
    v.reason = kReasonCpuModelUnavailable;
    v.message = need.passthrough
                    ? "host-passthrough: no other host has the CPU model " +
                          (need.passthrough_model.empty() ? std::string("of its node (unknown)")
                                                          : need.passthrough_model)
                    : "no other host offers the CPU model " + need.named_model;
  } else if (met[kDedicated] == 0) {
    v.reason = kReasonNoDedicatedCpus;
    v.message = "no other host has " + std::to_string(need.dedicated) + " dedicated CPUs";
  } else if (met[kHugepages] == 0) {
    v.reason = kReasonNoHugepages;
    v.message = "no other host has " + std::to_string(need.page_bytes >> 20) +
                " MiB of hugepages of " + std::to_string(need.page_size >> 10) + " KiB";
  } else {
    v.reason = kReasonNoCompatibleHost;
    v.message = "no single other host has the CPU model, dedicated CPUs and hugepages it needs";
  }
  return v;
}

}  // namespace ferry::op::vm

#include "domain/domain_builder.h"

#include <cstdio>
#include <sstream>

#include "domain/cpuset.h"
#include "domain/domain_description.h"
#include "xml/xml_util.h"

namespace ferry::domain {
namespace {

using xml::Escape;

std::string Fnv1a64Hex(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string DiskTarget(size_t index) {
  std::string suffix;
  size_t i = index;
  do {
    suffix.insert(suffix.begin(), static_cast<char>('a' + i % 26));
    i = i / 26;
  } while (i-- > 0);
  return "vd" + suffix;
}

Status CheckPlacement(const api::VirtualMachine& vm, const DomainPlacement& placement) {
  const auto& spec = vm.spec;
  const int64_t numa = spec.numa_nodes.value_or(0);
  if (spec.dedicated_cpus && static_cast<int64_t>(placement.pinned_cpus.size()) != spec.cpus) {
    return InvalidError("dedicatedCpus: " + std::to_string(placement.pinned_cpus.size()) +
                        " host CPUs chosen for " + std::to_string(spec.cpus) + " vCPUs");
  }
  if (!placement.host_cells.empty() && static_cast<int64_t>(placement.host_cells.size()) != numa) {
    return InvalidError("placement names host cells for " +
                        std::to_string(placement.host_cells.size()) + " of " +
                        std::to_string(numa) + " guest NUMA nodes");
  }
  return OkStatus();
}

}  // namespace

Status ValidateSpec(const api::VirtualMachine& vm) {
  const auto& spec = vm.spec;
  if (vm.metadata.name.empty() || vm.metadata.namespace_.empty()) {
    return InvalidError("the VM has no name or namespace");
  }
  if (vm.metadata.uid.empty())
    return InvalidError("the VM has no uid (not read from the API server?)");
  if (spec.cpus < 1) return InvalidError("spec.cpus must be at least 1");
  if (spec.memory.Sign() <= 0) return InvalidError("spec.memory must be positive");
  if (!spec.kernel_boot && spec.disks.empty()) {
    return InvalidError("no boot source: the spec has neither kernelBoot nor disks");
  }
  if (spec.kernel_boot && spec.kernel_boot->kernel.empty()) {
    return InvalidError("spec.kernelBoot.kernel is empty");
  }
  if (spec.hugepages) {
    const int64_t page = spec.hugepages->page_size.Value();
    if (page <= 0) return InvalidError("spec.hugepages.pageSize must be positive");
    if (spec.memory.Value() % page != 0) {
      return InvalidError("spec.memory " + spec.memory.String() + " is not a whole number of " +
                          spec.hugepages->page_size.String() + " huge pages");
    }
  }
  const int64_t numa = spec.numa_nodes.value_or(0);
  if (numa > spec.cpus) {
    return InvalidError("spec.numaNodes " + std::to_string(numa) + " exceeds spec.cpus " +
                        std::to_string(spec.cpus));
  }
  for (const auto& d : spec.disks) {
    if (d.path.empty() && !d.network)
      return InvalidError("disk " + d.name + " has no path or network source");
  }
  return OkStatus();
}

std::string SpecHash(const api::VirtualMachine& vm, const NodeSettings& settings) {
  // Only what the definition is built from: running, serverGroup, evictionStrategy,
  // nodeSelector and tolerations change nothing in the domain.
  api::Json spec = api::Encode(vm.spec);
  for (const char* k :
       {"running", "serverGroup", "evictionStrategy", "nodeSelector", "tolerations"}) {
    spec.erase(k);
  }
  return Fnv1a64Hex(spec.dump() + "|" + settings.virt_type + "|" + settings.arch + "|" +
                    settings.emulator + "|" + settings.machine + "|" + settings.default_cpu_model +
                    "|" + settings.console_log_dir);
}

namespace {

// The vCPUs of guest NUMA cell `cell` of `cells` (contiguous, the remainder to the first ones).
std::pair<int64_t, int64_t> CellCpus(int64_t cpus, int64_t cells, int64_t cell) {
  const int64_t base = cpus / cells, extra = cpus % cells;
  const int64_t first = cell * base + std::min(cell, extra);
  return {first, first + base + (cell < extra ? 1 : 0) - 1};
}

// Memory of each guest NUMA cell in KiB (or whole huge pages), summing to the total.
std::vector<uint64_t> CellMemoryKiB(uint64_t total_bytes, uint64_t granule_bytes, int64_t cells) {
  const uint64_t granules = total_bytes / granule_bytes;
  std::vector<uint64_t> out;
  for (int64_t i = 0; i < cells; ++i) {
    const uint64_t g = granules / static_cast<uint64_t>(cells) +
                       (static_cast<uint64_t>(i) < granules % static_cast<uint64_t>(cells) ? 1 : 0);
    out.push_back(g * granule_bytes / 1024);
  }
  return out;
}

void AppendCpu(std::ostringstream& x, const api::VirtualMachineSpec& spec,
               const NodeSettings& settings) {
  std::string model = spec.cpu_model.empty() ? settings.default_cpu_model : spec.cpu_model;
  std::string numa;
  const int64_t cells = spec.numa_nodes.value_or(0);
  if (cells > 0) {
    const uint64_t granule =
        spec.hugepages ? static_cast<uint64_t>(spec.hugepages->page_size.Value()) : 1024;
    const auto mem = CellMemoryKiB(static_cast<uint64_t>(spec.memory.Value()), granule, cells);
    numa += "    <numa>\n";
    for (int64_t i = 0; i < cells; ++i) {
      const auto [lo, hi] = CellCpus(spec.cpus, cells, i);
      numa += "      <cell id='" + std::to_string(i) + "' cpus='" +
              (lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi)) +
              "' memory='" + std::to_string(mem[static_cast<size_t>(i)]) + "' unit='KiB'/>\n";
    }
    numa += "    </numa>\n";
  }
  if (model == api::kCpuModelHostPassthrough) {
    x << "  <cpu mode='host-passthrough' check='none' migratable='on'>\n" << numa << "  </cpu>\n";
  } else if (model.empty() || model == "host-model") {
    x << "  <cpu mode='host-model' check='none'>\n" << numa << "  </cpu>\n";
  } else {
    x << "  <cpu mode='custom' match='exact' check='none'>\n"
      << "    <model fallback='forbid'>" << Escape(model) << "</model>\n"
      << numa << "  </cpu>\n";
  }
}

void AppendDisk(std::ostringstream& x, const api::Disk& d, size_t index, bool with_boot_order,
                int64_t boot_order) {
  const std::string format(api::ToString(d.format));
  if (d.network) {
    const auto& n = *d.network;
    x << "    <disk type='network' device='disk'>\n"
      << "      <driver name='qemu' type='" << format << "'/>\n"
      << "      <source protocol='" << Escape(n.protocol) << "' name='" << Escape(n.name) << "'";
    if (!n.host.empty()) {
      x << ">\n        <host name='" << Escape(n.host) << "'";
      if (n.port > 0) x << " port='" << n.port << "'";
      x << "/>\n      </source>\n";
    } else {
      x << "/>\n";
    }
  } else if (d.path.rfind("/dev/", 0) == 0) {
    x << "    <disk type='block' device='disk'>\n"
      << "      <driver name='qemu' type='" << format << "' cache='none'/>\n"
      << "      <source dev='" << Escape(d.path) << "'/>\n";
  } else {
    x << "    <disk type='file' device='disk'>\n"
      << "      <driver name='qemu' type='" << format << "'/>\n"
      << "      <source file='" << Escape(d.path) << "'/>\n";
  }
  x << "      <target dev='" << DiskTarget(index) << "' bus='virtio'/>\n";
  if (d.read_only) x << "      <readonly/>\n";
  // Shared storage is marked shareable: the migration engine copies only the disks that are
  // not (VIR_MIGRATE_NON_SHARED_DISK with storage: Copy), and every node may open it.
  if (d.type == api::DiskType::kShared && !d.read_only) x << "      <shareable/>\n";
  if (with_boot_order && boot_order > 0) x << "      <boot order='" << boot_order << "'/>\n";
  x << "      <alias name='ua-" << Escape(d.name) << "'/>\n";
  x << "    </disk>\n";
}

}  // namespace

std::string DomainName(const std::string& ns, const std::string& name) { return ns + "_" + name; }

std::optional<std::pair<std::string, std::string>> SplitDomainName(const std::string& domain) {
  const auto sep = domain.find('_');
  if (sep == std::string::npos || sep == 0 || sep + 1 == domain.size()) return std::nullopt;
  if (domain.find('_', sep + 1) != std::string::npos) return std::nullopt;
  return std::make_pair(domain.substr(0, sep), domain.substr(sep + 1));
}

std::string ConsoleLogPath(const NodeSettings& settings, const std::string& ns,
                           const std::string& name) {
  std::string dir = settings.console_log_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/" + DomainName(ns, name) + ".log";
}

StatusOr<BuiltDomain> BuildDomain(const api::VirtualMachine& vm, const NodeSettings& settings,
                                  const DomainPlacement& placement) {
  FERRY_RETURN_IF_ERROR(ValidateSpec(vm));
  FERRY_RETURN_IF_ERROR(CheckPlacement(vm, placement));
  const auto& spec = vm.spec;
  const std::string name = DomainName(vm.metadata.namespace_, vm.metadata.name);
  const uint64_t memory_kib = static_cast<uint64_t>(spec.memory.Value()) / 1024;

  // Everything but <metadata>, which carries the hash of the rest.
  std::ostringstream body;
  body << "  <memory unit='KiB'>" << memory_kib << "</memory>\n"
       << "  <currentMemory unit='KiB'>" << memory_kib << "</currentMemory>\n";
  if (spec.hugepages) {
    body << "  <memoryBacking>\n    <hugepages>\n      <page size='"
         << spec.hugepages->page_size.Value() / 1024 << "' unit='KiB'/>\n"
         << "    </hugepages>\n  </memoryBacking>\n";
  }
  body << "  <vcpu placement='static'>" << spec.cpus << "</vcpu>\n";
  if (spec.dedicated_cpus) {
    body << "  <cputune>\n";
    for (size_t i = 0; i < placement.pinned_cpus.size(); ++i) {
      body << "    <vcpupin vcpu='" << i << "' cpuset='" << placement.pinned_cpus[i] << "'/>\n";
    }
    body << "  </cputune>\n";
  }
  if (!placement.host_cells.empty()) {
    body << "  <numatune>\n";
    for (size_t i = 0; i < placement.host_cells.size(); ++i) {
      body << "    <memnode cellid='" << i << "' mode='strict' nodeset='" << placement.host_cells[i]
           << "'/>\n";
    }
    body << "  </numatune>\n";
  }
  body << "  <os>\n    <type arch='" << Escape(settings.arch) << "'";
  if (!settings.machine.empty()) body << " machine='" << Escape(settings.machine) << "'";
  body << ">hvm</type>\n";
  bool disk_boot_order = false;
  if (spec.kernel_boot) {
    body << "    <kernel>" << Escape(spec.kernel_boot->kernel) << "</kernel>\n";
    if (!spec.kernel_boot->initrd.empty()) {
      body << "    <initrd>" << Escape(spec.kernel_boot->initrd) << "</initrd>\n";
    }
    if (!spec.kernel_boot->cmdline.empty()) {
      body << "    <cmdline>" << Escape(spec.kernel_boot->cmdline) << "</cmdline>\n";
    }
  } else {
    for (const auto& d : spec.disks) disk_boot_order = disk_boot_order || d.boot_order.has_value();
    if (!disk_boot_order) body << "    <boot dev='hd'/>\n";
  }
  body << "  </os>\n  <features>\n    <acpi/>\n  </features>\n";
  AppendCpu(body, spec, settings);
  body << "  <clock offset='utc'/>\n"
       << "  <on_poweroff>destroy</on_poweroff>\n"
       << "  <on_reboot>restart</on_reboot>\n"
       << "  <on_crash>destroy</on_crash>\n"
       << "  <devices>\n";
  if (!settings.emulator.empty()) {
    body << "    <emulator>" << Escape(settings.emulator) << "</emulator>\n";
  }
  for (size_t i = 0; i < spec.disks.size(); ++i) {
    AppendDisk(body, spec.disks[i], i, disk_boot_order, spec.disks[i].boot_order.value_or(0));
  }
  body << "    <controller type='usb' model='none'/>\n"
       << "    <serial type='file'>\n"
       << "      <source path='"
       << Escape(ConsoleLogPath(settings, vm.metadata.namespace_, vm.metadata.name))
       << "' append='on'/>\n"
       << "      <target port='0'/>\n"
       << "    </serial>\n"
       << "    <memballoon model='none'/>\n"
       << "  </devices>\n";

  const std::string head = "<domain type='" + Escape(settings.virt_type) + "'>\n  <name>" +
                           Escape(name) + "</name>\n  <uuid>" + Escape(vm.metadata.uid) +
                           "</uuid>\n";
  BuiltDomain out;
  out.name = name;
  out.spec_hash = SpecHash(vm, settings);
  out.xml = head + "  <metadata>\n    <ferry:vm xmlns:ferry='" + std::string(kFerryXmlns) +
            "' namespace='" + Escape(vm.metadata.namespace_) + "' name='" +
            Escape(vm.metadata.name) + "' uid='" + Escape(vm.metadata.uid) + "' specHash='" +
            out.spec_hash + "'/>\n  </metadata>\n" + body.str() + "</domain>\n";
  return out;
}

}  // namespace ferry::domain

// The Migratable condition as a table: spec × the other hosts' hardware → verdict and reason.
#include "vm/migratable.h"

#include <gtest/gtest.h>

#include <functional>

namespace ferry::op::vm {
namespace {

api::Quantity Q(const char* text) { return *api::Quantity::Parse(text); }

HostFacts Host(const std::string& name, const std::string& model = "Skylake-Server",
               int64_t dedicated = 0, std::map<int64_t, int64_t> pages = {}) {
  HostFacts h;
  h.name = name;
  h.cpu_model = model;
  h.cpu_models = {"Haswell", model};
  h.dedicated_cpus = dedicated;
  h.hugepages = std::move(pages);
  return h;
}

api::Disk Disk(const std::string& name, api::DiskType type, const std::string& path,
               const char* size = nullptr) {
  api::Disk d;
  d.name = name;
  d.type = type;
  d.path = path;
  if (size != nullptr) d.size = Q(size);
  return d;
}

constexpr int64_t k2Mi = int64_t{2} << 20;
constexpr int64_t k1Gi = int64_t{1} << 30;

struct Case {
  std::string name;
  std::function<void(api::VirtualMachine&)> spec;
  std::vector<HostFacts> hosts;  // n1 is the VM's node
  bool want;
  std::string want_reason;
  std::string want_in_message;
};

TEST(Migratable, Table) {
  auto plain = [](api::VirtualMachine&) {};
  const std::vector<Case> cases = {
      {"plain VM, another host",
       plain,
       {Host("n1"), Host("n2")},
       true,
       kReasonMigratable,
       "another host"},
      {"alone in the cluster", plain, {Host("n1")}, false, kReasonNoOtherHost, "no other node"},
      {"no hosts known at all", plain, {}, false, kReasonNoOtherHost, ""},
      {"host-passthrough, identical model elsewhere",
       [](auto& vm) { vm.spec.cpu_model = "host-passthrough"; },
       {Host("n1", "Icelake"), Host("n2", "Icelake")},
       true,
       kReasonMigratable,
       ""},
      {"host-passthrough, only other models",
       [](auto& vm) { vm.spec.cpu_model = "host-passthrough"; },
       {Host("n1", "Icelake"), Host("n2", "Skylake-Server"), Host("n3", "Haswell")},
       false,
       kReasonCpuModelUnavailable,
       "Icelake"},
      {"host-passthrough, own node unknown",
       [](auto& vm) { vm.spec.cpu_model = "host-passthrough"; },
       {Host("n2", "Icelake")},
       false,
       kReasonCpuModelUnavailable,
       "unknown"},
      {"named model offered by another host",
       [](auto& vm) { vm.spec.cpu_model = "Haswell"; },
       {Host("n1"), Host("n2")},
       true,
       kReasonMigratable,
       ""},
      {"named model nobody else offers",
       [](auto& vm) { vm.spec.cpu_model = "EPYC-Rome"; },
       {Host("n1", "EPYC-Rome"), Host("n2")},
       false,
       kReasonCpuModelUnavailable,
       "EPYC-Rome"},
      {"dedicated CPUs: enough elsewhere",
       [](auto& vm) {
         vm.spec.dedicated_cpus = true;
         vm.spec.cpus = 4;
       },
       {Host("n1", "Skylake-Server", 8), Host("n2", "Skylake-Server", 4)},
       true,
       kReasonMigratable,
       ""},
      {"dedicated CPUs: too few elsewhere",
       [](auto& vm) {
         vm.spec.dedicated_cpus = true;
         vm.spec.cpus = 4;
       },
       {Host("n1", "Skylake-Server", 8), Host("n2", "Skylake-Server", 2)},
       false,
       kReasonNoDedicatedCpus,
       "4 dedicated"},
      {"hugepages: a pool of the size, big enough",
       [](auto& vm) {
         vm.spec.hugepages = api::Hugepages{Q("2Mi"), {}};
         vm.spec.memory = Q("1Gi");
       },
       {Host("n1"), Host("n2", "Skylake-Server", 0, {{k2Mi, 2 * k1Gi}})},
       true,
       kReasonMigratable,
       ""},
      {"hugepages: only another size elsewhere",
       [](auto& vm) {
         vm.spec.hugepages = api::Hugepages{Q("2Mi"), {}};
         vm.spec.memory = Q("1Gi");
       },
       {Host("n1", "Skylake-Server", 0, {{k2Mi, 2 * k1Gi}}),
        Host("n2", "Skylake-Server", 0, {{k1Gi, 4 * k1Gi}})},
       false,
       kReasonNoHugepages,
       "1024 MiB"},
      {"hugepages: the pool is too small",
       [](auto& vm) {
         vm.spec.hugepages = api::Hugepages{Q("2Mi"), {}};
         vm.spec.memory = Q("4Gi");
       },
       {Host("n1"), Host("n2", "Skylake-Server", 0, {{k2Mi, 2 * k1Gi}})},
       false,
       kReasonNoHugepages,
       ""},
      {"each rule met somewhere, never all on one host",
       [](auto& vm) {
         vm.spec.cpu_model = "host-passthrough";
         vm.spec.dedicated_cpus = true;
         vm.spec.cpus = 2;
       },
       {Host("n1", "Icelake", 4), Host("n2", "Icelake", 0), Host("n3", "Skylake-Server", 4)},
       false,
       kReasonNoCompatibleHost,
       ""},
      {"shared and network disks move as they are",
       [](auto& vm) {
         vm.spec.disks = {Disk("root", api::DiskType::kShared, "/shared/root.qcow2")};
         api::Disk net = Disk("data", api::DiskType::kLocal, "");
         net.network = api::NetworkDiskSource{"nbd", "data", "10.0.0.1", 10809, {}};
         vm.spec.disks.push_back(net);
       },
       {Host("n1"), Host("n2")},
       true,
       kReasonMigratable,
       ""},
      {"local disk with a size: copied with storage: Copy",
       [](auto& vm) {
         vm.spec.disks = {Disk("root", api::DiskType::kLocal, "/var/lib/ferry/root.qcow2", "10Gi")};
       },
       {Host("n1"), Host("n2")},
       true,
       kReasonMigratable,
       "storage: Copy"},
      {"local disk without a size",
       [](auto& vm) {
         vm.spec.disks = {Disk("root", api::DiskType::kLocal, "/var/lib/ferry/root.qcow2")};
       },
       {Host("n1"), Host("n2")},
       false,
       kReasonLocalDiskNotCopyable,
       "no size"},
      {"local block device",
       [](auto& vm) {
         vm.spec.disks = {Disk("fast", api::DiskType::kLocal, "/dev/nvme0n1", "100Gi")};
       },
       {Host("n1"), Host("n2")},
       false,
       kReasonLocalDiskNotCopyable,
       "block device"},
      {"read-only local disk: nothing to copy",
       [](auto& vm) {
         api::Disk iso = Disk("iso", api::DiskType::kLocal, "/dev/sr0");
         iso.read_only = true;
         vm.spec.disks = {iso};
       },
       {Host("n1"), Host("n2")},
       true,
       kReasonMigratable,
       ""},
      {"the disk rule comes first",
       [](auto& vm) { vm.spec.disks = {Disk("root", api::DiskType::kLocal, "/var/root.img")}; },
       {Host("n1")},
       false,
       kReasonLocalDiskNotCopyable,
       ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    api::VirtualMachine vm;
    vm.metadata.name = "web";
    vm.spec.running = true;
    vm.spec.cpus = 2;
    vm.spec.memory = Q("2Gi");
    vm.status.node_name = "n1";
    c.spec(vm);
    const MigratableVerdict v = DecideMigratable(vm, c.hosts);
    EXPECT_EQ(v.migratable, c.want);
    EXPECT_EQ(v.reason, c.want_reason);
    EXPECT_NE(v.message.find(c.want_in_message), std::string::npos) << v.message;
  }
}

}  // namespace
}  // namespace ferry::op::vm

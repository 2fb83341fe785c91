// The domain definition of a VM (a table of specs), each validated by libvirt's own parser
// and RNG schema: defined through the adapter on the test:///default driver
// (VIR_DOMAIN_DEFINE_VALIDATE) and read back.
#include "domain/domain_builder.h"

#include <gtest/gtest.h>

#include <functional>

#include "builders.h"
#include "domain/domain_description.h"
#include "libvirt/libvirt_node.h"

namespace ferry::domain {
namespace {

using agent::testing::Q;
using agent::testing::Vm;

NodeSettings Lab() {
  NodeSettings s;
  s.virt_type = "qemu";
  s.emulator = "/tmp/ferry-lab/qemu-bpo/qemu-system-x86_64";
  s.machine = "pc-i440fx-7.2";
  s.default_cpu_model = "qemu64";
  s.console_log_dir = "/var/log/libvirt/qemu";
  return s;
}

struct Case {
  std::string name;
  std::function<void(api::VirtualMachine&, DomainPlacement&)> setup;
  std::vector<std::string> contains;  // substrings of the XML
};

// Test names show the case, not its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> Cases() {
  return {
      {"kernel boot, node defaults",
       [](auto&, auto&) {},
       {"<domain type='qemu'>", "<name>prod_web</name>", "<memory unit='KiB'>131072</memory>",
        "<kernel>/images/vmlinuz</kernel>", "<initrd>/images/initrd.gz</initrd>",
        "<cmdline>console=ttyS0</cmdline>", "<model fallback='forbid'>qemu64</model>",
        "<emulator>/tmp/ferry-lab/qemu-bpo/qemu-system-x86_64</emulator>",
        "machine='pc-i440fx-7.2'", "path='/var/log/libvirt/qemu/prod_web.log'",
        "<on_crash>destroy</on_crash>"}},
      {"host-passthrough",
       [](auto& vm, auto&) { vm.spec.cpu_model = "host-passthrough"; },
       {"<cpu mode='host-passthrough' check='none' migratable='on'>"}},
      {"named CPU model",
       [](auto& vm, auto&) { vm.spec.cpu_model = "Skylake-Client"; },
       {"<model fallback='forbid'>Skylake-Client</model>"}},
      {"dedicated CPUs pinned",
       [](auto& vm, auto& p) {
         vm.spec.cpus = 2;
         vm.spec.dedicated_cpus = true;
         p.pinned_cpus = {6, 7};
       },
       {"<vcpu placement='static'>2</vcpu>", "<vcpupin vcpu='0' cpuset='6'/>",
        "<vcpupin vcpu='1' cpuset='7'/>"}},
      {"two NUMA nodes bound to host cells",
       [](auto& vm, auto& p) {
         vm.spec.cpus = 3;
         vm.spec.memory = Q("1Gi");
         vm.spec.numa_nodes = 2;
         vm.spec.dedicated_cpus = true;
         p.pinned_cpus = {4, 5, 1};
         p.host_cells = {1, 0};
       },
       {"<cell id='0' cpus='0-1' memory='524288' unit='KiB'/>",
        "<cell id='1' cpus='2' memory='524288' unit='KiB'/>",
        "<memnode cellid='0' mode='strict' nodeset='1'/>"}},
      {"huge pages",
       [](auto& vm, auto&) {
         vm.spec.memory = Q("256Mi");
         vm.spec.hugepages = api::Hugepages{Q("2Mi"), {}};
       },
       {"<page size='2048' unit='KiB'/>"}},
      {"disks: shared file, local file, block, network, boot order",
       [](auto& vm, auto&) {
         vm.spec.kernel_boot.reset();
         api::Disk shared;
         shared.name = "data";
         shared.path = "/shared/data.qcow2";
         shared.format = api::DiskFormat::kQcow2;
         api::Disk local;
         local.name = "root";
         local.type = api::DiskType::kLocal;
         local.path = "/var/lib/libvirt/images/web.img";
         local.boot_order = 1;
         api::Disk blk;
         blk.name = "scratch";
         blk.type = api::DiskType::kLocal;
         blk.path = "/dev/vg0/web";
         api::Disk net;
         net.name = "iso";
         net.network = api::NetworkDiskSource{"nbd", "install", "10.0.0.5", 10809, {}};
         net.read_only = true;
         vm.spec.disks = {shared, local, blk, net};
       },
       {"<source file='/shared/data.qcow2'/>", "<driver name='qemu' type='qcow2'/>", "<shareable/>",
        "<target dev='vdb' bus='virtio'/>", "<boot order='1'/>", "<source dev='/dev/vg0/web'/>",
        "<source protocol='nbd' name='install'>", "<host name='10.0.0.5' port='10809'/>",
        "<readonly/>", "<alias name='ua-root'/>"}},
  };
}

class BuildDomainTest : public ::testing::TestWithParam<Case> {
 protected:
  static std::unique_ptr<NodeHypervisor>& Node() {
    static std::unique_ptr<NodeHypervisor> node =
        libvirt::NewLibvirtNodeHypervisor({"test:///default", "", "test", "x86_64", "", ""});
    return node;
  }
};

TEST_P(BuildDomainTest, LibvirtAcceptsIt) {
  api::VirtualMachine vm = Vm();
  DomainPlacement placement;
  GetParam().setup(vm, placement);
  auto built = BuildDomain(vm, Lab(), placement);
  ASSERT_TRUE(built.ok()) << built.status();
  for (const auto& s : GetParam().contains) {
    EXPECT_NE(built->xml.find(s), std::string::npos) << "missing " << s << " in\n" << built->xml;
  }
  // libvirt's parser and schema (test:///default driver, VIR_DOMAIN_DEFINE_VALIDATE).
  Status defined = Node()->Define(built->xml);
  ASSERT_TRUE(defined.ok()) << defined << "\n" << built->xml;
  auto back = Node()->GetDomain("prod_web");
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(back->has_value());
  const DomainInfo& d = **back;
  EXPECT_EQ(d.uuid, vm.metadata.uid);
  EXPECT_EQ(d.vcpus, vm.spec.cpus);
  EXPECT_EQ(d.memory_bytes, static_cast<uint64_t>(vm.spec.memory.Value()));
  std::vector<int> pins = placement.pinned_cpus;
  std::sort(pins.begin(), pins.end());
  EXPECT_EQ(d.pinned_cpus, pins);
  EXPECT_EQ(d.hugepage_size_bytes,
            vm.spec.hugepages ? static_cast<uint64_t>(vm.spec.hugepages->page_size.Value()) : 0);
  ASSERT_TRUE(d.mark.has_value());
  EXPECT_EQ(d.mark->vm_namespace, "prod");
  EXPECT_EQ(d.mark->vm_name, "web");
  EXPECT_EQ(d.mark->vm_uid, vm.metadata.uid);
  EXPECT_EQ(d.mark->spec_hash, built->spec_hash);
  EXPECT_EQ(d.disks.size(), vm.spec.disks.size());
  Status undefined = Node()->Undefine("prod_web");
  EXPECT_TRUE(undefined.ok()) << undefined;
}

INSTANTIATE_TEST_SUITE_P(Table, BuildDomainTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           std::string n;
                           for (char ch : param.param.name)
                             n += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return n;
                         });

TEST(BuildDomain, RefusesSpecsThatCannotBeDomains) {
  api::VirtualMachine vm = Vm();
  vm.spec.kernel_boot.reset();
  EXPECT_EQ(BuildDomain(vm, Lab(), {}).status().message(),
            "no boot source: the spec has neither kernelBoot nor disks");
  vm = Vm();
  vm.spec.hugepages = api::Hugepages{Q("1Gi"), {}};
  EXPECT_EQ(BuildDomain(vm, Lab(), {}).status().message(),
            "spec.memory 128Mi is not a whole number of 1Gi huge pages");
  vm = Vm();
  vm.spec.dedicated_cpus = true;
  EXPECT_EQ(BuildDomain(vm, Lab(), {}).status().message(),
            "dedicatedCpus: 0 host CPUs chosen for 1 vCPUs");
  vm = Vm();
  vm.spec.numa_nodes = 2;
  EXPECT_EQ(BuildDomain(vm, Lab(), {}).status().message(), "spec.numaNodes 2 exceeds spec.cpus 1");
  vm = Vm();
  vm.metadata.uid.clear();
  EXPECT_EQ(BuildDomain(vm, Lab(), {}).status().code(), StatusCode::kInvalid);
}

TEST(BuildDomain, TheHashFollowsTheSpecNotThePlacement) {
  api::VirtualMachine vm = Vm();
  vm.spec.cpus = 2;
  vm.spec.dedicated_cpus = true;
  auto a = BuildDomain(vm, Lab(), {{0, 1}, {}});
  auto b = BuildDomain(vm, Lab(), {{2, 3}, {}});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->spec_hash, b->spec_hash);
  vm.spec.running = false;  // not part of the definition
  vm.spec.server_group = "web";
  EXPECT_EQ(SpecHash(vm, Lab()), a->spec_hash);
  vm.spec.memory = Q("256Mi");
  EXPECT_NE(SpecHash(vm, Lab()), a->spec_hash);
  NodeSettings other = Lab();
  other.emulator = "/usr/bin/qemu-system-x86_64";
  EXPECT_NE(SpecHash(vm, other), SpecHash(vm, Lab()));
}

TEST(DomainName, OneToOne) {
  EXPECT_EQ(DomainName("prod", "web-1"), "prod_web-1");
  auto parts = SplitDomainName("prod_web-1");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->first, "prod");
  EXPECT_EQ(parts->second, "web-1");
  EXPECT_FALSE(SplitDomainName("ferry-lab-vm").has_value());
  EXPECT_FALSE(SplitDomainName("a_b_c").has_value());
  EXPECT_FALSE(SplitDomainName("_x").has_value());
  EXPECT_EQ(ConsoleLogPath(Lab(), "prod", "web"), "/var/log/libvirt/qemu/prod_web.log");
}

}  // namespace
}  // namespace ferry::domain

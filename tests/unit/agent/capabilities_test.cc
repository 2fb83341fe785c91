// Host facts from libvirt's capabilities XML (real documents: a QEMU host's, and the
// test:/// driver's through the adapter), usable CPU models, version strings.
#include "domain/capabilities.h"

#include <gtest/gtest.h>

#include "libvirt/libvirt_node.h"

namespace ferry::domain {
namespace {

// Trimmed from `virsh capabilities` of a libvirt 9.0 / QEMU host.
const char* kQemuCaps = R"(<capabilities>
  <host>
    <uuid>f0000000-0000-4000-8000-00000000000a</uuid>
    <cpu>
      <arch>x86_64</arch>
      <model>Skylake-Client-IBRS</model>
      <vendor>Intel</vendor>
      <microcode version='240'/>
      <topology sockets='1' dies='1' cores='2' threads='1'/>
      <feature name='vmx'/>
      <feature name='ds'/>
      <pages unit='KiB' size='4'/>
      <pages unit='KiB' size='2048'/>
      <pages unit='KiB' size='1048576'/>
    </cpu>
    <topology>
      <cells num='1'>
        <cell id='0'>
          <memory unit='KiB'>24576000</memory>
          <pages unit='KiB' size='4'>6144000</pages>
          <pages unit='KiB' size='2048'>128</pages>
          <pages unit='KiB' size='1048576'>0</pages>
          <distances><sibling id='0' value='10'/></distances>
          <cpus num='2'>
            <cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0'/>
            <cpu id='1' socket_id='0' die_id='0' core_id='1' siblings='1'/>
          </cpus>
        </cell>
      </cells>
    </topology>
  </host>
</capabilities>)";

const char* kDomCaps = R"(<domainCapabilities>
  <path>/tmp/ferry-lab/qemu-bpo/qemu-system-x86_64</path>
  <domain>qemu</domain>
  <cpu>
    <mode name='host-passthrough' supported='no'/>
    <mode name='custom' supported='yes'>
      <model usable='yes' vendor='AMD'>qemu64</model>
      <model usable='no' vendor='Intel'>Skylake-Server</model>
      <model usable='yes' vendor='Intel'>Nehalem</model>
    </mode>
  </cpu>
</domainCapabilities>)";

TEST(ParseCapabilities, AQemuHost) {
  HostFacts f;
  ASSERT_TRUE(ParseCapabilities(kQemuCaps, &f).ok());
  EXPECT_EQ(f.arch, "x86_64");
  EXPECT_EQ(f.cpu_model, "Skylake-Client-IBRS");
  EXPECT_EQ(f.cpu_vendor, "Intel");
  EXPECT_EQ(f.cpu_features, (std::vector<std::string>{"ds", "vmx"}));
  EXPECT_EQ(f.cpus, (std::vector<int>{0, 1}));
  ASSERT_EQ(f.cells.size(), 1u);
  EXPECT_EQ(f.cells[0].memory_bytes, 24576000ULL * 1024);
  EXPECT_EQ(f.memory_bytes, 24576000ULL * 1024);
  // Huge pages only (the 4 KiB base pages are not): 128 × 2 MiB, 0 × 1 GiB.
  EXPECT_EQ(f.cells[0].hugepages.size(), 2u);
  EXPECT_EQ(f.cells[0].hugepages.at(2ULL << 20), 128u);
  EXPECT_EQ(f.cells[0].hugepages.at(1ULL << 30), 0u);
}

TEST(ParseCapabilities, Malformed) {
  HostFacts f;
  EXPECT_EQ(ParseCapabilities("<capabilities><host>", &f).code(), StatusCode::kInvalid);
  EXPECT_EQ(ParseCapabilities("<capabilities/>", &f).code(), StatusCode::kInvalid);
}

// Found by fuzzing: ids were read with atoi (garbage became CPU 0, a CPU could be listed
// twice and handed out twice) and page counts with stoull (which threw).
TEST(ParseCapabilities, BadIdsAndCountsAreErrors) {
  const auto caps = [](const std::string& cells) {
    return "<capabilities><host><cpu><arch>x86_64</arch></cpu><topology><cells num='1'>" + cells +
           "</cells></topology></host></capabilities>";
  };
  struct Case {
    const char* cells;
    const char* error;  // "" = parses
  } cases[] = {
      {"<cell id='0'><cpus num='2'><cpu id='1'/><cpu id='0'/></cpus></cell>", ""},
      {"<cell id='0'><cpus num='2'><cpu id='0'/><cpu id='0'/></cpus></cell>", "cpu 0 is listed twice"},
      {"<cell id='0'><cpus num='1'><cpu id='x'/></cpus></cell>", "cpu id: 'x' is not a number"},
      {"<cell id='0'><cpus num='1'><cpu id='-1'/></cpus></cell>", "cpu id: '-1' is not a number"},
      {"<cell id='0'><cpus num='1'><cpu id='99999999999'/></cpus></cell>", "out of range"},
      {"<cell id='a'/>", "cell id: 'a' is not a number"},
      {"<cell id='0'><pages unit='KiB' size='2048'>many</pages></cell>", "huge page count: 'many'"},
  };
  for (const auto& c : cases) {
    HostFacts f;
    Status st = ParseCapabilities(caps(c.cells), &f);
    if (std::string(c.error).empty()) {
      EXPECT_TRUE(st.ok()) << c.cells << ": " << st;
    } else {
      EXPECT_EQ(st.code(), StatusCode::kInvalid) << c.cells;
      EXPECT_NE(st.message().find(c.error), std::string::npos) << c.cells << ": " << st;
    }
  }
}

TEST(ParseUsableCpuModels, OnlyUsableOnes) {
  auto m = ParseUsableCpuModels(kDomCaps);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (std::vector<std::string>{"qemu64", "Nehalem"}));
}

TEST(Versions, QemuAndLibvirt) {
  EXPECT_EQ(ParseQemuVersionOutput("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-1~bpo12+1)\n"
                                   "Copyright (c) 2003-2025 Fabrice Bellard"),
            "10.0.2");
  EXPECT_EQ(ParseQemuVersionOutput("QEMU emulator version 7.2.15"), "7.2.15");
  EXPECT_EQ(ParseQemuVersionOutput("sh: not found"), "");
  EXPECT_EQ(FormatLibvirtVersion(9000000), "9.0.0");
  EXPECT_EQ(FormatLibvirtVersion(10005003), "10.5.3");
}

TEST(LibvirtNodeHypervisor, HostFactsFromTheTestDriver) {
  auto node =
      libvirt::NewLibvirtNodeHypervisor({"test:///default", "", "test", "x86_64", "", "7.2.0"});
  auto f = node->Host();
  ASSERT_TRUE(f.ok()) << f.status();
  // test:///default: two cells of 8 CPUs, 2 GiB and 4 GiB.
  EXPECT_EQ(f->cpus.size(), 16u);
  ASSERT_EQ(f->cells.size(), 2u);
  EXPECT_EQ(f->cells[1].cpus.front(), 8);
  EXPECT_EQ(f->memory_bytes, 6ULL << 30);
  EXPECT_EQ(f->libvirt_version.substr(0, 2), "9.");
  EXPECT_EQ(f->qemu_version, "7.2.0");  // --qemu-version wins
  EXPECT_TRUE(f->cpu_models.empty());   // the test driver has no domain capabilities
}

}  // namespace
}  // namespace ferry::domain

#include "migration/domain_xml.h"

#include <gtest/gtest.h>

namespace ferry::migration {
namespace {

constexpr const char* kDomain = R"(<domain type='qemu'>
  <name>vm1</name>
  <uuid>f0000000-0000-4000-8000-0000000000c1</uuid>
  <memory unit='MiB'>256</memory>
  <devices>
    <disk type='file' device='disk'><source file='/var/lib/libvirt/images/vm1.qcow2'/><target dev='vda'/></disk>
    <disk type='file' device='cdrom'><source file='/iso/seed.iso'/><target dev='sda'/><readonly/></disk>
    <disk type='network' device='disk'><source protocol='rbd' name='pool/vm1-data'/><target dev='vdb'/></disk>
    <disk type='block' device='disk'><source dev='/dev/vg/vm1-scratch'/><target dev='vdc'/></disk>
    <disk type='file' device='disk'><source file='/shared/nfs/vm1-home.img'/><target dev='vdd'/></disk>
    <disk type='file' device='disk'><source file='/var/lib/libvirt/images/cluster.img'/><target dev='vde'/><shareable/></disk>
  </devices>
</domain>)";

TEST(ParseDomainXml, Fields) {
  auto info = ParseDomainXml(kDomain);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->name, "vm1");
  EXPECT_EQ(info->uuid, "f0000000-0000-4000-8000-0000000000c1");
  EXPECT_EQ(info->memory_bytes, 256ULL << 20);
  ASSERT_EQ(info->disks.size(), 6u);
  EXPECT_EQ(info->disks[0].source, "/var/lib/libvirt/images/vm1.qcow2");
  EXPECT_EQ(info->disks[1].device, "cdrom");
  EXPECT_TRUE(info->disks[1].readonly);
  EXPECT_EQ(info->disks[2].source, "pool/vm1-data");
  EXPECT_EQ(info->disks[3].source, "/dev/vg/vm1-scratch");
  EXPECT_TRUE(info->disks[5].shareable);
}

TEST(LocalDiskTargets, OnlyWritableUnsharedLocalDisks) {
  auto info = ParseDomainXml(kDomain);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(LocalDiskTargets(*info), (std::vector<std::string>{"vda", "vdc", "vdd"}));
  EXPECT_EQ(LocalDiskTargets(*info, {"/shared/"}), (std::vector<std::string>{"vda", "vdc"}));
}

struct MemCase {
  std::string xml_memory;
  std::uint64_t bytes;
};

TEST(ParseDomainXml, MemoryUnits) {
  for (const MemCase& c : {MemCase{"<memory>1024</memory>", 1024ULL << 10},
                           MemCase{"<memory unit='KiB'>2048</memory>", 2048ULL << 10},
                           MemCase{"<memory unit='GiB'>2</memory>", 2ULL << 30},
                           MemCase{"<memory unit='MB'>5</memory>", 5000000},
                           MemCase{"<memory unit='b'>4096</memory>", 4096}}) {
    auto info = ParseDomainXml("<domain><name>x</name>" + c.xml_memory + "</domain>");
    ASSERT_TRUE(info.ok()) << c.xml_memory << ": " << info.status();
    EXPECT_EQ(info->memory_bytes, c.bytes) << c.xml_memory;
  }
}

TEST(ParseDomainXml, BadInputIsAClearError) {
  for (const char* xml :
       {"", "<domain><name>x</name>", "<network><name>x</name></network>", "<domain></domain>",
        "<domain><name>x</name><memory unit='parsec'>1</memory></domain>",
        "<domain><name>x</name><memory>lots</memory></domain>",
        "<domain><name>x</name><memory>-1</memory></domain>",  // not 2^64 - 1 KiB
        "<domain><name>x</name><memory>1024abc</memory></domain>",
        "<domain><name>x</name><memory unit='TiB'>99999999</memory></domain>",  // past 2^64 bytes
        "not xml at all"}) {
    auto info = ParseDomainXml(xml);
    ASSERT_FALSE(info.ok()) << xml;
    EXPECT_EQ(info.status().code(), StatusCode::kInvalid) << xml;
    EXPECT_FALSE(info.status().message().empty());
  }
}

}  // namespace
}  // namespace ferry::migration

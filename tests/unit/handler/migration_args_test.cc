// The adapter's translation of a plan into libvirt flags and typed parameters. This test of
// ferry_libvirt includes libvirt's header to compare against its real constants.
#include "libvirt/migration_args.h"

#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

namespace ferry::libvirt {
namespace {

using migration::MigrationPlan;

TEST(ToLibvirtArgs, PreCopyFlagsOfDesign) {
  MigrationPlan p;
  p.flags.live = p.flags.peer2peer = p.flags.persist_dest = p.flags.undefine_source = true;
  const auto a = ToLibvirtArgs(p);
  EXPECT_EQ(a.flags, static_cast<unsigned>(VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER |
                                           VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE));
  EXPECT_TRUE(a.params.empty());
}

TEST(ToLibvirtArgs, EveryFlag) {
  struct C {
    bool migration::MigrationFlags::*field;
    unsigned bit;
  };
  for (const C& c : {C{&migration::MigrationFlags::offline, VIR_MIGRATE_OFFLINE},
                     C{&migration::MigrationFlags::postcopy, VIR_MIGRATE_POSTCOPY},
                     C{&migration::MigrationFlags::postcopy_resume, VIR_MIGRATE_POSTCOPY_RESUME},
                     C{&migration::MigrationFlags::auto_converge, VIR_MIGRATE_AUTO_CONVERGE},
                     C{&migration::MigrationFlags::non_shared_disk, VIR_MIGRATE_NON_SHARED_DISK},
                     C{&migration::MigrationFlags::parallel, VIR_MIGRATE_PARALLEL},
                     C{&migration::MigrationFlags::tls, VIR_MIGRATE_TLS}}) {
    MigrationPlan p;
    p.flags.*(c.field) = true;
    EXPECT_EQ(ToLibvirtArgs(p).flags, c.bit);
  }
}

TEST(ToLibvirtArgs, Params) {
  MigrationPlan p;
  p.flags.postcopy = p.flags.auto_converge = p.flags.parallel = true;
  p.bandwidth_mib_per_s = 32;
  p.parallel_connections = 4;
  p.migrate_disks = {"vda", "vdb"};
  p.migrate_uri = "tcp://10.0.0.2";
  p.auto_converge_initial = 20;
  p.auto_converge_increment = 10;
  const auto a = ToLibvirtArgs(p);
  const std::vector<MigrationParam> want{
      {VIR_MIGRATE_PARAM_BANDWIDTH, std::uint64_t{32}},
      {VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY, std::uint64_t{32}},
      {VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS, 4},
      {VIR_MIGRATE_PARAM_MIGRATE_DISKS, std::string("vda")},
      {VIR_MIGRATE_PARAM_MIGRATE_DISKS, std::string("vdb")},
      {VIR_MIGRATE_PARAM_URI, std::string("tcp://10.0.0.2")},
      {VIR_MIGRATE_PARAM_AUTO_CONVERGE_INITIAL, 20},
      {VIR_MIGRATE_PARAM_AUTO_CONVERGE_INCREMENT, 10},
  };
  EXPECT_EQ(a.params, want);
}

TEST(ToLibvirtArgs, PostCopyBandwidthOnlyWithPostCopy) {
  MigrationPlan p;
  p.bandwidth_mib_per_s = 8;
  const auto a = ToLibvirtArgs(p);
  ASSERT_EQ(a.params.size(), 1u);
  EXPECT_EQ(a.params[0].name, VIR_MIGRATE_PARAM_BANDWIDTH);
}

}  // namespace
}  // namespace ferry::libvirt

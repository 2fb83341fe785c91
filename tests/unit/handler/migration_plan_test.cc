#include "migration/migration_plan.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::migration {
namespace {

MigrationOptions Base() {
  MigrationOptions o;
  o.domain = "vm1";
  o.source_uri = "qemu:///system";
  o.destination_uri = "qemu+tcp://10.0.0.2/system";
  return o;
}
DomainFacts Running(std::uint64_t mib = 1024) {
  DomainFacts f;
  f.active = true;
  f.persistent = true;
  f.memory_bytes = mib << 20;
  return f;
}

struct FlagCase {
  std::string name;
  Mode mode;
  bool allow_postcopy;
  bool allow_auto_converge;
  MigrationFlags want;
};

class PlanFlagsTest : public ::testing::TestWithParam<FlagCase> {};

TEST_P(PlanFlagsTest, FlagsFromOptions) {
  auto o = Base();
  o.mode = GetParam().mode;
  o.allow_postcopy = GetParam().allow_postcopy;
  o.allow_auto_converge = GetParam().allow_auto_converge;
  auto p = BuildPlan(o, Running());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->flags, GetParam().want);
  EXPECT_EQ(p->policy.allow_postcopy, GetParam().want.postcopy);
  EXPECT_EQ(p->policy.auto_converge_armed, GetParam().want.auto_converge);
  EXPECT_EQ(p->policy.switch_after_first_pass, GetParam().mode == Mode::kPostCopy);
}

MigrationFlags Live(bool postcopy, bool ac) {
  MigrationFlags f;
  f.live = f.peer2peer = f.persist_dest = f.undefine_source = true;
  f.postcopy = postcopy;
  f.auto_converge = ac;
  return f;
}

INSTANTIATE_TEST_SUITE_P(
    Modes, PlanFlagsTest,
    ::testing::Values(FlagCase{"auto_default", Mode::kAuto, true, true, Live(true, true)},
                      FlagCase{"auto_no_postcopy", Mode::kAuto, false, true, Live(false, true)},
                      FlagCase{"auto_nothing", Mode::kAuto, false, false, Live(false, false)},
                      FlagCase{"precopy", Mode::kPreCopy, true, true, Live(false, true)},
                      FlagCase{"postcopy_no_autoconverge", Mode::kPostCopy, true, true,
                               Live(true, false)}),
    [](const auto& i) { return i.param.name; });

TEST(BuildPlan, ParamsFromOptions) {
  auto o = Base();
  o.mode = Mode::kPreCopy;
  o.bandwidth_bytes_per_s = 32 << 20;
  o.parallel_connections = 4;
  o.migrate_uri = "tcp://10.0.0.2:49152";
  o.max_downtime_ms = 400;
  o.completion_timeout_per_gib_s = 100;
  auto p = BuildPlan(o, Running(512));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->bandwidth_mib_per_s, 32u);
  EXPECT_TRUE(p->flags.parallel);
  EXPECT_EQ(p->parallel_connections, 4u);
  EXPECT_EQ(p->migrate_uri, "tcp://10.0.0.2:49152");
  EXPECT_EQ(p->policy.downtime_schedule_ms, (std::vector<std::uint32_t>{100, 200, 400}));
  EXPECT_EQ(p->initial_downtime_ms, 100u);
  EXPECT_EQ(p->policy.completion_timeout, Millis(50000));  // 100 s/GiB × 0.5 GiB
  EXPECT_EQ(p->auto_converge_initial, 20);
}

TEST(BuildPlan, ParallelIgnoredWithPostCopyAndSaysSo) {
  auto o = Base();
  o.parallel_connections = 4;
  auto p = BuildPlan(o, Running());
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->flags.parallel);
  ASSERT_EQ(p->notes.size(), 1u);
  EXPECT_NE(p->notes[0].find("parallel"), std::string::npos);
}

TEST(BuildPlan, CopyStorageListsLocalDisks) {
  auto o = Base();
  o.copy_storage = true;
  auto f = Running();
  f.local_disk_targets = {"vda", "vdb"};
  auto p = BuildPlan(o, f);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->flags.non_shared_disk);
  EXPECT_EQ(p->migrate_disks, (std::vector<std::string>{"vda", "vdb"}));
}

TEST(BuildPlan, CopyStorageWithoutLocalDisksIsANote) {
  auto o = Base();
  o.copy_storage = true;
  auto p = BuildPlan(o, Running());
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->flags.non_shared_disk);
  EXPECT_EQ(p->notes.size(), 1u);
}

TEST(BuildPlan, OfflineFlags) {
  auto o = Base();
  o.offline = true;
  DomainFacts f = Running();
  f.active = false;
  auto p = BuildPlan(o, f);
  ASSERT_TRUE(p.ok()) << p.status();
  MigrationFlags want;
  want.offline = want.peer2peer = want.persist_dest = want.undefine_source = true;
  EXPECT_EQ(p->flags, want);
}

TEST(BuildPlan, OfflineWithLocalDisksMigratesAPausedGuestWithStorage) {
  auto o = Base();
  o.offline = true;
  o.copy_storage = true;
  DomainFacts f = Running();
  f.active = false;
  f.local_disk_targets = {"vda"};
  auto p = BuildPlan(o, f);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->flags.offline);
  EXPECT_FALSE(p->flags.live);
  EXPECT_TRUE(p->flags.non_shared_disk);
}

TEST(BuildPlan, TransientDomainIsNotUndefined) {
  auto f = Running();
  f.persistent = false;
  auto p = BuildPlan(Base(), f);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->flags.undefine_source);
  EXPECT_TRUE(p->flags.persist_dest);
}

struct BadCase {
  std::string name;
  std::function<void(MigrationOptions&, DomainFacts&)> mutate;
  StatusCode code;
  std::string contains;
};

class PlanErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(PlanErrorTest, ClearError) {
  auto o = Base();
  auto f = Running();
  GetParam().mutate(o, f);
  auto p = BuildPlan(o, f);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), GetParam().code);
  EXPECT_NE(p.status().message().find(GetParam().contains), std::string::npos) << p.status();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, PlanErrorTest,
    ::testing::Values(
        BadCase{"no_domain", [](auto& o, auto&) { o.domain = ""; }, StatusCode::kInvalid, "domain"},
        BadCase{"same_uri", [](auto& o, auto&) { o.destination_uri = o.source_uri; },
                StatusCode::kInvalid, "equals"},
        BadCase{"bad_migrate_uri", [](auto& o, auto&) { o.migrate_uri = "10.0.0.2"; },
                StatusCode::kInvalid, "tcp://"},
        BadCase{"postcopy_forbidden",
                [](auto& o, auto&) {
                  o.mode = Mode::kPostCopy;
                  o.allow_postcopy = false;
                },
                StatusCode::kInvalid, "contradicts"},
        BadCase{"zero_downtime", [](auto& o, auto&) { o.max_downtime_ms = 0; },
                StatusCode::kInvalid, "downtime"},
        BadCase{"bad_timeout", [](auto& o, auto&) { o.completion_timeout_per_gib_s = -1; },
                StatusCode::kInvalid, "timeout"},
        BadCase{"schedule_not_ascending",
                [](auto& o, auto&) {
                  o.downtime_schedule_ms = {100, 50};
                },
                StatusCode::kInvalid, "ascending"},
        BadCase{"schedule_over_max",
                [](auto& o, auto&) {
                  o.downtime_schedule_ms = {100, 500};
                },
                StatusCode::kInvalid, "exceeds"},
        BadCase{"too_parallel", [](auto& o, auto&) { o.parallel_connections = 1000; },
                StatusCode::kInvalid, "parallel"},
        BadCase{"live_but_stopped", [](auto&, auto& f) { f.active = false; },
                StatusCode::kFailedPrecondition, "offline"},
        BadCase{"tls_needs_tls_uri", [](auto& o, auto&) { o.tls = true; }, StatusCode::kInvalid,
                "qemu+tls://"},
        BadCase{"no_abort_attempts", [](auto& o, auto&) { o.abort_attempts = 0; },
                StatusCode::kInvalid, "abort"},
        BadCase{"zero_recovery_pause",
                [](auto& o, auto&) { o.postcopy_recovery_pause = Millis(0); }, StatusCode::kInvalid,
                "recovery pause"},
        BadCase{"offline_transient",
                [](auto& o, auto& f) {
                  o.offline = true;
                  f.persistent = false;
                },
                StatusCode::kFailedPrecondition, "transient"}),
    [](const auto& i) { return i.param.name; });

// libvirt takes MiB/s and reads 0 as unlimited: a small cap must never become 0.
TEST(BandwidthMiBPerSecond, NeverZeroForANonzeroCap) {
  struct Row {
    std::uint64_t bytes;
    std::uint64_t mib;
  };
  for (const Row& r :
       {Row{0, 0}, Row{1, 1}, Row{512 << 10, 1}, Row{(1 << 20) - 1, 1}, Row{1 << 20, 1},
        Row{(3 << 20) / 2, 2}, Row{(5 << 20) / 4, 1}, Row{32ull << 20, 32}}) {
    EXPECT_EQ(BandwidthMiBPerSecond(r.bytes), r.mib) << r.bytes << " B/s";
  }
}

TEST(BuildPlan, SubMiBBandwidthIsCappedNotUnlimited) {
  auto o = Base();
  o.bandwidth_bytes_per_s = 300 * 1024;  // 0.3 MiB/s
  auto p = BuildPlan(o, Running());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->bandwidth_mib_per_s, 1u);
  ASSERT_FALSE(p->notes.empty());
  EXPECT_NE(p->notes.back().find("never 0"), std::string::npos) << p->notes.back();
}

// KubeVirt counts what crosses: RAM plus the copied local disks.
TEST(BuildPlan, CompletionTimeoutCountsCopiedDisks) {
  auto o = Base();
  o.completion_timeout_per_gib_s = 100;
  auto f = Running(512);
  f.local_disk_targets = {"vda"};
  f.local_disk_bytes = 1536ull << 20;  // 1.5 GiB
  auto shared = BuildPlan(o, f);
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(shared->policy.completion_timeout, Millis(50000));  // disks not copied: RAM only
  o.copy_storage = true;
  auto copied = BuildPlan(o, f);
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(copied->policy.completion_timeout, Millis(200000));  // 100 s/GiB × 2 GiB
}

TEST(BuildPlan, TlsSetsTheFlagForLiveAndOfflineDiskCopies) {
  auto o = Base();
  o.tls = true;
  o.destination_uri = "qemu+tls://10.0.0.2/system";
  auto live = BuildPlan(o, Running());
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_TRUE(live->flags.tls);
  o.offline = true;
  o.copy_storage = true;
  auto f = Running();
  f.active = false;
  f.local_disk_targets = {"vda"};
  auto cold = BuildPlan(o, f);
  ASSERT_TRUE(cold.ok()) << cold.status();
  EXPECT_TRUE(cold->flags.tls);
}

TEST(ParseMode, Names) {
  EXPECT_EQ(ParseMode("auto"), Mode::kAuto);
  EXPECT_EQ(ParseMode("PostCopy"), Mode::kPostCopy);
  EXPECT_EQ(ParseMode("precopy"), Mode::kPreCopy);
  EXPECT_FALSE(ParseMode("fast").has_value());
}

}  // namespace
}  // namespace ferry::migration

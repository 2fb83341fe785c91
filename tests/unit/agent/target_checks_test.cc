// PlanTarget: the target handler's local checks (resources, CPU model, huge pages, files,
// local disks for a storage copy) and the images it creates.
#include "agent/target_checks.h"

#include <gtest/gtest.h>

#include "builders.h"

namespace ferry::agent {
namespace {

using testing::Q;
using testing::Vm;

constexpr uint64_t kGiB = 1ULL << 30;
constexpr uint64_t k2MiB = 2ULL << 20;

TargetInputs Inputs() {
  TargetInputs in;
  in.node = "node-b";
  in.vm = Vm();
  in.host.cpus = {0, 1, 2, 3};
  in.host.memory_bytes = 8 * kGiB;
  domain::HostCell cell;
  cell.id = 0;
  cell.cpus = {0, 1, 2, 3};
  cell.memory_bytes = 8 * kGiB;
  cell.hugepages[k2MiB] = 512;  // 1 GiB of 2 MiB pages
  in.host.cells = {cell};
  in.host.cpu_model = "Skylake-Client";
  in.host.cpu_models = {"qemu64", "Skylake-Client"};
  in.files["/images/vmlinuz"] = {true, 10 << 20};
  in.files["/images/initrd.gz"] = {true, 5 << 20};
  return in;
}

std::string Problems(const TargetPlan& p) { return p.Summary(); }

TEST(PlanTarget, AFittingGuestIsReady) {
  const TargetPlan p = PlanTarget(Inputs());
  EXPECT_TRUE(p.ok()) << Problems(p);
  EXPECT_TRUE(p.create.empty());
  EXPECT_FALSE(p.remove_leftover);
}

TEST(PlanTarget, MemoryCountsDomainsIncomingMigrationsAndTheReserve) {
  TargetInputs in = Inputs();
  in.vm.spec.memory = Q("2Gi");
  in.limits.reserved_memory_bytes = 2 * kGiB;  // 7 GiB normal memory - 2 reserved = 5 allocatable
  domain::DomainInfo other;
  other.name = "prod_db";
  other.state = domain::DomainState::kRunning;
  other.vcpus = 1;
  other.memory_bytes = 2 * kGiB;
  in.domains = {other};
  in.incoming_memory_bytes = 1 * kGiB;
  EXPECT_TRUE(PlanTarget(in).ok()) << Problems(PlanTarget(in));  // 2 + 1 + 2 = 5 of 5
  in.incoming_memory_bytes = 2 * kGiB;
  const TargetPlan p = PlanTarget(in);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(
      Problems(p).find("memory: the VM needs 2048 MiB, 1024 MiB free of 5120 MiB allocatable"),
      std::string::npos)
      << Problems(p);
}

TEST(PlanTarget, SharedCpusRespectReservedAndDedicatedOnes) {
  TargetInputs in = Inputs();
  in.vm.spec.cpus = 2;
  in.limits.reserved_cpus = {0};
  in.limits.dedicated_cpus = {3};
  domain::DomainInfo other;
  other.name = "prod_db";
  other.state = domain::DomainState::kRunning;
  other.vcpus = 1;
  in.domains = {other};  // 4 - 1 reserved - 1 dedicated = 2 shared, 1 used
  const TargetPlan p = PlanTarget(in);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(Problems(p), "CPUs: the VM needs 2 vCPUs, 1 free of 2 allocatable");
  in.limits.dedicated_cpus.clear();
  EXPECT_TRUE(PlanTarget(in).ok()) << Problems(PlanTarget(in));
}

TEST(PlanTarget, DedicatedCpusMustBeFree) {
  TargetInputs in = Inputs();
  in.vm.spec.cpus = 2;
  in.vm.spec.dedicated_cpus = true;
  in.limits.dedicated_cpus = {2, 3};
  EXPECT_TRUE(PlanTarget(in).ok()) << Problems(PlanTarget(in));
  domain::DomainInfo pinned;
  pinned.name = "prod_rt";
  pinned.state = domain::DomainState::kRunning;
  pinned.vcpus = 1;
  pinned.pinned_cpus = {3};
  in.domains = {pinned};
  const TargetPlan p = PlanTarget(in);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(Problems(p).find("not enough free dedicated CPUs"), std::string::npos) << Problems(p);
}

TEST(PlanTarget, HugePagesOfTheSizeAsked) {
  TargetInputs in = Inputs();
  in.vm.spec.memory = Q("512Mi");
  in.vm.spec.hugepages = api::Hugepages{Q("2Mi"), {}};
  EXPECT_TRUE(PlanTarget(in).ok()) << Problems(PlanTarget(in));
  in.vm.spec.memory = Q("2Gi");
  TargetPlan p = PlanTarget(in);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(Problems(p), "huge pages: the VM needs 2048 MiB in 2Mi pages, 1024 MiB free");
  in.vm.spec.memory = Q("1Gi");
  in.vm.spec.hugepages = api::Hugepages{Q("1Gi"), {}};
  p = PlanTarget(in);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(Problems(p), "huge pages: the VM needs 1024 MiB in 1Gi pages, 0 MiB free");
}

TEST(PlanTarget, CpuModels) {
  TargetInputs in = Inputs();
  in.vm.spec.cpu_model = "Skylake-Client";
  EXPECT_TRUE(PlanTarget(in).ok());
  in.vm.spec.cpu_model = "EPYC-Milan";
  EXPECT_EQ(Problems(PlanTarget(in)), "CPU model EPYC-Milan is not usable on this node");
  in.vm.spec.cpu_model = "";
  in.settings.default_cpu_model = "qemu64";  // the node's default must run too
  EXPECT_TRUE(PlanTarget(in).ok());

  in.vm.spec.cpu_model = api::kCpuModelHostPassthrough;
  EXPECT_EQ(Problems(PlanTarget(in)), "host-passthrough: the source node's Hypervisor is unknown");
  api::Hypervisor src;
  src.status.cpu_model = "Skylake-Client";
  in.source = src;
  EXPECT_TRUE(PlanTarget(in).ok()) << Problems(PlanTarget(in));
  in.source->status.cpu_model = "Icelake-Server";
  EXPECT_EQ(Problems(PlanTarget(in)),
            "host-passthrough needs an identical host CPU: source Icelake-Server, this node "
            "Skylake-Client");
}

TEST(PlanTarget, BootFilesAndSharedDisksMustExist) {
  TargetInputs in = Inputs();
  api::Disk shared;
  shared.name = "data";
  shared.type = api::DiskType::kShared;
  shared.path = "/shared/data.img";
  in.vm.spec.disks = {shared};
  in.files.erase("/images/initrd.gz");
  const TargetPlan p = PlanTarget(in);
  EXPECT_EQ(
      Problems(p),
      "initrd /images/initrd.gz does not exist; shared disk data: /shared/data.img does not exist");
  EXPECT_EQ(PathsToCheck(in.vm),
            (std::vector<std::string>{"/images/vmlinuz", "/images/initrd.gz", "/shared/data.img"}));
}

TEST(PlanTarget, LocalDisksAreCreatedForAStorageCopy) {
  TargetInputs in = Inputs();
  api::Disk local;
  local.name = "root";
  local.type = api::DiskType::kLocal;
  local.path = "/var/lib/libvirt/images/web.img";
  local.size = Q("1Gi");
  in.vm.spec.disks = {local};
  TargetPlan p = PlanTarget(in);
  EXPECT_EQ(Problems(p),
            "local disk root (/var/lib/libvirt/images/web.img) can only move with storage: Copy");

  in.options.storage = api::StorageMode::kCopy;
  p = PlanTarget(in);
  ASSERT_TRUE(p.ok()) << Problems(p);
  ASSERT_EQ(p.create.size(), 1u);
  EXPECT_EQ(p.create[0].path, "/var/lib/libvirt/images/web.img");
  EXPECT_EQ(p.create[0].size_bytes, kGiB);
  EXPECT_EQ(p.create[0].format, domain::DiskImageFormat::kRaw);

  in.files[local.path] = {true, kGiB};  // left by an earlier attempt: reused, not created
  p = PlanTarget(in);
  EXPECT_TRUE(p.ok());
  EXPECT_TRUE(p.create.empty());
  in.files[local.path] = {true, 1 << 20};
  EXPECT_EQ(
      Problems(PlanTarget(in)),
      "local disk root: /var/lib/libvirt/images/web.img exists with 1 MiB, smaller than 1024 MiB");

  in.files.erase(local.path);
  domain::DomainInfo user;
  user.name = "prod_other";
  user.disks = {{"vda", "file", local.path, false}};
  in.domains = {user};
  EXPECT_EQ(Problems(PlanTarget(in)),
            "local disk root: /var/lib/libvirt/images/web.img is in use by domain prod_other");

  in.domains.clear();
  in.vm.spec.disks[0].size.reset();
  EXPECT_EQ(Problems(PlanTarget(in)), "local disk root has no size to prepare on the target");
}

TEST(PlanTarget, ALeftoverIsRemovedButARunningNamesakeRefuses) {
  TargetInputs in = Inputs();
  in.vmm_uid = "vmm-uid-2";
  domain::DomainInfo left =
      testing::DomainOf(in.vm, domain::DomainState::kPaused, domain::DomainReason::kMigration);
  left.mark->migration_uid = "vmm-uid-2";
  left.memory_bytes = 7 * kGiB;  // would not fit beside the guest; it goes away first
  in.domains = {left};
  TargetPlan p = PlanTarget(in);
  EXPECT_TRUE(p.ok()) << Problems(p);
  EXPECT_TRUE(p.remove_leftover);

  in.domains[0].state = domain::DomainState::kRunning;
  p = PlanTarget(in);
  EXPECT_EQ(Problems(p), "a domain named prod_web already runs on node-b");
  EXPECT_FALSE(p.remove_leftover);
}

// ADR 6 §1: leftover detection touches only a domain whose mark names this VMM's uid. A paused
// domain of the VM's name from another migration (or without a migration mark) may be a later
// or earlier attempt's incoming guest: left alone and reported. Before: removed by name.
TEST(PlanTarget, ANamesakeOfAnotherMigrationIsLeftAloneAndReported) {
  TargetInputs in = Inputs();
  in.vmm_uid = "vmm-uid-2";
  domain::DomainInfo other =
      testing::DomainOf(in.vm, domain::DomainState::kPaused, domain::DomainReason::kMigration);
  other.mark->migration_uid = "vmm-uid-1";
  in.domains = {other};
  TargetPlan p = PlanTarget(in);
  EXPECT_FALSE(p.remove_leftover);
  EXPECT_EQ(Problems(p),
            "a domain named prod_web is already on node-b (paused, migration mark vmm-uid-1, not "
            "this migration's vmm-uid-2): left alone");

  in.domains[0].mark->migration_uid.clear();
  p = PlanTarget(in);
  EXPECT_FALSE(p.remove_leftover);
  EXPECT_EQ(Problems(p),
            "a domain named prod_web is already on node-b (paused, no migration mark, not this "
            "migration's vmm-uid-2): left alone");
}

}  // namespace
}  // namespace ferry::agent

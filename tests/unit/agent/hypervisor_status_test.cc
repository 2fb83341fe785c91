// The Hypervisor report: resources from the host's facts and the domains, orphans, readiness.
#include "agent/hypervisor_status.h"

#include <gtest/gtest.h>

namespace ferry::agent {
namespace {

constexpr uint64_t kGiB = 1ULL << 30;

domain::HostFacts Host() {
  domain::HostFacts h;
  h.cpus = {0, 1, 2, 3, 4, 5, 6, 7};
  h.memory_bytes = 16 * kGiB;
  for (int id : {0, 1}) {
    domain::HostCell c;
    c.id = id;
    c.cpus = id == 0 ? std::vector<int>{0, 1, 2, 3} : std::vector<int>{4, 5, 6, 7};
    c.memory_bytes = 8 * kGiB;
    c.hugepages[2ULL << 20] = id == 0 ? 256 : 0;  // 512 MiB on cell 0
    c.hugepages[kGiB] = id == 1 ? 1 : 0;
    h.cells.push_back(c);
  }
  h.cpu_model = "Skylake-Client";
  h.cpu_vendor = "Intel";
  h.libvirt_version = "9.0.0";
  h.qemu_version = "10.0.2";
  return h;
}

domain::DomainInfo Dom(const std::string& name, domain::DomainState s, int vcpus, uint64_t mem,
                       const std::string& uid = "") {
  domain::DomainInfo d;
  d.name = name;
  d.uuid = uid.empty() ? "uuid-" + name : uid;
  d.state = s;
  d.vcpus = vcpus;
  d.memory_bytes = mem;
  if (!uid.empty()) d.mark = domain::FerryMark{"prod", name.substr(5), uid, "h", ""};
  return d;
}

TEST(ComputeResources, CapacityAllocatableAndUse) {
  NodeLimits limits;
  limits.reserved_cpus = {0};
  limits.dedicated_cpus = {6, 7};
  limits.reserved_memory_bytes = 2 * kGiB;
  limits.cpu_allocation_ratio = 2.0;
  auto pinned = Dom("prod_rt", domain::DomainState::kRunning, 2, kGiB);
  pinned.pinned_cpus = {6, 7};
  auto huge = Dom("prod_hp", domain::DomainState::kPaused, 1, 256ULL << 20);
  huge.hugepage_size_bytes = 2ULL << 20;
  const std::vector<domain::DomainInfo> doms = {
      Dom("prod_a", domain::DomainState::kRunning, 2, 2 * kGiB), pinned, huge,
      Dom("prod_off", domain::DomainState::kShutOff, 4, 4 * kGiB)};  // shut off: uses nothing
  const NodeResources r = ComputeResources(Host(), doms, limits);
  EXPECT_EQ(r.capacity.cpus, 8);
  EXPECT_EQ(r.capacity.dedicated_cpus, 2);
  EXPECT_EQ(r.capacity.memory.String(), "14848Mi");  // 16 GiB - 512 MiB - 1 GiB of huge pages
  EXPECT_EQ(r.capacity.hugepages.at("2Mi").String(), "512Mi");
  EXPECT_EQ(r.capacity.hugepages.at("1Gi").String(), "1Gi");
  EXPECT_EQ(r.allocatable.cpus, 10);  // (8 - 1 reserved - 2 dedicated) × 2
  EXPECT_EQ(r.allocatable.dedicated_cpus, 2);
  EXPECT_EQ(r.allocatable.memory.String(), "12800Mi");
  EXPECT_EQ(r.used.cpus, 3);  // unpinned vCPUs of active domains
  EXPECT_EQ(r.used.dedicated_cpus, 2);
  EXPECT_EQ(r.used.memory.String(), "3Gi");
  EXPECT_EQ(r.used.hugepages.at("2Mi").String(), "256Mi");
}

TEST(BuildHypervisorStatus, OrphansAreDomainsNoVmOrMigrationOwns) {
  ReportInputs in;
  in.libvirt_ok = true;
  in.host = Host();
  in.domains = {Dom("prod_web", domain::DomainState::kRunning, 1, kGiB, "uid-web"),
                Dom("prod_old", domain::DomainState::kShutOff, 1, kGiB, "uid-old-vm"),
                Dom("prod_incoming", domain::DomainState::kPaused, 1, kGiB, "uid-in"),
                Dom("manual-test", domain::DomainState::kRunning, 1, kGiB)};
  in.owners.vms = {{"prod_web", "uid-web"}, {"prod_old", "uid-new-vm"}};
  in.owners.migrating = {"prod_incoming"};
  in.migrations_in = 1;
  in.migration_address = "10.251.0.2";
  const api::WallTime now{std::chrono::hours(100)};
  const api::HypervisorStatus s = BuildHypervisorStatus(in, {}, now);
  EXPECT_TRUE(s.ready);
  EXPECT_EQ(s.domains, 1);
  ASSERT_EQ(s.orphans.size(), 2u);
  EXPECT_EQ(s.orphans[0].name, "manual-test");
  EXPECT_EQ(s.orphans[0].state, "running");
  EXPECT_EQ(s.orphans[1].name, "prod_old");  // same name as a VM, another VM's uid: not its domain
  EXPECT_EQ(s.migrations_in, 1);
  EXPECT_EQ(s.migration_address, "10.251.0.2");
  EXPECT_EQ(s.libvirt_version, "9.0.0");
  EXPECT_EQ(s.qemu_version, "10.0.2");
  EXPECT_EQ(s.numa_cells.size(), 2u);
  EXPECT_EQ(s.used.cpus, 3);  // every active domain uses the host, orphans included
  const api::Condition* ready = api::FindCondition(s.conditions, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, api::ConditionStatus::kTrue);
}

TEST(BuildHypervisorStatus, LibvirtDownKeepsTheFactsAndSaysWhy) {
  ReportInputs up;
  up.libvirt_ok = true;
  up.host = Host();
  const api::WallTime now{std::chrono::hours(100)};
  const api::HypervisorStatus before = BuildHypervisorStatus(up, {}, now);
  ReportInputs down;
  down.libvirt_error = "virConnectOpen: Failed to connect socket";
  const api::HypervisorStatus after =
      BuildHypervisorStatus(down, before, now + std::chrono::seconds(10));
  EXPECT_FALSE(after.ready);
  EXPECT_EQ(after.cpu_model, "Skylake-Client");
  EXPECT_EQ(after.capacity.cpus, 8);
  const api::Condition* ready = api::FindCondition(after.conditions, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->reason, "LibvirtUnreachable");
  EXPECT_EQ(ready->message, down.libvirt_error);
  EXPECT_FALSE(SameReport(before, after));
}

TEST(SameReport, IgnoresOnlyTheHeartbeat) {
  ReportInputs in;
  in.libvirt_ok = true;
  in.host = Host();
  const api::WallTime t0{std::chrono::hours(100)};
  api::HypervisorStatus a = BuildHypervisorStatus(in, {}, t0);
  a.last_heartbeat_time = t0;
  api::HypervisorStatus b = BuildHypervisorStatus(in, a, t0 + std::chrono::seconds(10));
  b.last_heartbeat_time = t0 + std::chrono::seconds(10);
  EXPECT_TRUE(SameReport(a, b));
  in.domains = {Dom("prod_web", domain::DomainState::kRunning, 1, kGiB)};
  EXPECT_FALSE(SameReport(a, BuildHypervisorStatus(in, a, t0)));
}

}  // namespace
}  // namespace ferry::agent

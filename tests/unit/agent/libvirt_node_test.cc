// The node adapter against libvirt's test:///default driver: lifecycle calls, states with
// their reasons, lifecycle events, and the mapping of libvirt's numbers (states, reasons,
// events) to Ferry's.
#include "libvirt/libvirt_node.h"

#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "builders.h"
#include "domain/domain_builder.h"
#include "libvirt/domain_state_map.h"
#include "libvirt/libvirt_hypervisor.h"

namespace ferry::libvirt {
namespace {

using domain::DomainEventType;
using domain::DomainReason;
using domain::DomainState;

TEST(MapDomainState, StatesAndReasons) {
  struct Row {
    int state, reason;
    DomainState want_state;
    DomainReason want_reason;
  };
  const Row rows[] = {
      {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED, DomainState::kRunning, DomainReason::kBooted},
      {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_MIGRATED, DomainState::kRunning,
       DomainReason::kMigrated},
      {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_MIGRATION_CANCELED, DomainState::kRunning,
       DomainReason::kMigrationCancel},
      {VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_POSTCOPY, DomainState::kRunning,
       DomainReason::kPostCopy},
      {VIR_DOMAIN_BLOCKED, 0, DomainState::kBlocked, DomainReason::kUnknown},
      {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER, DomainState::kPaused, DomainReason::kUser},
      {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_MIGRATION, DomainState::kPaused,
       DomainReason::kMigration},
      {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_IOERROR, DomainState::kPaused, DomainReason::kIoError},
      {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_STARTING_UP, DomainState::kPaused,
       DomainReason::kStartingUp},
      {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_POSTCOPY, DomainState::kPaused,
       DomainReason::kPostCopy},
      {VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_POSTCOPY_FAILED, DomainState::kPaused,
       DomainReason::kPostCopyFailed},
      {VIR_DOMAIN_SHUTDOWN, VIR_DOMAIN_SHUTDOWN_USER, DomainState::kShuttingDown,
       DomainReason::kShutdown},
      {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN, DomainState::kShutOff,
       DomainReason::kShutdown},
      {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED, DomainState::kShutOff,
       DomainReason::kDestroyed},
      {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED, DomainState::kShutOff,
       DomainReason::kCrashed},
      {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_MIGRATED, DomainState::kShutOff,
       DomainReason::kMigrated},
      {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_FAILED, DomainState::kShutOff, DomainReason::kFailed},
      {VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_UNKNOWN, DomainState::kShutOff,
       DomainReason::kUnknown},
      {VIR_DOMAIN_CRASHED, VIR_DOMAIN_CRASHED_PANICKED, DomainState::kCrashed,
       DomainReason::kPanicked},
      {VIR_DOMAIN_PMSUSPENDED, 0, DomainState::kSuspended, DomainReason::kUnknown},
      {99, 0, DomainState::kUnknown, DomainReason::kUnknown},
  };
  for (const auto& r : rows) {
    const MappedState m = MapDomainState(r.state, r.reason);
    EXPECT_EQ(m.state, r.want_state) << r.state << "/" << r.reason;
    EXPECT_EQ(m.reason, r.want_reason) << r.state << "/" << r.reason;
  }
}

TEST(MapLifecycleEvent, EventsAndDetails) {
  struct Row {
    int event, detail;
    DomainEventType type;
    DomainReason detail_want;
  };
  const Row rows[] = {
      {VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED, DomainEventType::kStarted,
       DomainReason::kBooted},
      {VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED, DomainEventType::kStarted,
       DomainReason::kMigrated},
      {VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED,
       DomainEventType::kSuspended, DomainReason::kPostCopyFailed},
      {VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED, DomainEventType::kResumed,
       DomainReason::kMigrated},
      {VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN, DomainEventType::kStopped,
       DomainReason::kShutdown},
      {VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_CRASHED, DomainEventType::kStopped,
       DomainReason::kCrashed},
      {VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_MIGRATED, DomainEventType::kStopped,
       DomainReason::kMigrated},
      {VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FAILED, DomainEventType::kStopped,
       DomainReason::kFailed},
      {VIR_DOMAIN_EVENT_SHUTDOWN, 0, DomainEventType::kShutdown, DomainReason::kShutdown},
      {VIR_DOMAIN_EVENT_CRASHED, VIR_DOMAIN_EVENT_CRASHED_PANICKED, DomainEventType::kCrashed,
       DomainReason::kPanicked},
      {VIR_DOMAIN_EVENT_UNDEFINED, 0, DomainEventType::kUndefined, DomainReason::kUnknown},
  };
  for (const auto& r : rows) {
    const MappedEvent m = MapLifecycleEvent(r.event, r.detail);
    EXPECT_EQ(m.type, r.type) << r.event << "/" << r.detail;
    EXPECT_EQ(m.detail, r.detail_want) << r.event << "/" << r.detail;
  }
}

class Events {
 public:
  void Add(const domain::DomainEvent& e) {
    std::lock_guard<std::mutex> l(mu_);
    seen_.push_back(e);
    cv_.notify_all();
  }
  bool WaitFor(const std::string& domain, DomainEventType type, DomainReason detail) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(10), [&] {
      for (const auto& e : seen_) {
        if (e.domain == domain && e.type == type && e.detail == detail) return true;
      }
      return false;
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<domain::DomainEvent> seen_;
};

TEST(LibvirtNodeHypervisor, LifecycleStatesAndEvents) {
  auto node = NewLibvirtNodeHypervisor({"test:///default", "", "test", "x86_64", "", ""});
  Events events;
  node->SetEventHandler([&](const domain::DomainEvent& e) { events.Add(e); });
  ASSERT_TRUE(node->Ping().ok());
  api::VirtualMachine vm = agent::testing::Vm("life", "lab");
  domain::NodeSettings s;
  s.virt_type = "test";
  auto built = domain::BuildDomain(vm, s, {});
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_TRUE(node->Define(built->xml).ok());
  auto d = node->GetDomain("lab_life");
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->state, DomainState::kShutOff);
  EXPECT_TRUE((*d)->persistent);
  EXPECT_FALSE((*d)->IsActive());

  ASSERT_TRUE(node->Start("lab_life").ok());
  EXPECT_TRUE(events.WaitFor("lab_life", DomainEventType::kStarted, DomainReason::kBooted));
  d = node->GetDomain("lab_life");
  EXPECT_EQ((*d)->state, DomainState::kRunning);
  EXPECT_EQ((*d)->reason, DomainReason::kBooted);

  auto all = node->ListDomains();
  ASSERT_TRUE(all.ok());
  bool listed = false;
  for (const auto& x : *all)
    listed = listed || (x.name == "lab_life" && x.mark && x.mark->vm_name == "life");
  EXPECT_TRUE(listed);

  ASSERT_TRUE(node->Shutdown("lab_life").ok());  // the test driver's guests obey at once
  EXPECT_TRUE(events.WaitFor("lab_life", DomainEventType::kStopped, DomainReason::kShutdown));
  d = node->GetDomain("lab_life");
  EXPECT_EQ((*d)->state, DomainState::kShutOff);
  EXPECT_EQ((*d)->reason, DomainReason::kShutdown);

  ASSERT_TRUE(node->Start("lab_life").ok());
  ASSERT_TRUE(node->Destroy("lab_life").ok());
  EXPECT_TRUE(events.WaitFor("lab_life", DomainEventType::kStopped, DomainReason::kDestroyed));
  EXPECT_TRUE(node->Destroy("lab_life").ok());  // already shut off: nothing to do
  ASSERT_TRUE(node->Undefine("lab_life").ok());
  EXPECT_TRUE(events.WaitFor("lab_life", DomainEventType::kUndefined, DomainReason::kUnknown));
  d = node->GetDomain("lab_life");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->has_value());
  EXPECT_EQ(node->Undefine("lab_life").code(), StatusCode::kNotFound);
  EXPECT_EQ(node->Start("lab_life").code(), StatusCode::kNotFound);
  node->SetEventHandler({});
}

// ADR 6 §1: the engine's adapter sets the migration mark on the live domain (and its
// definition) through virDomainSetMetadata, beside Ferry's <ferry:vm> element, and the node
// adapter reads both. test:///default is one driver shared by the connections of a process.
TEST(LibvirtNodeHypervisor, MigrationMarkSetByTheEngineAdapterIsRead) {
  auto node = NewLibvirtNodeHypervisor({"test:///default", "", "test", "x86_64", "", ""});
  auto engine = NewLibvirtHypervisor("test:///default");
  api::VirtualMachine vm = agent::testing::Vm("marked", "lab");
  domain::NodeSettings s;
  s.virt_type = "test";
  auto built = domain::BuildDomain(vm, s, {});
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_TRUE(node->Define(built->xml).ok());
  ASSERT_TRUE(node->Start("lab_marked").ok());
  const std::string uid = "5f0c2b9e-1d2a-4c6b-9e61-0a3c5d7e9f11";
  Status st = engine->SetMigrationMark("lab_marked", uid);
  ASSERT_TRUE(st.ok()) << st;
  auto d = node->GetDomain("lab_marked");
  ASSERT_TRUE(d.ok() && d->has_value());
  ASSERT_TRUE((*d)->mark.has_value());
  EXPECT_EQ((*d)->mark->migration_uid, uid);
  EXPECT_EQ((*d)->mark->vm_uid, vm.metadata.uid);  // <ferry:vm> untouched
  EXPECT_EQ((*d)->mark->spec_hash, built->spec_hash);
  // A later migration replaces the mark; a uid that is not one is refused.
  ASSERT_TRUE(engine->SetMigrationMark("lab_marked", "vmm-2").ok());
  EXPECT_EQ((*node->GetDomain("lab_marked"))->mark->migration_uid, "vmm-2");
  EXPECT_EQ(engine->SetMigrationMark("lab_marked", "a'b").code(), StatusCode::kInvalid);
  ASSERT_TRUE(node->Destroy("lab_marked").ok());
  // The definition carries it too (persistent domain: AFFECT_CONFIG).
  EXPECT_EQ((*node->GetDomain("lab_marked"))->mark->migration_uid, "vmm-2");
  ASSERT_TRUE(node->Undefine("lab_marked").ok());
}

TEST(LibvirtNodeHypervisor, SchemaValidationRejectsBadXml) {
  auto node = NewLibvirtNodeHypervisor({"test:///default", "", "test", "x86_64", "", ""});
  Status st = node->Define(
      "<domain type='test'><name>bad</name><memory>1</memory><bogus/>"
      "<os><type>hvm</type></os></domain>");
  EXPECT_EQ(st.code(), StatusCode::kInvalid) << st;
}

}  // namespace
}  // namespace ferry::libvirt

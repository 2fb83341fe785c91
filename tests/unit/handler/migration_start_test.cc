// The engine's Auto start against the scripted FakeHypervisor: the dirty rate measured before
// the job decides the start (StartDecision action first), post-copy first switches after the
// short window and only over a healthy link to a live target, a failed measurement falls back
// to the reactive policy and says so, and cancel / detach during the measurement start nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "fake_hypervisor.h"
#include "migration/migration_engine.h"

namespace ferry::migration {
namespace {

using testing::FakeHypervisor;
using testing::FakeTarget;
using testing::HotScript;
using testing::kMiB;

MigrationOptions Measured() {
  MigrationOptions o = testing::Opts();
  o.premeasure = Millis(1000);
  o.bandwidth_bytes_per_s = 32 * kMiB;
  return o;
}

DirtyRateMeasurement Rate(std::uint64_t mib_s) {
  return {mib_s * kMiB, Millis(1000), "page-sampling"};
}

// A quiet guest's job: one pass of 256 MiB at 32 MiB/s (sampled every 300 ms), then done.
std::vector<JobSample> QuietScript() {
  std::vector<JobSample> v = HotScript(25);
  for (auto& s : v) s.dirty_rate_bytes_per_s = 0;
  return v;
}

const Action* Find(const MigrationResult& r, ActionKind k) {
  auto it = std::find_if(r.actions.begin(), r.actions.end(),
                         [k](const Action& a) { return a.kind == k; });
  return it == r.actions.end() ? nullptr : &*it;
}

TEST(MigrationStart, HotGuestMeasuredGoesPostCopyFirst) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(40);
  hv.dirty_rate = Rate(64);
  Migration m(Measured(), hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  EXPECT_EQ(r.mode_used, "postcopy");
  EXPECT_EQ(hv.measure_calls, 1);
  EXPECT_EQ(hv.measured_for, Millis(1000));
  EXPECT_FALSE(hv.measured_during_job);
  ASSERT_GE(r.actions.size(), 3u);
  const Action& start = r.actions[0];
  EXPECT_EQ(start.kind, ActionKind::kStartDecision);
  EXPECT_TRUE(start.ok);
  EXPECT_EQ(start.dirty_rate_bytes_per_s, 64 * kMiB);
  EXPECT_EQ(start.transfer_rate_bytes_per_s, 32 * kMiB);
  EXPECT_EQ(start.remaining_bytes, 256 * kMiB);
  EXPECT_EQ(start.reason.rfind("postcopy-first: ", 0), 0u) << start.reason;
  EXPECT_EQ(r.actions[1].kind, ActionKind::kSetMaxDowntime);
  const Action* sw = Find(r, ActionKind::kSwitchToPostCopy);
  ASSERT_NE(sw, nullptr);
  // After the 600 ms window, in the first pass (not after it, at 7.5 s, as the reactive policy).
  EXPECT_GE(sw->at, Millis(600));
  EXPECT_LE(sw->at, Millis(900));
  EXPECT_EQ(sw->iteration, 1u);
  EXPECT_NE(sw->reason.find("post-copy first"), std::string::npos) << sw->reason;
}

TEST(MigrationStart, QuietGuestStaysInPreCopy) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = QuietScript();
  hv.dirty_rate = Rate(0);
  Migration m(Measured(), hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  EXPECT_EQ(r.mode_used, "precopy");
  EXPECT_EQ(hv.postcopy_calls, 0);
  ASSERT_FALSE(r.actions.empty());
  EXPECT_EQ(r.actions[0].reason.rfind("precopy: ", 0), 0u) << r.actions[0].reason;
  EXPECT_EQ(hv.downtimes, (std::vector<std::uint32_t>{75}));
}

TEST(MigrationStart, FailedMeasurementFallsBackAndSaysSo) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(40);
  hv.dirty_rate = StatusOr<DirtyRateMeasurement>(
      FailedPreconditionError("virDomainStartDirtyRateCalc: this function is not supported"));
  Migration m(Measured(), hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  ASSERT_FALSE(r.actions.empty());
  EXPECT_EQ(r.actions[0].kind, ActionKind::kStartDecision);
  EXPECT_FALSE(r.actions[0].ok);
  EXPECT_NE(r.actions[0].reason.find("reactive: dirty rate not measured (measurement failed: "
                                     "virDomainStartDirtyRateCalc: this function is not "
                                     "supported)"),
            std::string::npos)
      << r.actions[0].reason;
  // Today's behaviour: the switch comes from the projection in the second pass.
  const Action* sw = Find(r, ActionKind::kSwitchToPostCopy);
  ASSERT_NE(sw, nullptr);
  EXPECT_EQ(sw->iteration, 2u);
  EXPECT_NE(sw->reason.find("pre-copy cannot win"), std::string::npos) << sw->reason;
}

TEST(MigrationStart, HypervisorWithoutMeasurementFallsBack) {
  FakeHypervisor hv;  // dirty_rate unset: the interface's default answer
  FakeTarget target(hv);
  hv.script = QuietScript();
  Migration m(Measured(), hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.status;
  ASSERT_FALSE(r.actions.empty());
  EXPECT_FALSE(r.actions[0].ok);
  EXPECT_NE(r.actions[0].reason.find("not supported by this hypervisor"), std::string::npos)
      << r.actions[0].reason;
}

TEST(MigrationStart, NoPostCopyHotGuestStartsAtMaxDowntime) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(40);
  hv.dirty_rate = Rate(64);
  auto o = Measured();
  o.allow_postcopy = false;
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(hv.postcopy_calls, 0);
  ASSERT_FALSE(hv.downtimes.empty());
  EXPECT_EQ(hv.downtimes.front(), 300u);
  EXPECT_EQ(r.actions[0].reason.rfind("precopy-raised-downtime: ", 0), 0u) << r.actions[0].reason;
  EXPECT_EQ(r.actions[0].max_downtime_ms, 300u);
}

// The guarantee: post-copy first never switches to a target not confirmed alive; the job
// runs on in pre-copy (and the completion timeout would still abort it).
TEST(MigrationStart, PostCopyFirstWaitsForALiveTarget) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  target.set_alive(false);
  hv.script = HotScript(20);  // still in the first pass when the script ends
  hv.dirty_rate = Rate(64);
  Migration m(Measured(), hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(hv.postcopy_calls, 0);
  EXPECT_EQ(Find(r, ActionKind::kSwitchToPostCopy), nullptr);
  EXPECT_EQ(r.mode_used, "precopy");
}

TEST(MigrationStart, MeasuredOnlyForAutoAndWhenAsked) {
  for (const auto& [mode, premeasure] :
       {std::pair{Mode::kPreCopy, 1000}, {Mode::kPostCopy, 1000}, {Mode::kAuto, 0}}) {
    FakeHypervisor hv;
    FakeTarget target(hv);
    hv.script = QuietScript();
    hv.dirty_rate = Rate(64);
    auto o = Measured();
    o.mode = mode;
    o.premeasure = Millis(premeasure);
    Migration m(o, hv, target, RealClock::Get());
    const MigrationResult r = m.Run();
    EXPECT_EQ(hv.measure_calls, 0) << ModeName(mode) << " " << premeasure;
    EXPECT_EQ(Find(r, ActionKind::kStartDecision), nullptr);
  }
}

// Without a bandwidth cap there is no link speed to project with: no measurement (its second
// is not spent), the reactive policy, and the action says why.
TEST(MigrationStart, NoBandwidthCapIsNotMeasured) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = QuietScript();
  hv.dirty_rate = Rate(64);
  auto o = Measured();
  o.bandwidth_bytes_per_s = 0;
  Migration m(o, hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_EQ(hv.measure_calls, 0);
  ASSERT_FALSE(r.actions.empty());
  EXPECT_EQ(r.actions[0].kind, ActionKind::kStartDecision);
  EXPECT_TRUE(r.actions[0].ok);
  EXPECT_NE(r.actions[0].reason.find("reactive: dirty rate not measured (no bandwidth cap"),
            std::string::npos)
      << r.actions[0].reason;
}

TEST(MigrationStart, AttachDoesNotMeasure) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.pre_existing_job = true;
  hv.script = QuietScript();
  hv.dirty_rate = Rate(64);
  Migration m(Measured(), hv, target, RealClock::Get());
  const MigrationResult r = m.Run();
  EXPECT_TRUE(r.attached);
  EXPECT_EQ(hv.measure_calls, 0);
}

TEST(MigrationStart, CancelDuringMeasurementStartsNothing) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(40);
  hv.dirty_rate = Rate(64);
  Migration* engine = nullptr;
  Status cancel;
  hv.while_measuring = [&] { cancel = engine->Cancel(); };
  Migration m(Measured(), hv, target, RealClock::Get());
  engine = &m;
  const MigrationResult r = m.Run();
  EXPECT_TRUE(cancel.ok()) << cancel;
  EXPECT_EQ(r.outcome, Outcome::kCancelled);
  EXPECT_EQ(hv.migrate_calls, 0);
  EXPECT_EQ(r.guest_location, GuestLocation::kSource);
}

// The defect the test above found: a cancel registered before the start made Run() end
// under the engine's own lock and hang (without any measurement, too).
TEST(MigrationStart, CancelBeforeRunEndsCancelled) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(40);
  Migration m(testing::Opts(), hv, target, RealClock::Get());
  ASSERT_TRUE(m.Cancel().ok());
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kCancelled);
  EXPECT_EQ(hv.migrate_calls, 0);
}

TEST(MigrationStart, DetachDuringMeasurementStartsNothing) {
  FakeHypervisor hv;
  FakeTarget target(hv);
  hv.script = HotScript(40);
  hv.dirty_rate = Rate(64);
  Migration* engine = nullptr;
  hv.while_measuring = [&] { engine->Detach(); };
  Migration m(Measured(), hv, target, RealClock::Get());
  engine = &m;
  const MigrationResult r = m.Run();
  EXPECT_EQ(r.outcome, Outcome::kDetached);
  EXPECT_EQ(hv.migrate_calls, 0);
}

}  // namespace
}  // namespace ferry::migration

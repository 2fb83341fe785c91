// Fencing (ADR 6 §1-3, §9): the target's word and clean-up (DecideTargetFencing), the
// source's step on that word (DecideSourceFencing), which images may go, and the helpers the
// VM decision uses ("outcome unknown"). Tables.
#include "agent/fencing.h"

#include <gtest/gtest.h>

#include <functional>

#include "builders.h"

namespace ferry::agent {
namespace {

using api::MigrationPhase;
using domain::DomainReason;
using domain::DomainState;

constexpr const char* kUid = "vmm-uid-2";

api::Condition Cond(const char* type, bool status, const std::string& reason) {
  api::Condition c;
  c.type = type;
  c.status = status ? api::ConditionStatus::kTrue : api::ConditionStatus::kFalse;
  c.reason = reason;
  return c;
}

api::VirtualMachineMigration Vmm(MigrationPhase phase) {
  api::VirtualMachineMigration m;
  m.metadata.name = "move-web";
  m.metadata.namespace_ = "prod";
  m.metadata.uid = kUid;
  m.spec.vm_name = "web";
  m.status.phase = phase;
  m.status.source_node = "node-a";
  m.status.target_node = "node-b";
  return m;
}

domain::DomainInfo Dom(DomainState s, DomainReason r, const std::string& mark = kUid) {
  domain::DomainInfo d = testing::DomainOf(testing::Vm(), s, r);
  d.mark->migration_uid = mark;
  return d;
}

struct TargetCase {
  std::string name;
  std::function<void(TargetInputsForFencing&)> setup;
  bool concerned;
  std::optional<TargetWord> word;
  bool remove = false;
  bool images = false;
  bool succeeded = false;
  bool warn = false;
  bool namesake = false;
};
void PrintTo(const TargetCase& c, std::ostream* os) { *os << c.name; }

void Phase(TargetInputsForFencing& in, MigrationPhase p) { in.vmm.status.phase = p; }
void With(TargetInputsForFencing& in, const char* type, bool status, const std::string& reason) {
  in.vmm.status.conditions.push_back(Cond(type, status, reason));
}

const std::vector<TargetCase>& TargetCases() {
  static const std::vector<TargetCase> cases = {
      {"running migration without flags: not the target's word yet",
       [](auto& in) { in.domain = Dom(DomainState::kPaused, DomainReason::kMigration); }, false,
       std::nullopt},
      {"succeeded: nothing (the images are the VM's disks)",
       [](auto& in) {
         Phase(in, MigrationPhase::kSucceeded);
         in.domain = Dom(DomainState::kRunning, DomainReason::kMigrated);
       },
       false, std::nullopt},
      {"failed, nothing here: Absent, images go",
       [](auto& in) { Phase(in, MigrationPhase::kFailed); }, true, TargetWord::kAbsent, false,
       true},
      {"failed, paused incoming with our mark: removed, images go",
       [](auto& in) {
         Phase(in, MigrationPhase::kFailed);
         in.domain = Dom(DomainState::kPaused, DomainReason::kMigration);
       },
       true, TargetWord::kRemoved, true, true},
      {"cancelled, shut off with our mark: removed",
       [](auto& in) {
         Phase(in, MigrationPhase::kCancelled);
         in.domain = Dom(DomainState::kShutOff, DomainReason::kMigrated);
       },
       true, TargetWord::kRemoved, true, true},
      // ADR 6 §1: before, clean-up matched by name and removed a later migration's domain.
      {"failed, a paused namesake of ANOTHER migration: left alone, reported, Absent",
       [](auto& in) {
         Phase(in, MigrationPhase::kFailed);
         in.domain = Dom(DomainState::kPaused, DomainReason::kMigration, "vmm-uid-3");
       },
       true, TargetWord::kAbsent, false, true, false, false, true},
      {"failed, a namesake without any migration mark: left alone, reported",
       [](auto& in) {
         Phase(in, MigrationPhase::kFailed);
         in.domain = Dom(DomainState::kShutOff, DomainReason::kUnknown, "");
       },
       true, TargetWord::kAbsent, false, true, false, false, true},
      // ADR 6 §9: before, the images of a kept running domain were deleted.
      {"failed, our domain runs: kept with a warning, Running, images kept",
       [](auto& in) {
         Phase(in, MigrationPhase::kFailed);
         in.domain = Dom(DomainState::kRunning, DomainReason::kMigrated);
       },
       true, TargetWord::kRunning, false, false, false, true},
      {"failed, our domain runs, already reported Running: no second warning",
       [](auto& in) {
         Phase(in, MigrationPhase::kFailed);
         With(in, api::kConditionTargetDomain, true, "Running");
         in.domain = Dom(DomainState::kRunning, DomainReason::kMigrated);
       },
       true, TargetWord::kRunning},
      {"failed, paused after post-copy (it ran here): Running, never removed",
       [](auto& in) {
         Phase(in, MigrationPhase::kFailed);
         in.domain = Dom(DomainState::kPaused, DomainReason::kPostCopyFailed);
       },
       true, TargetWord::kRunning, false, false, false, true},
      {"failed, paused incoming but the VM is on this node: Incoming, left alone",
       [](auto& in) {
         Phase(in, MigrationPhase::kFailed);
         in.vm_here = true;
         in.domain = Dom(DomainState::kPaused, DomainReason::kMigration);
       },
       true, TargetWord::kIncoming},
      // Durable: a restarted handler never cleans up twice (before: a set in memory).
      {"failed, Removed already recorded, a later migration's incoming domain: untouched",
       [](auto& in) {
         Phase(in, MigrationPhase::kFailed);
         With(in, api::kConditionTargetDomain, false, "Removed");
         in.domain = Dom(DomainState::kPaused, DomainReason::kMigration, "vmm-uid-3");
       },
       true, TargetWord::kRemoved, false, true},
      {"failed, Absent recorded, even a domain with our mark is not looked at again",
       [](auto& in) {
         Phase(in, MigrationPhase::kFailed);
         With(in, api::kConditionTargetDomain, false, "Absent");
         in.domain = Dom(DomainState::kPaused, DomainReason::kMigration);
       },
       true, TargetWord::kAbsent, false, true},
      {"source paused, paused incoming with our mark, pre-copy: removed (not yet terminal)",
       [](auto& in) {
         With(in, api::kConditionSourcePaused, true, "WaitingForTarget");
         in.domain = Dom(DomainState::kPaused, DomainReason::kMigration);
       },
       true, TargetWord::kRemoved, true, false},
      {"source paused, post-copy had started: never removed, Incoming",
       [](auto& in) {
         With(in, api::kConditionSourcePaused, true, "WaitingForTarget");
         in.vmm.status.progress = api::MigrationProgress{};
         in.vmm.status.progress->post_copy_started_at = api::WallTime{};
         in.domain = Dom(DomainState::kPaused, DomainReason::kMigration);
       },
       true, TargetWord::kIncoming},
      {"source paused, our domain runs: Running (the source destroys its copy)",
       [](auto& in) {
         With(in, api::kConditionSourcePaused, true, "WaitingForTarget");
         in.domain = Dom(DomainState::kRunning, DomainReason::kMigrated);
       },
       true, TargetWord::kRunning},
      {"source paused, nothing here: Absent",
       [](auto& in) { With(in, api::kConditionSourcePaused, true, "WaitingForTarget"); }, true,
       TargetWord::kAbsent},
      // ADR 6 §3: the target may end an unknown migration from what its libvirt shows.
      {"location unknown, our domain runs, pre-copy: Succeeded TargetRunsGuest",
       [](auto& in) {
         With(in, api::kConditionGuestLocationUnknown, true, "HandlerLost");
         in.domain = Dom(DomainState::kRunning, DomainReason::kMigrated);
       },
       true, TargetWord::kRunning, false, false, true},
      {"location unknown, our domain runs in post-copy: no Succeeded (only Running)",
       [](auto& in) {
         With(in, api::kConditionGuestLocationUnknown, true, "HandlerLost");
         in.domain = Dom(DomainState::kRunning, DomainReason::kPostCopy);
       },
       true, TargetWord::kRunning},
      {"location unknown, post-copy recorded: no Succeeded",
       [](auto& in) {
         With(in, api::kConditionGuestLocationUnknown, true, "HandlerLost");
         With(in, api::kConditionPostCopyRecovering, false, "Recovered");
         in.domain = Dom(DomainState::kRunning, DomainReason::kMigrated);
       },
       true, TargetWord::kRunning},
      {"location unknown, paused incoming: the job may run on, Incoming, never removed",
       [](auto& in) {
         With(in, api::kConditionGuestLocationUnknown, true, "HandlerLost");
         in.domain = Dom(DomainState::kPaused, DomainReason::kMigration);
       },
       true, TargetWord::kIncoming},
      {"location unknown, a namesake of another migration runs: Absent, no Succeeded",
       [](auto& in) {
         With(in, api::kConditionGuestLocationUnknown, true, "HandlerLost");
         in.domain = Dom(DomainState::kRunning, DomainReason::kMigrated, "vmm-uid-1");
       },
       true, TargetWord::kAbsent, false, false, false, false, true},
  };
  return cases;
}

class TargetFencingTest : public ::testing::TestWithParam<TargetCase> {};

TEST_P(TargetFencingTest, WordAndSteps) {
  const TargetCase& tc = GetParam();
  TargetInputsForFencing in;
  in.vmm = Vmm(MigrationPhase::kRunning);
  tc.setup(in);
  const TargetFencing f = DecideTargetFencing(in);
  EXPECT_EQ(f.concerned, tc.concerned);
  ASSERT_EQ(f.word.has_value(), tc.word.has_value()) << f.message;
  if (tc.word) {
    EXPECT_STREQ(TargetWordReason(*f.word), TargetWordReason(*tc.word)) << f.message;
  }
  EXPECT_EQ(f.remove_domain, tc.remove) << f.message;
  EXPECT_EQ(f.delete_images, tc.images) << f.message;
  EXPECT_EQ(f.write_succeeded, tc.succeeded) << f.message;
  EXPECT_EQ(f.warn_kept, tc.warn) << f.message;
  EXPECT_EQ(f.namesake, tc.namesake) << f.message;
}

std::string CaseName(const std::string& s) {
  std::string n;
  for (char ch : s) n += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Table, TargetFencingTest, ::testing::ValuesIn(TargetCases()),
                         [](const auto& p) { return CaseName(p.param.name); });

TEST(SourceFencing, TheTargetsWordDecides) {
  struct Row {
    std::optional<api::Condition> word;
    SourceStep want;
  };
  const std::vector<Row> rows = {
      {std::nullopt, SourceStep::kWait},
      {Cond(api::kConditionTargetDomain, true, "Incoming"), SourceStep::kWait},
      {Cond(api::kConditionTargetDomain, false, "Absent"), SourceStep::kResumeAndFail},
      {Cond(api::kConditionTargetDomain, false, "Removed"), SourceStep::kResumeAndFail},
      {Cond(api::kConditionTargetDomain, true, "Running"), SourceStep::kDestroyAndSucceed},
      // A condition whose status and reason disagree is no word at all.
      {Cond(api::kConditionTargetDomain, true, "Absent"), SourceStep::kWait},
      {Cond(api::kConditionTargetDomain, false, "Running"), SourceStep::kWait},
  };
  for (const auto& row : rows) {
    api::VirtualMachineMigration m = Vmm(MigrationPhase::kRunning);
    m.status.conditions.push_back(Cond(api::kConditionSourcePaused, true, "WaitingForTarget"));
    if (row.word) m.status.conditions.push_back(*row.word);
    const SourceFencing s = DecideSourceFencing(m);
    EXPECT_STREQ(SourceStepName(s.step), SourceStepName(row.want))
        << (row.word ? row.word->reason : "no word") << ": " << s.message;
  }
}

TEST(OutcomeUnknown, OpenMigrationsWithEitherCondition) {
  api::VirtualMachineMigration m = Vmm(MigrationPhase::kRunning);
  EXPECT_FALSE(OutcomeUnknown(m));
  m.status.conditions = {Cond(api::kConditionGuestLocationUnknown, true, "HandlerLost")};
  EXPECT_TRUE(OutcomeUnknown(m));
  m.status.conditions = {Cond(api::kConditionSourcePaused, true, "WaitingForTarget")};
  EXPECT_TRUE(OutcomeUnknown(m));
  m.status.conditions = {Cond(api::kConditionSourcePaused, false, "Resolved")};
  EXPECT_FALSE(OutcomeUnknown(m));
  m.status.conditions = {Cond(api::kConditionGuestLocationUnknown, true, "HandlerLost")};
  m.status.phase = MigrationPhase::kSucceeded;  // known now
  EXPECT_FALSE(OutcomeUnknown(m));
}

// ADR 6 §9: an image a kept domain uses is never deleted.
TEST(ImagesFreeToDelete, OnlyImagesNoDomainUses) {
  domain::DomainInfo kept = Dom(DomainState::kRunning, DomainReason::kMigrated);
  kept.disks = {{"vda", "file", "/var/lib/ferry/web-root.img", false}};
  const std::vector<std::string> images = {"/var/lib/ferry/web-root.img",
                                           "/var/lib/ferry/web-data.img"};
  EXPECT_EQ(ImagesFreeToDelete(images, {kept}),
            std::vector<std::string>{"/var/lib/ferry/web-data.img"});
  EXPECT_EQ(ImagesFreeToDelete(images, {}), images);
}

}  // namespace
}  // namespace ferry::agent

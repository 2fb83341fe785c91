// DecideReattach: a source handler back after a restart follows the job, judges its end from
// libvirt, holds a paused source for the target's word, and never takes an API error for a
// deletion (ADR 6 §2-3). A table.
#include "agent/reattach.h"

#include <gtest/gtest.h>

namespace ferry::agent {
namespace {

using domain::DomainReason;
using domain::DomainState;

std::optional<domain::DomainInfo> Dom(DomainState s, DomainReason r, bool job = false) {
  domain::DomainInfo d;
  d.name = "prod_web";
  d.state = s;
  d.reason = r;
  d.migration_out = job;
  return d;
}

TEST(DecideReattach, Table) {
  struct Row {
    std::string name;
    std::optional<domain::DomainInfo> dom;
    VmRead vm;
    ReattachAction want;
    bool resume_if_absent = false;
  };
  const std::vector<Row> rows = {
      {"a job runs: attach", Dom(DomainState::kRunning, DomainReason::kBooted, true),
       VmRead::kExists, ReattachAction::kAttach},
      {"a job runs, the VM unreadable: attach all the same",
       Dom(DomainState::kRunning, DomainReason::kBooted, true), VmRead::kUnknown,
       ReattachAction::kAttach},
      {"broken post-copy: recover, never restart",
       Dom(DomainState::kPaused, DomainReason::kPostCopyFailed), VmRead::kExists,
       ReattachAction::kAttach},
      // ADR 6 §2. Before: resumed and written Failed while the target might run the guest.
      {"paused by the migration: held for the target's word, resumed only on Absent",
       Dom(DomainState::kPaused, DomainReason::kMigration), VmRead::kExists,
       ReattachAction::kHoldPaused, true},
      {"paused, reason unknown (a libvirtd restart): held",
       Dom(DomainState::kPaused, DomainReason::kUnknown), VmRead::kExists,
       ReattachAction::kHoldPaused, true},
      {"paused by a person: held, never resumed by Ferry",
       Dom(DomainState::kPaused, DomainReason::kUser), VmRead::kExists, ReattachAction::kHoldPaused,
       false},
      {"running again (libvirt resumed it before the switch): Failed",
       Dom(DomainState::kRunning, DomainReason::kMigrationCancel), VmRead::kExists,
       ReattachAction::kFailed},
      {"the domain left the source: Succeeded", std::nullopt, VmRead::kExists,
       ReattachAction::kSucceeded},
      {"the domain left and the VM answered 404: VM gone", std::nullopt, VmRead::kGone,
       ReattachAction::kVmGone},
      // ADR 6 §3. Before: any error reading the VM counted as "VM deleted".
      {"the domain left and reading the VM failed (5xx, timeout): decided later", std::nullopt,
       VmRead::kUnknown, ReattachAction::kRetry},
  };
  for (const auto& row : rows) {
    const ReattachDecision d = DecideReattach(row.dom, row.vm);
    EXPECT_STREQ(ReattachActionName(d.action), ReattachActionName(row.want))
        << row.name << ": " << d.message;
    EXPECT_EQ(d.resume_if_absent, row.resume_if_absent) << row.name;
  }
}

}  // namespace
}  // namespace ferry::agent

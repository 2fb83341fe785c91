#include "agent/fencing.h"

#include <algorithm>

namespace ferry::agent {
namespace {

using api::MigrationPhase;
using domain::DomainReason;
using domain::DomainState;

bool Terminal(MigrationPhase p) {
  return p == MigrationPhase::kFailed || p == MigrationPhase::kCancelled ||
         p == MigrationPhase::kSucceeded;
}

std::string StateOf(const domain::DomainInfo& d) {
  return std::string(domain::DomainStateName(d.state)) + " (" + domain::DomainReasonName(d.reason) +
         ")";
}

}  // namespace

bool ConditionTrue(const api::VirtualMachineMigration& m, const char* type) {
  const api::Condition* c = api::FindCondition(m.status.conditions, type);
  return c != nullptr && c->status == api::ConditionStatus::kTrue;
}

bool OutcomeUnknown(const api::VirtualMachineMigration& m) {
  if (Terminal(m.status.phase)) return false;
  return ConditionTrue(m, api::kConditionGuestLocationUnknown) ||
         ConditionTrue(m, api::kConditionSourcePaused);
}

bool PostCopyStarted(const api::VirtualMachineMigration& m) {
  if (m.status.progress && m.status.progress->post_copy_started_at) return true;
  return api::FindCondition(m.status.conditions, api::kConditionPostCopyRecovering) != nullptr;
}

bool CarriesMark(const std::optional<domain::DomainInfo>& d, const std::string& vmm_uid) {
  return d && d->mark && !vmm_uid.empty() && d->mark->migration_uid == vmm_uid;
}

bool NeverRan(const domain::DomainInfo& d) {
  if (d.state == DomainState::kShutOff) return true;
  return d.state == DomainState::kPaused &&
         (d.reason == DomainReason::kMigration || d.reason == DomainReason::kStartingUp ||
          d.reason == DomainReason::kUnknown);
}

const char* TargetWordReason(TargetWord w) {
  switch (w) {
    case TargetWord::kAbsent:
      return api::kReasonTargetDomainAbsent;
    case TargetWord::kRemoved:
      return api::kReasonTargetDomainRemoved;
    case TargetWord::kIncoming:
      return api::kReasonTargetDomainIncoming;
    case TargetWord::kRunning:
      return api::kReasonTargetDomainRunning;
  }
  return "?";
}

bool TargetWordStatus(TargetWord w) {
  return w == TargetWord::kIncoming || w == TargetWord::kRunning;
}

std::optional<TargetWord> WordOf(const api::VirtualMachineMigration& m) {
  const api::Condition* c = api::FindCondition(m.status.conditions, api::kConditionTargetDomain);
  if (c == nullptr) return std::nullopt;
  for (TargetWord w :
       {TargetWord::kAbsent, TargetWord::kRemoved, TargetWord::kIncoming, TargetWord::kRunning}) {
    const bool status = c->status == api::ConditionStatus::kTrue;
    if (c->reason == TargetWordReason(w) && status == TargetWordStatus(w)) return w;
  }
  return std::nullopt;
}

TargetFencing DecideTargetFencing(const TargetInputsForFencing& in) {
  TargetFencing f;
  const auto& vmm = in.vmm;
  const MigrationPhase phase = vmm.status.phase;
  const bool ended = phase == MigrationPhase::kFailed || phase == MigrationPhase::kCancelled;
  const bool source_paused = ConditionTrue(vmm, api::kConditionSourcePaused);
  const bool unknown = ConditionTrue(vmm, api::kConditionGuestLocationUnknown);
  if (!ended && !(phase == MigrationPhase::kRunning && (source_paused || unknown))) return f;
  f.concerned = true;
  const std::optional<TargetWord> said = WordOf(vmm);
  // Recorded durably: a terminal VMM whose target had nothing (left) is done for good.
  if (ended && said && !TargetWordStatus(*said)) {
    f.word = said;
    f.delete_images = true;  // those this handler still knows it created (memory)
    return f;
  }
  const std::string& uid = vmm.metadata.uid;
  if (!CarriesMark(in.domain, uid)) {
    f.namesake = in.domain.has_value();
    f.word = said == TargetWord::kRemoved ? TargetWord::kRemoved : TargetWord::kAbsent;
    f.message = in.domain ? "no domain with this migration's mark; the domain " + in.domain->name +
                                " here (" + StateOf(*in.domain) +
                                ") is not this migration's and is left alone"
                          : "no domain of this migration here";
    f.delete_images = ended;
    return f;
  }
  const domain::DomainInfo& d = *in.domain;
  const bool post_copy = PostCopyStarted(vmm) || d.reason == DomainReason::kPostCopy ||
                         d.reason == DomainReason::kPostCopyFailed;
  if (NeverRan(d)) {
    if (!in.vm_here && !post_copy && (ended || source_paused)) {
      f.remove_domain = true;
      f.word = TargetWord::kRemoved;
      f.message = "the incoming domain " + d.name + " never ran here (" + StateOf(d) + "); removed";
      f.delete_images = ended;
      return f;
    }
    f.word = TargetWord::kIncoming;
    f.message = "the incoming domain " + d.name + " is here, " + StateOf(d) +
                (in.vm_here  ? "; the VM is on this node: left alone"
                 : post_copy ? "; post-copy started: never removed"
                             : "; the migration job may still run");
    return f;
  }
  f.word = TargetWord::kRunning;
  f.message = "the domain " + d.name + " with this migration's mark is " + StateOf(d) + " here";
  f.warn_kept = ended && said != TargetWord::kRunning;
  const bool runs = d.state == DomainState::kRunning || d.state == DomainState::kBlocked;
  f.write_succeeded =
      phase == MigrationPhase::kRunning && unknown && !source_paused && !post_copy && runs;
  return f;
}

std::vector<std::string> ImagesFreeToDelete(const std::vector<std::string>& images,
                                            const std::vector<domain::DomainInfo>& domains) {
  std::vector<std::string> out;
  for (const auto& path : images) {
    bool used = false;
    for (const auto& d : domains) {
      used =
          used || std::any_of(d.disks.begin(), d.disks.end(),
                              [&](const domain::DomainDisk& disk) { return disk.source == path; });
    }
    if (!used) out.push_back(path);
  }
  return out;
}

const char* SourceStepName(SourceStep s) {
  switch (s) {
    case SourceStep::kWait:
      return "wait";
    case SourceStep::kResumeAndFail:
      return "resume-and-fail";
    case SourceStep::kDestroyAndSucceed:
      return "destroy-and-succeed";
  }
  return "?";
}

SourceFencing DecideSourceFencing(const api::VirtualMachineMigration& vmm) {
  const std::optional<TargetWord> w = WordOf(vmm);
  const std::string target = vmm.status.target_node.empty() ? "the target" : vmm.status.target_node;
  if (!w) {
    return {SourceStep::kWait,
            "the source is paused; waiting for " + target + " to report its domain (TargetDomain)"};
  }
  switch (*w) {
    case TargetWord::kAbsent:
    case TargetWord::kRemoved:
      return {SourceStep::kResumeAndFail, target + " has no copy of the guest (TargetDomain " +
                                              TargetWordReason(*w) +
                                              "): the paused source is the only one"};
    case TargetWord::kRunning:
      return {SourceStep::kDestroyAndSucceed,
              "the guest runs on " + target +
                  " (TargetDomain Running): the paused source copy is destroyed"};
    case TargetWord::kIncoming:
      break;
  }
  return {SourceStep::kWait, target +
                                 " still has a paused incoming domain; waiting for it to be "
                                 "removed"};
}

}  // namespace ferry::agent

// ClusterState: assumptions whose write got no definite answer (ADR 6 §5). A timeout or a
// 5xx may hide a write that landed: forgetting its assumption at once let a strict
// anti-affinity sibling onto the same node, or a sixth migration past a limit of five. The
// assumption stays until the informer shows the object at a newer resourceVersion (every
// later version of an object written with a resourceVersion precondition derives from our
// write if it landed, so a newer version without the decision proves it did not) or until
// kUncertainWriteTtl passes.
#include <charconv>

#include "cluster/cluster_state.h"

namespace ferry::op {
namespace {

// `rv` is a later version than `than`. Kubernetes' resourceVersions are etcd revisions
// (integers); compared as such when both parse, otherwise any other version counts as later.
bool Newer(const std::string& rv, const std::string& than) {
  if (rv.empty() || rv == than) return false;
  uint64_t a = 0, b = 0;
  const auto ra = std::from_chars(rv.data(), rv.data() + rv.size(), a);
  const auto rb = std::from_chars(than.data(), than.data() + than.size(), b);
  if (ra.ec == std::errc() && rb.ec == std::errc() && ra.ptr == rv.data() + rv.size() &&
      rb.ptr == than.data() + than.size()) {
    return a > b;
  }
  return true;
}

}  // namespace

void ClusterState::KeepUncertainMigrationAssumption(const std::string& vmm_key,
                                                    const std::string& written_against) {
  std::lock_guard l(mu_);
  auto it = migrations_.find(vmm_key);
  if (it == migrations_.end()) return;
  MigrationEntry& m = it->second;
  // The echo may already have settled it (the answer was lost, the watch was not).
  if (m.Current() == Assumed{}) return;
  m.uncertain =
      Uncertain{written_against, m.Current(), m.before_last, clock_.Now() + kUncertainWriteTtl};
}

void ClusterState::SettleUncertainMigration(MigrationEntry& m, const std::string& rv) {
  if (!m.uncertain || !Newer(rv, m.uncertain->written_against)) return;
  const Uncertain u = *std::exchange(m.uncertain, std::nullopt);
  const bool terminal = api::IsTerminal(m.observed);
  const bool phase_shown =
      u.value.phase == api::MigrationPhase::kUnset || terminal || m.observed >= u.value.phase;
  const bool admission_shown = !u.value.admitted || m.finalizer || terminal;
  if (phase_shown && admission_shown) return;  // it landed: settled as any echo
  // A newer version without the decision: the write did not land. Undo it, unless a later
  // decision of this VMM replaced it meanwhile.
  if (m.Current() != u.value) return;
  m.assumed = u.before.phase;
  m.assumed_target = u.before.target;
  m.assumed_admitted = u.before.admitted;
  m.decision = u.before.decision;
  m.SettleAssumptions();
}

void ClusterState::KeepUncertainVmAssumption(const std::string& vm_key,
                                             const std::string& written_against) {
  std::lock_guard l(mu_);
  auto it = vms_.find(vm_key);
  if (it == vms_.end() || !it->second.assumed_node) return;
  VmEntry& e = it->second;
  e.uncertain_rv = written_against;
  e.uncertain_node = e.assumed_node;
  e.uncertain_before = e.assumed_before_last;
  e.uncertain_until = clock_.Now() + kUncertainWriteTtl;
}

void ClusterState::SettleUncertainVm(VmEntry& e, const std::string& rv) {
  if (!e.uncertain_rv || !Newer(rv, *e.uncertain_rv)) return;
  const std::optional<std::string> node = std::exchange(e.uncertain_node, std::nullopt);
  const std::optional<std::string> before = std::exchange(e.uncertain_before, std::nullopt);
  e.uncertain_rv.reset();
  if (e.vm.node == node) return;  // it landed
  if (e.assumed_node == node) e.assumed_node = before;
}

void ClusterState::ExpireUncertainAssumptions() {
  std::lock_guard l(mu_);
  const Clock::TimePoint now = clock_.Now();
  for (auto& [key, m] : migrations_) {
    if (!m.uncertain || now < m.uncertain->until) continue;
    const Uncertain u = *std::exchange(m.uncertain, std::nullopt);
    if (m.Current() != u.value) continue;
    m.assumed = u.before.phase;
    m.assumed_target = u.before.target;
    m.assumed_admitted = u.before.admitted;
    m.decision = u.before.decision;
    m.SettleAssumptions();
    SyncMigration(key);
  }
  for (auto& [key, e] : vms_) {
    if (!e.uncertain_rv || now < e.uncertain_until) continue;
    const std::optional<std::string> node = std::exchange(e.uncertain_node, std::nullopt);
    const std::optional<std::string> before = std::exchange(e.uncertain_before, std::nullopt);
    e.uncertain_rv.reset();
    if (e.assumed_node != node) continue;
    e.assumed_node = before;
    if (e.assumed_node && *e.assumed_node == e.vm.node) e.assumed_node.reset();
    SyncVm(key);
  }
}

}  // namespace ferry::op

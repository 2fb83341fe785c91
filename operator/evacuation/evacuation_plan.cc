#include "evacuation/evacuation_plan.h"

#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

namespace ferry::op::evacuation {

std::string MigrationName(const std::string& vm_name, const std::string& vm_uid,
                          const std::string& node, const std::string& last_record) {
  // FNV-1a, 32 bits: stable across builds and machines (std::hash is not).
  uint32_t h = 2166136261u;
  for (const std::string* s : {&vm_uid, &node, &last_record}) {
    for (unsigned char c : *s) h = (h ^ c) * 16777619u;
    h = (h ^ 0xffu) * 16777619u;
  }
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", h);
  // VMM names are DNS subdomains (253 characters): keep room for the prefix and the hash.
  // A cut that ends in '.' would make ".-", which a DNS subdomain may not contain.
  std::string part = vm_name.substr(0, 230);
  while (!part.empty() && part.back() == '.') part.pop_back();
  return kNamePrefix + part + "-" + hex;
}

int FailedAttempts(const api::VirtualMachine& vm, const std::string& node) {
  int n = 0;
  const auto& h = vm.status.migration_history;
  for (auto it = h.rbegin(); it != h.rend(); ++it) {
    if (it->source_node != node || it->migration_name.rfind(kNamePrefix, 0) != 0) break;
    if (it->result == api::MigrationResult::kSucceeded) break;
    ++n;
  }
  return n;
}

Actions DecideActions(const placement::DrainPlan& plan, const std::map<std::string, VmFacts>& facts,
                      const ActionOptions& options) {
  Actions a;
  int slots = options.free_slots;
  auto fact = [&](const std::string& vm) {
    auto it = facts.find(vm);
    return it == facts.end() ? VmFacts{} : it->second;
  };
  for (const placement::DrainStep& s : plan.steps) {
    const VmFacts f = fact(s.vm);
    if (!f.running) {
      // Stopped: it keeps its node, nothing runs there. Being stopped: not empty yet.
      if (f.stopping) ++a.remaining;
      continue;
    }
    ++a.planned;
    ++a.remaining;
    if (s.action == placement::DrainAction::kAlreadyLeaving) {
      ++a.migrating;
      continue;
    }
    if (s.action == placement::DrainAction::kShutdown) {
      if (f.eviction_strategy == api::EvictionStrategy::kShutdown) {
        a.shutdown.push_back(s.vm);
      } else {
        // The plan found no target now; a guest that may migrate is never stopped for it
        // (the other nodes may only look unready): reported, and planned again.
        a.blocked.push_back(
            {s.vm, "no target now (" + s.note + "); evictionStrategy " +
                       std::string(api::ToString(f.eviction_strategy)) +
                       " waits for one: only evictionStrategy Shutdown stops a guest"});
      }
      continue;
    }
    if (f.failed_attempts >= options.max_attempts) {
      a.blocked.push_back(
          {s.vm, "evacuation failed " + std::to_string(f.failed_attempts) + " times in a row" +
                     (f.last_failure.empty() ? "" : " (last: " + f.last_failure + ")")});
      continue;
    }
    if (!s.group_move.empty() && !options.groups_allowed_to_move.count(s.group_move)) {
      a.blocked.push_back(
          {s.vm, "strict affinity: group " + s.group_move +
                     " may not migrate member by member and is not allowed to move as a unit"});
      continue;
    }
    if (f.vmm_phase && !api::IsTerminal(*f.vmm_phase)) {
      ++a.migrating;
      continue;
    }
    if (f.vmm_phase) continue;  // finished, outcome not recorded yet: the next name comes with it
    // Group members go together (they queue in Scheduling); others only into free slots.
    if (s.group_move.empty()) {
      if (slots <= 0) continue;
      --slots;
    }
    a.create.push_back({s.vm, f.vmm_name, s.group_move});
  }
  for (const placement::DrainBlocker& b : plan.blockers) {
    if (!fact(b.vm).running) {
      if (fact(b.vm).stopping) ++a.remaining;
      continue;
    }
    ++a.planned;
    ++a.remaining;
    a.blocked.push_back({b.vm, b.reason});
  }
  return a;
}

std::string ProgressAnnotation(const Actions& a) {
  nlohmann::json j = {
      {"planned", a.planned}, {"remaining", a.remaining}, {"migrating", a.migrating}};
  nlohmann::json blocked = nlohmann::json::array();
  for (const auto& [vm, reason] : a.blocked) blocked.push_back({{"vm", vm}, {"reason", reason}});
  j["blocked"] = blocked;
  return j.dump();
}

}  // namespace ferry::op::evacuation

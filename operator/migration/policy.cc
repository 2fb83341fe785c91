#include "migration/policy.h"

namespace ferry::op::migration {
namespace {

size_t Specificity(const api::MigrationPolicy& p) {
  size_t n = 0;
  for (const auto* sel : {&p.spec.namespace_selector, &p.spec.vm_selector}) {
    if (*sel) n += (*sel)->match_labels.size() + (*sel)->match_expressions.size();
  }
  return n;
}

}  // namespace

const api::MigrationPolicy* SelectPolicy(const std::vector<api::MigrationPolicy>& policies,
                                         const api::StringMap& namespace_labels,
                                         const api::StringMap& vm_labels) {
  const api::MigrationPolicy* best = nullptr;
  for (const api::MigrationPolicy& p : policies) {
    if (!p.Selects(namespace_labels, vm_labels)) continue;
    if (best == nullptr) {
      best = &p;
      continue;
    }
    const size_t a = Specificity(p);
    const size_t b = Specificity(*best);
    if (a > b || (a == b && p.metadata.name < best->metadata.name)) best = &p;
  }
  return best;
}

api::EffectiveMigrationOptions ResolveOptions(const api::VirtualMachineMigrationSpec& spec,
                                              const api::MigrationPolicy* policy,
                                              const MigrationDefaults& defaults) {
  api::EffectiveMigrationOptions o;
  const api::MigrationPolicySpec* p = policy != nullptr ? &policy->spec : nullptr;
  if (policy != nullptr) o.policy = policy->metadata.name;
  o.mode = spec.mode;
  o.offline = spec.offline;
  o.storage = spec.storage;
  o.allow_post_copy =
      p != nullptr && p->allow_post_copy ? *p->allow_post_copy : defaults.allow_post_copy;
  if (spec.mode == api::MigrationMode::kPostCopy) o.allow_post_copy = true;
  o.allow_auto_converge = p != nullptr && p->allow_auto_converge ? *p->allow_auto_converge
                                                                 : defaults.allow_auto_converge;
  o.bandwidth = spec.bandwidth ? spec.bandwidth : (p != nullptr ? p->bandwidth : std::nullopt);
  o.max_downtime = spec.max_downtime                   ? spec.max_downtime
                   : (p != nullptr && p->max_downtime) ? p->max_downtime
                                                       : std::optional(defaults.max_downtime);
  if (p != nullptr) o.downtime_schedule = p->downtime_schedule;
  o.completion_timeout_per_gib = spec.completion_timeout_per_gib ? spec.completion_timeout_per_gib
                                 : (p != nullptr && p->completion_timeout_per_gib)
                                     ? p->completion_timeout_per_gib
                                     : std::optional(defaults.completion_timeout_per_gib);
  o.progress_timeout = p != nullptr && p->progress_timeout
                           ? p->progress_timeout
                           : std::optional(defaults.progress_timeout);
  o.target_node = spec.target_node;
  o.priority = spec.priority;
  return o;
}

}  // namespace ferry::op::migration

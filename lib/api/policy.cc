#include "api/policy.h"

#include "api/kind_codec.h"

namespace ferry::api {

Status Decode(const Json& j, const std::string& path, MigrationPolicySpec* out) {
  FieldReader r(j, path);
  r.OptObject("namespaceSelector", &out->namespace_selector);
  r.OptObject("vmSelector", &out->vm_selector);
  r.OptBool("allowPostCopy", &out->allow_post_copy);
  r.OptBool("allowAutoConverge", &out->allow_auto_converge);
  r.OptQty("bandwidth", &out->bandwidth);
  r.Duration("maxDowntime", &out->max_downtime);
  r.DurationList("downtimeSchedule", &out->downtime_schedule);
  r.Duration("completionTimeoutPerGiB", &out->completion_timeout_per_gib);
  r.Duration("progressTimeout", &out->progress_timeout);
  out->raw = j;
  return r.status();
}

Json Encode(const MigrationPolicySpec& v) {
  Json j = Base(v.raw);
  PutOptObject(j, "namespaceSelector", v.namespace_selector);
  PutOptObject(j, "vmSelector", v.vm_selector);
  PutOptBool(j, "allowPostCopy", v.allow_post_copy);
  PutOptBool(j, "allowAutoConverge", v.allow_auto_converge);
  PutOptQty(j, "bandwidth", v.bandwidth);
  PutDuration(j, "maxDowntime", v.max_downtime);
  PutDurationList(j, "downtimeSchedule", v.downtime_schedule);
  PutDuration(j, "completionTimeoutPerGiB", v.completion_timeout_per_gib);
  PutDuration(j, "progressTimeout", v.progress_timeout);
  return j;
}

Status Decode(const Json& j, const std::string& path, MigrationPolicyStatus* out) {
  FieldReader r(j, path);
  r.Int("observedGeneration", &out->observed_generation);
  r.List("conditions", &out->conditions);
  out->raw = j;
  return r.status();
}

Json Encode(const MigrationPolicyStatus& v) {
  Json j = Base(v.raw);
  PutInt(j, "observedGeneration", v.observed_generation);
  PutList(j, "conditions", v.conditions);
  return j;
}

StatusOr<MigrationPolicy> MigrationPolicy::FromJson(const Json& j) { return DecodeKind<MigrationPolicy>(j, SpecPresence::kOptional); }

Json MigrationPolicy::ToJson() const { return EncodeKind(*this, SpecPresence::kOptional); }

bool MigrationPolicy::Selects(const StringMap& namespace_labels, const StringMap& vm_labels) const {
  if (spec.namespace_selector && !spec.namespace_selector->Matches(namespace_labels)) return false;
  if (spec.vm_selector && !spec.vm_selector->Matches(vm_labels)) return false;
  return true;
}

}  // namespace ferry::api

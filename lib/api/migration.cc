#include "api/migration.h"

#include "api/kind_codec.h"

namespace ferry::api {

bool IsTerminal(MigrationPhase phase) {
  return phase == MigrationPhase::kSucceeded || phase == MigrationPhase::kFailed ||
         phase == MigrationPhase::kCancelled;
}

Status Decode(const Json& j, const std::string& path, VirtualMachineMigrationSpec* out) {
  FieldReader r(j, path);
  r.Require("vmName");
  r.String("vmName", &out->vm_name);
  r.String("targetNode", &out->target_node);
  r.Enum("mode", &out->mode);
  r.Bool("offline", &out->offline);
  r.Enum("storage", &out->storage);
  r.OptQty("bandwidth", &out->bandwidth);
  r.Duration("maxDowntime", &out->max_downtime);
  r.Duration("completionTimeoutPerGiB", &out->completion_timeout_per_gib);
  r.Int("priority", &out->priority);
  r.Enum("trigger", &out->trigger);
  out->raw = j;
  return r.status();
}

Json Encode(const VirtualMachineMigrationSpec& v) {
  Json j = Base(v.raw);
  PutString(j, "vmName", v.vm_name);
  PutString(j, "targetNode", v.target_node);
  PutEnum(j, "mode", v.mode, MigrationMode::kAuto);
  PutBool(j, "offline", v.offline);
  PutEnum(j, "storage", v.storage, StorageMode::kShared);
  PutOptQty(j, "bandwidth", v.bandwidth);
  PutDuration(j, "maxDowntime", v.max_downtime);
  PutDuration(j, "completionTimeoutPerGiB", v.completion_timeout_per_gib);
  PutInt(j, "priority", v.priority);
  PutEnum(j, "trigger", v.trigger, MigrationTrigger::kUser);
  return j;
}

Status Decode(const Json& j, const std::string& path, PlacementCandidate* out) {
  FieldReader r(j, path);
  r.Require("node");
  r.String("node", &out->node);
  r.Enum("verdict", &out->verdict);
  r.Int("score", &out->score);
  r.String("reason", &out->reason);
  out->raw = j;
  return r.status();
}

Json Encode(const PlacementCandidate& v) {
  Json j = Base(v.raw);
  PutString(j, "node", v.node);
  PutEnum(j, "verdict", v.verdict);
  PutInt(j, "score", v.score);
  PutString(j, "reason", v.reason);
  return j;
}

Status Decode(const Json& j, const std::string& path, PlacementExplanation* out) {
  FieldReader r(j, path);
  r.String("selectedNode", &out->selected_node);
  r.Time("decidedAt", &out->decided_at);
  r.List("candidates", &out->candidates);
  r.String("summary", &out->summary);
  out->raw = j;
  return r.status();
}

Json Encode(const PlacementExplanation& v) {
  Json j = Base(v.raw);
  PutString(j, "selectedNode", v.selected_node);
  PutTime(j, "decidedAt", v.decided_at);
  PutList(j, "candidates", v.candidates);
  PutString(j, "summary", v.summary);
  return j;
}

Status Decode(const Json& j, const std::string& path, MigrationProgress* out) {
  FieldReader r(j, path);
  r.Int("totalBytes", &out->total_bytes);
  r.Int("processedBytes", &out->processed_bytes);
  r.Int("remainingBytes", &out->remaining_bytes);
  r.Int("dirtyRateBytesPerSecond", &out->dirty_rate_bytes_per_second);
  r.Int("transferRateBytesPerSecond", &out->transfer_rate_bytes_per_second);
  r.Int("iteration", &out->iteration);
  r.Int("percent", &out->percent);
  r.Time("postCopyStartedAt", &out->post_copy_started_at);
  r.Duration("currentMaxDowntime", &out->current_max_downtime);
  r.Int("autoConvergeThrottlePercent", &out->auto_converge_throttle_percent);
  r.Duration("estimatedTimeRemaining", &out->estimated_time_remaining);
  r.Time("updatedAt", &out->updated_at);
  out->raw = j;
  return r.status();
}

Json Encode(const MigrationProgress& v) {
  Json j = Base(v.raw);
  PutInt(j, "totalBytes", v.total_bytes);
  PutInt(j, "processedBytes", v.processed_bytes);
  PutInt(j, "remainingBytes", v.remaining_bytes);
  PutInt(j, "dirtyRateBytesPerSecond", v.dirty_rate_bytes_per_second);
  PutInt(j, "transferRateBytesPerSecond", v.transfer_rate_bytes_per_second);
  PutInt(j, "iteration", v.iteration);
  PutInt(j, "percent", v.percent);
  PutTime(j, "postCopyStartedAt", v.post_copy_started_at);
  PutDuration(j, "currentMaxDowntime", v.current_max_downtime);
  PutInt(j, "autoConvergeThrottlePercent", v.auto_converge_throttle_percent);
  PutDuration(j, "estimatedTimeRemaining", v.estimated_time_remaining);
  PutTime(j, "updatedAt", v.updated_at);
  return j;
}

Status Decode(const Json& j, const std::string& path, ConvergenceAction* out) {
  FieldReader r(j, path);
  r.Time("time", &out->time);
  r.String("action", &out->action);
  r.String("detail", &out->detail);
  out->raw = j;
  return r.status();
}

Json Encode(const ConvergenceAction& v) {
  Json j = Base(v.raw);
  PutTime(j, "time", v.time);
  PutString(j, "action", v.action);
  PutString(j, "detail", v.detail);
  return j;
}

Status Decode(const Json& j, const std::string& path, EffectiveMigrationOptions* out) {
  FieldReader r(j, path);
  r.String("policy", &out->policy);
  r.Enum("mode", &out->mode);
  r.Bool("offline", &out->offline);
  r.Enum("storage", &out->storage);
  r.Bool("allowPostCopy", &out->allow_post_copy);
  r.Bool("allowAutoConverge", &out->allow_auto_converge);
  r.OptQty("bandwidth", &out->bandwidth);
  r.Duration("maxDowntime", &out->max_downtime);
  r.DurationList("downtimeSchedule", &out->downtime_schedule);
  r.Duration("completionTimeoutPerGiB", &out->completion_timeout_per_gib);
  r.Duration("progressTimeout", &out->progress_timeout);
  r.String("targetNode", &out->target_node);
  r.Int("priority", &out->priority);
  out->raw = j;
  return r.status();
}

Json Encode(const EffectiveMigrationOptions& v) {
  Json j = Base(v.raw);
  PutString(j, "policy", v.policy);
  // Every option is written, defaults included: this is the record of what the run used.
  PutEnum(j, "mode", v.mode);
  j["offline"] = v.offline;
  PutEnum(j, "storage", v.storage);
  j["allowPostCopy"] = v.allow_post_copy;
  j["allowAutoConverge"] = v.allow_auto_converge;
  PutOptQty(j, "bandwidth", v.bandwidth);
  PutDuration(j, "maxDowntime", v.max_downtime);
  PutDurationList(j, "downtimeSchedule", v.downtime_schedule);
  PutDuration(j, "completionTimeoutPerGiB", v.completion_timeout_per_gib);
  PutDuration(j, "progressTimeout", v.progress_timeout);
  PutString(j, "targetNode", v.target_node);
  PutInt(j, "priority", v.priority);
  return j;
}

Status Decode(const Json& j, const std::string& path, VirtualMachineMigrationStatus* out) {
  FieldReader r(j, path);
  r.Enum("phase", &out->phase);
  r.Time("phaseTransitionTime", &out->phase_transition_time);
  r.OptObject("effectiveOptions", &out->effective_options);
  r.String("sourceNode", &out->source_node);
  r.String("targetNode", &out->target_node);
  r.String("targetURI", &out->target_uri);
  r.String("vmUID", &out->vm_uid);
  r.OptObject("placement", &out->placement);
  r.OptObject("progress", &out->progress);
  r.List("convergenceActions", &out->convergence_actions);
  r.Enum("effectiveMode", &out->effective_mode);
  r.Duration("downtime", &out->downtime);
  r.Time("startTime", &out->start_time);
  r.Time("completionTime", &out->completion_time);
  r.String("reason", &out->reason);
  r.String("message", &out->message);
  r.Int("observedGeneration", &out->observed_generation);
  r.List("conditions", &out->conditions);
  out->raw = j;
  return r.status();
}

Json Encode(const VirtualMachineMigrationStatus& v) {
  Json j = Base(v.raw);
  PutEnum(j, "phase", v.phase);
  PutTime(j, "phaseTransitionTime", v.phase_transition_time);
  PutOptObject(j, "effectiveOptions", v.effective_options);
  PutString(j, "sourceNode", v.source_node);
  PutString(j, "targetNode", v.target_node);
  PutString(j, "targetURI", v.target_uri);
  PutString(j, "vmUID", v.vm_uid);
  PutOptObject(j, "placement", v.placement);
  PutOptObject(j, "progress", v.progress);
  PutList(j, "convergenceActions", v.convergence_actions);
  // Auto is the "not decided yet" value: written only once a mode was chosen or present.
  PutEnum(j, "effectiveMode", v.effective_mode, MigrationMode::kAuto);
  PutDuration(j, "downtime", v.downtime);
  PutTime(j, "startTime", v.start_time);
  PutTime(j, "completionTime", v.completion_time);
  PutString(j, "reason", v.reason);
  PutString(j, "message", v.message);
  PutInt(j, "observedGeneration", v.observed_generation);
  PutList(j, "conditions", v.conditions);
  return j;
}

StatusOr<VirtualMachineMigration> VirtualMachineMigration::FromJson(const Json& j) { return DecodeKind<VirtualMachineMigration>(j, SpecPresence::kRequired); }

Json VirtualMachineMigration::ToJson() const { return EncodeKind(*this, SpecPresence::kRequired); }

}  // namespace ferry::api

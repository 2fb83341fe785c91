#include "api/meta.h"

#include <algorithm>

namespace ferry::api {

bool ObjectMeta::HasFinalizer(const std::string& f) const {
  return std::find(finalizers.begin(), finalizers.end(), f) != finalizers.end();
}

bool ObjectMeta::AddFinalizer(const std::string& f) {
  if (HasFinalizer(f)) return false;
  finalizers.push_back(f);
  return true;
}

bool ObjectMeta::RemoveFinalizer(const std::string& f) {
  auto it = std::remove(finalizers.begin(), finalizers.end(), f);
  if (it == finalizers.end()) return false;
  finalizers.erase(it, finalizers.end());
  return true;
}

const Condition* FindCondition(const std::vector<Condition>& conditions, const std::string& type) {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool SetCondition(std::vector<Condition>* conditions, Condition c, WallTime now) {
  for (auto& existing : *conditions) {
    if (existing.type != c.type) continue;
    bool changed = false;
    if (existing.status != c.status) {
      existing.status = c.status;
      existing.last_transition_time = c.last_transition_time.value_or(now);
      changed = true;
    }
    if (existing.reason != c.reason || existing.message != c.message ||
        existing.observed_generation != c.observed_generation) {
      existing.reason = c.reason;
      existing.message = c.message;
      existing.observed_generation = c.observed_generation;
      changed = true;
    }
    return changed;
  }
  if (!c.last_transition_time) c.last_transition_time = now;
  conditions->push_back(std::move(c));
  return true;
}

bool LabelSelector::Matches(const StringMap& labels) const {
  for (const auto& [k, v] : match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& r : match_expressions) {
    auto it = labels.find(r.key);
    const bool has = it != labels.end();
    const bool in = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case SelectorOperator::kIn:
        if (!in) return false;
        break;
      case SelectorOperator::kNotIn:
        if (in) return false;
        break;
      case SelectorOperator::kExists:
        if (!has) return false;
        break;
      case SelectorOperator::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

Status Decode(const Json& j, const std::string& path, OwnerReference* out) {
  FieldReader r(j, path);
  r.String("apiVersion", &out->api_version);
  r.String("kind", &out->kind);
  r.String("name", &out->name);
  r.String("uid", &out->uid);
  r.OptBool("controller", &out->controller);
  r.OptBool("blockOwnerDeletion", &out->block_owner_deletion);
  out->raw = j;
  return r.status();
}

Json Encode(const OwnerReference& v) {
  Json j = Base(v.raw);
  PutString(j, "apiVersion", v.api_version);
  PutString(j, "kind", v.kind);
  PutString(j, "name", v.name);
  PutString(j, "uid", v.uid);
  PutOptBool(j, "controller", v.controller);
  PutOptBool(j, "blockOwnerDeletion", v.block_owner_deletion);
  return j;
}

Status Decode(const Json& j, const std::string& path, ObjectMeta* out) {
  FieldReader r(j, path);
  r.String("name", &out->name);
  r.String("generateName", &out->generate_name);
  r.String("namespace", &out->namespace_);
  r.String("uid", &out->uid);
  r.String("resourceVersion", &out->resource_version);
  r.Int("generation", &out->generation);
  r.StrMap("labels", &out->labels);
  r.StrMap("annotations", &out->annotations);
  r.StrList("finalizers", &out->finalizers);
  r.List("ownerReferences", &out->owner_references);
  r.Time("creationTimestamp", &out->creation_timestamp);
  r.Time("deletionTimestamp", &out->deletion_timestamp);
  out->raw = j;
  return r.status();
}

Json Encode(const ObjectMeta& v) {
  Json j = Base(v.raw);
  PutString(j, "name", v.name);
  PutString(j, "generateName", v.generate_name);
  PutString(j, "namespace", v.namespace_);
  PutString(j, "uid", v.uid);
  PutString(j, "resourceVersion", v.resource_version);
  PutInt(j, "generation", v.generation);
  PutStrMap(j, "labels", v.labels);
  PutStrMap(j, "annotations", v.annotations);
  PutStrList(j, "finalizers", v.finalizers);
  PutList(j, "ownerReferences", v.owner_references);
  PutTime(j, "creationTimestamp", v.creation_timestamp);
  PutTime(j, "deletionTimestamp", v.deletion_timestamp);
  return j;
}

Status Decode(const Json& j, const std::string& path, Condition* out) {
  FieldReader r(j, path);
  r.Require("type");
  r.Require("status");
  r.String("type", &out->type);
  r.Enum("status", &out->status);
  r.Int("observedGeneration", &out->observed_generation);
  r.Time("lastTransitionTime", &out->last_transition_time);
  r.String("reason", &out->reason);
  r.String("message", &out->message);
  out->raw = j;
  return r.status();
}

Json Encode(const Condition& v) {
  Json j = Base(v.raw);
  PutString(j, "type", v.type);
  PutEnum(j, "status", v.status);
  PutInt(j, "observedGeneration", v.observed_generation);
  PutTime(j, "lastTransitionTime", v.last_transition_time);
  PutString(j, "reason", v.reason);
  PutString(j, "message", v.message);
  return j;
}

Status Decode(const Json& j, const std::string& path, LabelSelectorRequirement* out) {
  FieldReader r(j, path);
  r.Require("key");
  r.Require("operator");
  r.String("key", &out->key);
  r.Enum("operator", &out->op);
  r.StrList("values", &out->values);
  out->raw = j;
  return r.status();
}

Json Encode(const LabelSelectorRequirement& v) {
  Json j = Base(v.raw);
  PutString(j, "key", v.key);
  PutEnum(j, "operator", v.op);
  PutStrList(j, "values", v.values);
  return j;
}

Status Decode(const Json& j, const std::string& path, LabelSelector* out) {
  FieldReader r(j, path);
  r.StrMap("matchLabels", &out->match_labels);
  r.List("matchExpressions", &out->match_expressions);
  out->raw = j;
  return r.status();
}

Json Encode(const LabelSelector& v) {
  Json j = Base(v.raw);
  PutStrMap(j, "matchLabels", v.match_labels);
  PutList(j, "matchExpressions", v.match_expressions);
  return j;
}

}  // namespace ferry::api

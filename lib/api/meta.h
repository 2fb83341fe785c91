// metav1 types shared by every object: ObjectMeta, OwnerReference, Condition, LabelSelector.
// Every struct keeps the JSON it was decoded from in `raw`; Encode overlays the known fields
// onto it, so fields Ferry does not know survive a read-modify-write.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/json_fields.h"

namespace ferry::api {

struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  std::optional<bool> controller;
  std::optional<bool> block_owner_deletion;
  Json raw;
};

struct ObjectMeta {
  std::string name;
  std::string generate_name;
  std::string namespace_;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  StringMap labels;
  StringMap annotations;
  std::vector<std::string> finalizers;
  std::vector<OwnerReference> owner_references;
  std::optional<WallTime> creation_timestamp;
  std::optional<WallTime> deletion_timestamp;
  Json raw;

  bool IsBeingDeleted() const { return deletion_timestamp.has_value(); }
  bool HasFinalizer(const std::string& f) const;
  // Returns true when the list changed.
  bool AddFinalizer(const std::string& f);
  bool RemoveFinalizer(const std::string& f);
  // "namespace/name", or "name" for cluster-scoped objects (the informer/work-queue key).
  std::string Key() const { return namespace_.empty() ? name : namespace_ + "/" + name; }
};

enum class ConditionStatus { kUnknown, kTrue, kFalse };
constexpr std::array<EnumName<ConditionStatus>, 3> EnumTable(ConditionStatus) {
  return {{{ConditionStatus::kTrue, "True"},
           {ConditionStatus::kFalse, "False"},
           {ConditionStatus::kUnknown, "Unknown"}}};
}

// metav1.Condition.
struct Condition {
  std::string type;
  ConditionStatus status = ConditionStatus::kUnknown;
  int64_t observed_generation = 0;
  std::optional<WallTime> last_transition_time;
  std::string reason;
  std::string message;
  Json raw;
};

// Finds a condition by type, or nullptr.
const Condition* FindCondition(const std::vector<Condition>& conditions, const std::string& type);
// Sets a condition (meta.SetStatusCondition semantics): lastTransitionTime moves to `now`
// only when the status changes or the condition is new. Returns true when anything changed.
bool SetCondition(std::vector<Condition>* conditions, Condition c, WallTime now);

// metav1.LabelSelector.
enum class SelectorOperator { kIn, kNotIn, kExists, kDoesNotExist };
constexpr std::array<EnumName<SelectorOperator>, 4> EnumTable(SelectorOperator) {
  return {{{SelectorOperator::kIn, "In"},
           {SelectorOperator::kNotIn, "NotIn"},
           {SelectorOperator::kExists, "Exists"},
           {SelectorOperator::kDoesNotExist, "DoesNotExist"}}};
}

struct LabelSelectorRequirement {
  std::string key;
  SelectorOperator op = SelectorOperator::kIn;
  std::vector<std::string> values;
  Json raw;
};

struct LabelSelector {
  StringMap match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;
  Json raw;

  // An empty selector matches everything (as metav1.LabelSelectorAsSelector).
  bool Matches(const StringMap& labels) const;
};

Status Decode(const Json& j, const std::string& path, OwnerReference* out);
Status Decode(const Json& j, const std::string& path, ObjectMeta* out);
Status Decode(const Json& j, const std::string& path, Condition* out);
Status Decode(const Json& j, const std::string& path, LabelSelectorRequirement* out);
Status Decode(const Json& j, const std::string& path, LabelSelector* out);
Json Encode(const OwnerReference& v);
Json Encode(const ObjectMeta& v);
Json Encode(const Condition& v);
Json Encode(const LabelSelectorRequirement& v);
Json Encode(const LabelSelector& v);

}  // namespace ferry::api

// Label values for names the CRDs accept (docs/adr/0006 §8). A Kubernetes label value is at
// most 63 characters ([A-Za-z0-9] at both ends, [-_.A-Za-z0-9] between), but a VM name may be
// 253 and a ServerGroup name too. Such a value is written as the label `h-<first 40 hex digits
// of its SHA-256>` with the full value in an annotation of the same key; every selector and
// index uses LabelValue() of the full value, and every reader FullLabelValue().
#pragma once

#include <optional>
#include <string>

#include "api/meta.h"

namespace ferry::api {

// Prefix of a hashed label value (`h-` + 40 hex digits = 42 characters).
inline constexpr const char* kHashedLabelPrefix = "h-";

// True when `value` may be a label value as it is.
bool IsValidLabelValue(const std::string& value);
// The label value to write (and to select by) for `value`: itself when valid, else the hash.
std::string LabelValue(const std::string& value);
// True when LabelValue(value) is a hash (then the annotation of the key carries `value`).
bool NeedsHashedLabel(const std::string& value);

// Sets label `key` to LabelValue(value) and, when hashed, annotation `key` to `value` (else
// removes a stale annotation of that key).
void SetLongLabel(ObjectMeta* meta, const std::string& key, const std::string& value);
void SetLongLabel(Json* object, const std::string& key, const std::string& value);

// The full value behind label `key`: the annotation of the same key when the label is a hash
// of it, else the label; nullopt when there is no such label.
std::optional<std::string> FullLabelValue(const ObjectMeta& meta, const std::string& key);
std::optional<std::string> FullLabelValue(const Json& object, const std::string& key);

}  // namespace ferry::api

#include "api/labels.h"

#include <openssl/sha.h>

#include <cstdio>

namespace ferry::api {
namespace {

constexpr size_t kMaxLabelValue = 63;
constexpr size_t kHashHexDigits = 40;

bool Alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string Hashed(const std::string& value) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(value.data()), value.size(), digest);
  std::string out = kHashedLabelPrefix;
  char hex[3];
  for (size_t i = 0; i < kHashHexDigits / 2; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", digest[i]);
    out += hex;
  }
  return out;
}

bool LooksHashed(const std::string& label) {
  return label.size() == 2 + kHashHexDigits && label.rfind(kHashedLabelPrefix, 0) == 0;
}

}  // namespace

bool IsValidLabelValue(const std::string& v) {
  if (v.empty()) return true;
  if (v.size() > kMaxLabelValue || !Alnum(v.front()) || !Alnum(v.back())) return false;
  for (char c : v) {
    if (!Alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool NeedsHashedLabel(const std::string& value) { return !IsValidLabelValue(value); }

std::string LabelValue(const std::string& value) {
  return NeedsHashedLabel(value) ? Hashed(value) : value;
}

void SetLongLabel(ObjectMeta* meta, const std::string& key, const std::string& value) {
  meta->labels[key] = LabelValue(value);
  if (NeedsHashedLabel(value)) {
    meta->annotations[key] = value;
  } else {
    meta->annotations.erase(key);
  }
}

void SetLongLabel(Json* object, const std::string& key, const std::string& value) {
  Json& md = (*object)["metadata"];
  if (!md.contains("labels") || !md["labels"].is_object()) md["labels"] = Json::object();
  md["labels"][key] = LabelValue(value);
  if (NeedsHashedLabel(value)) {
    if (!md.contains("annotations") || !md["annotations"].is_object())
      md["annotations"] = Json::object();
    md["annotations"][key] = value;
  } else if (md.contains("annotations") && md["annotations"].is_object()) {
    md["annotations"].erase(key);
  }
}

std::optional<std::string> FullLabelValue(const ObjectMeta& meta, const std::string& key) {
  auto l = meta.labels.find(key);
  if (l == meta.labels.end()) return std::nullopt;
  if (LooksHashed(l->second)) {
    auto a = meta.annotations.find(key);
    if (a != meta.annotations.end() && LabelValue(a->second) == l->second) return a->second;
  }
  return l->second;
}

std::optional<std::string> FullLabelValue(const Json& object, const std::string& key) {
  if (!object.is_object() || !object.contains("metadata")) return std::nullopt;
  const Json& md = object["metadata"];
  if (!md.is_object() || !md.contains("labels") || !md["labels"].is_object()) return std::nullopt;
  const Json& labels = md["labels"];
  auto l = labels.find(key);
  if (l == labels.end() || !l->is_string()) return std::nullopt;
  const std::string label = l->get<std::string>();
  if (LooksHashed(label) && md.contains("annotations") && md["annotations"].is_object()) {
    auto a = md["annotations"].find(key);
    if (a != md["annotations"].end() && a->is_string() &&
        LabelValue(a->get<std::string>()) == label)
      return a->get<std::string>();
  }
  return label;
}

}  // namespace ferry::api

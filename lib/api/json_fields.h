// Helpers for decoding and encoding API objects field by field.
//
// Decoding: FieldReader reads optional fields out of one JSON object and remembers the
// first error, naming the full field path ("spec.memory: invalid quantity ...").
// A missing or null field leaves the output untouched; a field of the wrong type is an error.
//
// Encoding overlays known fields onto the JSON the object was decoded from, so fields Ferry
// does not know survive a read-modify-write. The rules for a field's "empty" value:
//  * strings, lists, maps, optionals: empty/nullopt removes the key;
//  * bools and integers: the zero value removes nothing and adds nothing — it is written only
//    when the key was already present (so an explicit `running: false` stays explicit).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/quantity.h"
#include "api/time.h"
#include "core/status.h"

namespace ferry::api {

using Json = nlohmann::json;
using StringMap = std::map<std::string, std::string>;

// ---- enums -------------------------------------------------------------------------------
// Each enum provides `EnumTable(E)` returning its {value, name} pairs (found by ADL).
template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

template <typename E>
std::string_view ToString(E value)
  requires std::is_enum_v<E>
{
  for (const auto& entry : EnumTable(value)) {
    if (entry.value == value) return entry.name;
  }
  return "";
}

// Parses an enum by its exact name; the error lists the accepted values.
template <typename E>
StatusOr<E> ParseEnum(std::string_view text)
  requires std::is_enum_v<E>
{
  std::string accepted;
  for (const auto& entry : EnumTable(E{})) {
    if (entry.name == text) return entry.value;
    if (entry.name.empty()) continue;
    if (!accepted.empty()) accepted += ", ";
    accepted += "\"" + std::string(entry.name) + "\"";
  }
  return InvalidError("unsupported value \"" + std::string(text) + "\" (accepted: " + accepted + ")");
}

// ---- decoding ----------------------------------------------------------------------------
// Decodes one string (the element type of string lists).
Status Decode(const Json& j, const std::string& path, std::string* out);

class FieldReader {
 public:
  // `path` is the dotted path of `obj` itself ("" at the top level).
  // Keeps a reference to `obj`: it must outlive the reader (temporaries are refused).
  FieldReader(const Json& obj, std::string path);
  FieldReader(Json&& obj, std::string path) = delete;

  // The first error met, or OK. Also an error when `obj` is not an object (or null).
  const Status& status() const { return status_; }

  // The path of a field of this object ("spec" + "memory" -> "spec.memory").
  std::string PathOf(std::string_view key) const;
  // The value of `key`, or nullptr when missing or null.
  const Json* Find(std::string_view key) const;

  void String(std::string_view key, std::string* out);
  void Bool(std::string_view key, bool* out);
  void OptBool(std::string_view key, std::optional<bool>* out);
  void Int(std::string_view key, int64_t* out);
  void Int(std::string_view key, int32_t* out);
  void OptInt(std::string_view key, std::optional<int64_t>* out);
  void Qty(std::string_view key, Quantity* out);
  void OptQty(std::string_view key, std::optional<Quantity>* out);
  void Time(std::string_view key, std::optional<WallTime>* out);  // Time or MicroTime
  void Duration(std::string_view key, std::optional<std::chrono::nanoseconds>* out);
  void StrMap(std::string_view key, StringMap* out);
  void QtyMap(std::string_view key, std::map<std::string, Quantity>* out);
  void StrList(std::string_view key, std::vector<std::string>* out);
  // A list of Go durations ("100ms", "1s"); a bad one fails as key[i].
  void DurationList(std::string_view key, std::vector<std::chrono::nanoseconds>* out);

  template <typename E>
  void Enum(std::string_view key, E* out) {
    std::string text;
    String(key, &text);
    if (!status_.ok() || Find(key) == nullptr) return;
    auto parsed = ParseEnum<E>(text);
    if (!parsed.ok()) return Fail(key, parsed.status().message());
    *out = *parsed;
  }

  // A nested object decoded by `Status Decode(const Json&, const std::string& path, T*)`.
  template <typename T>
  void Object(std::string_view key, T* out) {
    const Json* v = Find(key);
    if (v == nullptr || !status_.ok()) return;
    Take(Decode(*v, PathOf(key), out));
  }
  template <typename T>
  void OptObject(std::string_view key, std::optional<T>* out) {
    const Json* v = Find(key);
    if (v == nullptr || !status_.ok()) return;
    T value;
    Take(Decode(*v, PathOf(key), &value));
    if (status_.ok()) *out = std::move(value);
  }
  template <typename T>
  void List(std::string_view key, std::vector<T>* out) {
    const Json* v = Find(key);
    if (v == nullptr || !status_.ok()) return;
    if (!v->is_array()) return Fail(key, std::string("must be a list, got ") + v->type_name());
    out->clear();
    for (size_t i = 0; i < v->size() && status_.ok(); ++i) {
      T item;
      Take(Decode((*v)[i], PathOf(key) + "[" + std::to_string(i) + "]", &item));
      out->push_back(std::move(item));
    }
  }

  // Records an error for `key` unless one is recorded already.
  void Fail(std::string_view key, std::string_view message);
  // Records `s` (already carrying its path) unless an error is recorded already.
  void Take(const Status& s);
  // Records "<key>: Required value" when the field is missing or an empty string.
  void Require(std::string_view key);

 private:
  const Json& obj_;
  std::string path_;
  Status status_;
};

// ---- encoding ----------------------------------------------------------------------------
// Starts an overlay from the JSON an object was decoded from (an object, or {}).
Json Base(const Json& raw);

void PutString(Json& j, std::string_view key, const std::string& v);
void PutBool(Json& j, std::string_view key, bool v);
void PutOptBool(Json& j, std::string_view key, const std::optional<bool>& v);
void PutInt(Json& j, std::string_view key, int64_t v);
void PutOptInt(Json& j, std::string_view key, const std::optional<int64_t>& v);
void PutQty(Json& j, std::string_view key, const Quantity& v);  // always written
void PutOptQty(Json& j, std::string_view key, const std::optional<Quantity>& v);
void PutTime(Json& j, std::string_view key, const std::optional<WallTime>& v);
void PutMicroTime(Json& j, std::string_view key, const std::optional<WallTime>& v);
void PutDuration(Json& j, std::string_view key, const std::optional<std::chrono::nanoseconds>& v);
void PutStrMap(Json& j, std::string_view key, const StringMap& v);
void PutQtyMap(Json& j, std::string_view key, const std::map<std::string, Quantity>& v);
void PutStrList(Json& j, std::string_view key, const std::vector<std::string>& v);
void PutDurationList(Json& j, std::string_view key, const std::vector<std::chrono::nanoseconds>& v);

template <typename E>
void PutEnum(Json& j, std::string_view key, E v) {
  PutString(j, key, std::string(ToString(v)));
}
// For enums with a CRD default: the default is not added when the key is absent.
template <typename E>
void PutEnum(Json& j, std::string_view key, E v, E default_value) {
  if (v == default_value && !j.contains(key)) return;
  PutEnum(j, key, v);
}
// A nested object encoded by `Json Encode(const T&)`; an encoded {} removes the key unless
// it was present.
template <typename T>
void PutObject(Json& j, std::string_view key, const T& v) {
  Json encoded = Encode(v);
  if (encoded.empty() && !j.contains(key)) return;
  j[std::string(key)] = std::move(encoded);
}
template <typename T>
void PutOptObject(Json& j, std::string_view key, const std::optional<T>& v) {
  if (!v) {
    if (j.contains(key) && !j[std::string(key)].is_null()) j.erase(std::string(key));
    return;
  }
  j[std::string(key)] = Encode(*v);
}
template <typename T>
void PutList(Json& j, std::string_view key, const std::vector<T>& v) {
  if (v.empty()) {
    if (j.contains(key) && !j[std::string(key)].is_null()) j.erase(std::string(key));
    return;
  }
  Json arr = Json::array();
  for (const auto& item : v) arr.push_back(Encode(item));
  j[std::string(key)] = std::move(arr);
}

// Reads apiVersion/kind of a top-level object and checks them when present.
Status CheckTypeMeta(const Json& j, std::string_view api_version, std::string_view kind);

}  // namespace ferry::api

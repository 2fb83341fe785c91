#include "api/json_fields.h"

#include <limits>

namespace ferry::api {

FieldReader::FieldReader(const Json& obj, std::string path) : obj_(obj), path_(std::move(path)) {
  if (!obj_.is_object() && !obj_.is_null()) {
    status_ = InvalidError((path_.empty() ? std::string("object") : path_) + ": must be an object, got " +
                           obj_.type_name());
  }
}

std::string FieldReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const Json* FieldReader::Find(std::string_view key) const {
  if (!obj_.is_object()) return nullptr;
  auto it = obj_.find(key);
  if (it == obj_.end() || it->is_null()) return nullptr;
  return &*it;
}

void FieldReader::Fail(std::string_view key, std::string_view message) {
  if (!status_.ok()) return;
  status_ = InvalidError(PathOf(key) + ": " + std::string(message));
}

void FieldReader::Take(const Status& s) {
  if (status_.ok() && !s.ok()) status_ = s;
}

void FieldReader::Require(std::string_view key) {
  // As in Kubernetes validation, an empty string is no value: encoding omits it, so accepting
  // it would write an object that no longer decodes (found by fuzzing: {"spec":{"vmName":""}}).
  const Json* v = Find(key);
  if (v == nullptr || (v->is_string() && v->get_ref<const std::string&>().empty())) {
    Fail(key, "Required value");
  }
}

namespace {
std::string TypeError(const char* want, const Json& got) {
  return std::string("must be ") + want + ", got " + got.type_name();
}
}  // namespace

void FieldReader::String(std::string_view key, std::string* out) {
  const Json* v = Find(key);
  if (v == nullptr || !status_.ok()) return;
  if (!v->is_string()) return Fail(key, TypeError("a string", *v));
  *out = v->get<std::string>();
}

void FieldReader::Bool(std::string_view key, bool* out) {
  const Json* v = Find(key);
  if (v == nullptr || !status_.ok()) return;
  if (!v->is_boolean()) return Fail(key, TypeError("a boolean", *v));
  *out = v->get<bool>();
}

void FieldReader::OptBool(std::string_view key, std::optional<bool>* out) {
  bool b = false;
  if (Find(key) == nullptr) return;
  Bool(key, &b);
  if (status_.ok()) *out = b;
}

void FieldReader::Int(std::string_view key, int64_t* out) {
  const Json* v = Find(key);
  if (v == nullptr || !status_.ok()) return;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()}) {
      return Fail(key, "integer out of range");
    }
    *out = v->get<int64_t>();
    return;
  }
  // JSON has one number type: accept floats that hold an integral value (e.g. 2.0).
  if (v->is_number_float()) {
    const double d = v->get<double>();
    // Range first: converting a double outside int64 is undefined (found by fuzzing: 2e62).
    if (d < 9.2e18 && d > -9.2e18 && d == static_cast<double>(static_cast<int64_t>(d))) {
      *out = static_cast<int64_t>(d);
      return;
    }
  }
  Fail(key, TypeError("an integer", *v));
}

void FieldReader::Int(std::string_view key, int32_t* out) {
  int64_t wide = *out;
  Int(key, &wide);
  if (!status_.ok()) return;
  if (wide < std::numeric_limits<int32_t>::min() || wide > std::numeric_limits<int32_t>::max()) {
    return Fail(key, "integer out of int32 range");
  }
  *out = static_cast<int32_t>(wide);
}

void FieldReader::OptInt(std::string_view key, std::optional<int64_t>* out) {
  if (Find(key) == nullptr) return;
  int64_t v = 0;
  Int(key, &v);
  if (status_.ok()) *out = v;
}

void FieldReader::Qty(std::string_view key, Quantity* out) {
  const Json* v = Find(key);
  if (v == nullptr || !status_.ok()) return;
  auto q = QuantityFromJson(*v);
  if (!q.ok()) return Fail(key, q.status().message());
  *out = *q;
}

void FieldReader::OptQty(std::string_view key, std::optional<Quantity>* out) {
  if (Find(key) == nullptr) return;
  Quantity q;
  Qty(key, &q);
  if (status_.ok()) *out = q;
}

void FieldReader::Time(std::string_view key, std::optional<WallTime>* out) {
  const Json* v = Find(key);
  if (v == nullptr || !status_.ok()) return;
  if (!v->is_string()) return Fail(key, TypeError("an RFC3339 time string", *v));
  auto t = ParseTime(v->get_ref<const std::string&>());
  if (!t.ok()) return Fail(key, t.status().message());
  *out = *t;
}

void FieldReader::Duration(std::string_view key, std::optional<std::chrono::nanoseconds>* out) {
  const Json* v = Find(key);
  if (v == nullptr || !status_.ok()) return;
  if (!v->is_string()) return Fail(key, TypeError("a duration string such as \"300ms\"", *v));
  auto d = ParseDuration(v->get_ref<const std::string&>());
  if (!d.ok()) return Fail(key, d.status().message());
  *out = *d;
}

void FieldReader::StrMap(std::string_view key, StringMap* out) {
  const Json* v = Find(key);
  if (v == nullptr || !status_.ok()) return;
  if (!v->is_object()) return Fail(key, TypeError("a map of strings", *v));
  out->clear();
  for (const auto& [k, val] : v->items()) {
    if (!val.is_string()) return Fail(std::string(key) + "." + k, TypeError("a string", val));
    (*out)[k] = val.get<std::string>();
  }
}

void FieldReader::QtyMap(std::string_view key, std::map<std::string, Quantity>* out) {
  const Json* v = Find(key);
  if (v == nullptr || !status_.ok()) return;
  if (!v->is_object()) return Fail(key, TypeError("a map of quantities", *v));
  out->clear();
  for (const auto& [k, val] : v->items()) {
    auto q = QuantityFromJson(val);
    if (!q.ok()) return Fail(std::string(key) + "." + k, q.status().message());
    (*out)[k] = *q;
  }
}

void FieldReader::StrList(std::string_view key, std::vector<std::string>* out) {
  List(key, out);
}

void FieldReader::DurationList(std::string_view key, std::vector<std::chrono::nanoseconds>* out) {
  std::vector<std::string> texts;
  StrList(key, &texts);
  out->clear();
  for (size_t i = 0; i < texts.size() && status().ok(); ++i) {
    auto d = ParseDuration(texts[i]);
    if (!d.ok()) {
      Fail(std::string(key) + "[" + std::to_string(i) + "]", d.status().message());
    } else {
      out->push_back(*d);
    }
  }
}

Status Decode(const Json& j, const std::string& path, std::string* out) {
  if (!j.is_string()) return InvalidError(path + ": " + TypeError("a string", j));
  *out = j.get<std::string>();
  return OkStatus();
}

Json Base(const Json& raw) { return raw.is_object() ? raw : Json::object(); }

namespace {
// Removes `key` for an unset value; an explicit null the object came with is kept as it was
// (the API server writes e.g. "eventTime": null), which means the same thing.
void Unset(Json& j, std::string_view key) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) j.erase(it);
}
}  // namespace

void PutString(Json& j, std::string_view key, const std::string& v) {
  if (v.empty()) {
    Unset(j, key);
  } else {
    j[std::string(key)] = v;
  }
}

void PutBool(Json& j, std::string_view key, bool v) {
  if (v || j.contains(key)) j[std::string(key)] = v;
}

void PutOptBool(Json& j, std::string_view key, const std::optional<bool>& v) {
  if (v) {
    j[std::string(key)] = *v;
  } else {
    Unset(j, key);
  }
}

void PutInt(Json& j, std::string_view key, int64_t v) {
  if (v != 0 || j.contains(key)) j[std::string(key)] = v;
}

void PutOptInt(Json& j, std::string_view key, const std::optional<int64_t>& v) {
  if (v) {
    j[std::string(key)] = *v;
  } else {
    Unset(j, key);
  }
}

namespace {
// True when `j[key]` already holds text that decodes to the value being written: the text is
// kept, so an untouched field round-trips byte for byte ("1024Mi" stays "1024Mi", "150s"
// stays "150s") and comparing old and new JSON shows no spurious change.
template <typename T, typename ParseFn>
bool SameValuePresent(const Json& j, std::string_view key, const T& v, ParseFn parse) {
  auto it = j.find(key);
  if (it == j.end() || !(it->is_string() || it->is_number())) return false;
  auto parsed = parse(*it);
  return parsed.ok() && *parsed == v;
}

StatusOr<WallTime> TimeFromJson(const Json& j) {
  if (!j.is_string()) return InvalidError("not a string");
  return ParseTime(j.get_ref<const std::string&>());
}

StatusOr<std::chrono::nanoseconds> DurationFromJson(const Json& j) {
  if (!j.is_string()) return InvalidError("not a string");
  return ParseDuration(j.get_ref<const std::string&>());
}
}  // namespace

void PutQty(Json& j, std::string_view key, const Quantity& v) {
  if (SameValuePresent(j, key, v, QuantityFromJson)) return;
  j[std::string(key)] = v.String();
}

void PutOptQty(Json& j, std::string_view key, const std::optional<Quantity>& v) {
  if (v) {
    PutQty(j, key, *v);
  } else {
    Unset(j, key);
  }
}

void PutTime(Json& j, std::string_view key, const std::optional<WallTime>& v) {
  if (v) {
    if (SameValuePresent(j, key, *v, TimeFromJson)) return;
    j[std::string(key)] = FormatTime(*v);
  } else {
    Unset(j, key);
  }
}

void PutMicroTime(Json& j, std::string_view key, const std::optional<WallTime>& v) {
  if (v) {
    if (SameValuePresent(j, key, *v, TimeFromJson)) return;
    j[std::string(key)] = FormatMicroTime(*v);
  } else {
    Unset(j, key);
  }
}

void PutDuration(Json& j, std::string_view key, const std::optional<std::chrono::nanoseconds>& v) {
  if (v) {
    if (SameValuePresent(j, key, *v, DurationFromJson)) return;
    j[std::string(key)] = FormatDuration(*v);
  } else {
    Unset(j, key);
  }
}

void PutStrMap(Json& j, std::string_view key, const StringMap& v) {
  if (v.empty()) {
    Unset(j, key);
    return;
  }
  j[std::string(key)] = v;
}

void PutQtyMap(Json& j, std::string_view key, const std::map<std::string, Quantity>& v) {
  if (v.empty()) {
    Unset(j, key);
    return;
  }
  Json m = Json::object();
  for (const auto& [k, q] : v) m[k] = q.String();
  j[std::string(key)] = std::move(m);
}

void PutStrList(Json& j, std::string_view key, const std::vector<std::string>& v) {
  if (v.empty()) {
    Unset(j, key);
    return;
  }
  j[std::string(key)] = v;
}

void PutDurationList(Json& j, std::string_view key, const std::vector<std::chrono::nanoseconds>& v) {
  std::vector<std::string> texts;
  for (const auto& d : v) texts.push_back(FormatDuration(d));
  PutStrList(j, key, texts);
}

Status CheckTypeMeta(const Json& j, std::string_view api_version, std::string_view kind) {
  if (!j.is_object()) return InvalidError(std::string(kind) + ": must be a JSON object, got " + j.type_name());
  const auto check = [&](const char* key, std::string_view want) -> Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return OkStatus();
    if (!it->is_string() || it->get_ref<const std::string&>() != want) {
      return InvalidError(std::string(key) + ": expected \"" + std::string(want) + "\", got " + it->dump());
    }
    return OkStatus();
  };
  FERRY_RETURN_IF_ERROR(check("apiVersion", api_version));
  return check("kind", kind);
}

}  // namespace ferry::api

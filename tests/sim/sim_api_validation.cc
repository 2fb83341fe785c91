// Object-metadata validation as the API server's (apimachinery's ValidateObjectMeta and
// util/validation), and its error shapes as RestApiClient maps them (lib/kube/rest_client.cc).
#include <algorithm>
#include <cctype>

#include "sim_api_internal.h"

namespace ferry::sim::internal {
namespace {

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?
bool IsNamePart(const std::string& s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

std::string Quote(const std::string& s) { return Json(s).dump(); }

StatusCause Cause(const char* reason, std::string field, std::string message) {
  return StatusCause{reason, std::move(field), std::move(message)};
}

void ValidateStringMap(const Json& meta, const char* field, bool labels,
                       std::vector<StatusCause>* out) {
  if (!meta.contains(field) || meta[field].is_null()) return;
  const std::string path = std::string("metadata.") + field;
  if (!meta[field].is_object()) {
    out->push_back(Cause("FieldValueInvalid", path, "must be an object of strings"));
    return;
  }
  size_t total = 0;
  for (const auto& [k, v] : meta[field].items()) {
    if (!v.is_string()) {
      out->push_back(
          Cause("FieldValueInvalid", path, "value of " + Quote(k) + " must be a string"));
      continue;
    }
    const std::string value = v.get<std::string>();
    total += k.size() + value.size();
    std::string key = k;
    if (!labels) std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    if (!IsQualifiedName(key)) {
      out->push_back(Cause("FieldValueInvalid", path,
                           "Invalid value: " + Quote(k) +
                               ": name part must consist of alphanumeric characters, '-', '_' "
                               "or '.', and must start and end with an alphanumeric character "
                               "(at most 63 characters, with an optional DNS subdomain prefix "
                               "and '/')"));
    }
    if (labels && !IsLabelValue(value)) {
      out->push_back(Cause("FieldValueInvalid", path,
                           "Invalid value: " + Quote(value) +
                               (value.size() > 63 ? ": must be no more than 63 characters"
                                                  : ": a valid label must be an empty string or "
                                                    "consist of alphanumeric characters, '-', "
                                                    "'_' or '.', and must start and end with an "
                                                    "alphanumeric character")));
    }
  }
  if (!labels && total > 256 * 1024) {
    out->push_back(Cause("FieldValueTooLong", path, "Too long: must have at most 262144 bytes"));
  }
}

void ValidateFinalizers(const Json& meta, std::vector<StatusCause>* out) {
  if (!meta.contains("finalizers") || meta["finalizers"].is_null()) return;
  if (!meta["finalizers"].is_array()) {
    out->push_back(Cause("FieldValueInvalid", "metadata.finalizers", "must be a list of strings"));
    return;
  }
  bool orphan = false, foreground = false;
  for (const auto& f : meta["finalizers"]) {
    if (!f.is_string() || !IsQualifiedName(f.get<std::string>())) {
      out->push_back(Cause("FieldValueInvalid", "metadata.finalizers",
                           "Invalid value: " + f.dump() + ": must be a qualified name"));
      continue;
    }
    orphan = orphan || f == kOrphanFinalizer;
    foreground = foreground || f == kForegroundFinalizer;
  }
  if (orphan && foreground) {
    out->push_back(Cause("FieldValueInvalid", "metadata.finalizers",
                         "finalizer orphan and foregroundDeletion cannot be both set"));
  }
}

void ValidateOwnerReferences(const Json& meta, std::vector<StatusCause>* out) {
  if (!meta.contains("ownerReferences") || meta["ownerReferences"].is_null()) return;
  const char* path = "metadata.ownerReferences";
  if (!meta["ownerReferences"].is_array()) {
    out->push_back(Cause("FieldValueInvalid", path, "must be a list"));
    return;
  }
  int controllers = 0;
  for (const auto& ref : meta["ownerReferences"]) {
    if (!ref.is_object()) {
      out->push_back(Cause("FieldValueInvalid", path, "must be an object"));
      continue;
    }
    const std::string api_version = ref.value("apiVersion", "");
    const std::string version = api_version.substr(api_version.find('/') + 1);
    if (version.empty() || api_version.empty()) {
      out->push_back(Cause("FieldValueInvalid", std::string(path) + ".apiVersion",
                           "version must not be empty"));
    }
    for (const char* f : {"kind", "name", "uid"}) {
      if (ref.value(f, "").empty()) {
        out->push_back(Cause("FieldValueInvalid", std::string(path) + "." + f,
                             std::string(f) + " must not be empty"));
      }
    }
    if (ref.value("controller", false)) ++controllers;
  }
  if (controllers > 1) {
    out->push_back(
        Cause("FieldValueInvalid", path, "Only one reference can have Controller set to true"));
  }
}

}  // namespace

std::string GroupResource(const kube::ResourceType& rt) {
  return rt.group.empty() ? rt.resource : rt.resource + "." + rt.group;
}
std::string GroupKind(const kube::ResourceType& rt) {
  return rt.group.empty() ? rt.kind : rt.kind + "." + rt.group;
}

Status ApiError(StatusCode code, int http, const char* reason, std::string message) {
  Status st(code, std::move(message));
  st.set_http_status(http);
  st.set_reason(reason);
  return st;
}
Status NotFound(const kube::ResourceType& rt, const std::string& name) {
  return ApiError(StatusCode::kNotFound, 404, "NotFound",
                  GroupResource(rt) + " " + Quote(name) + " not found");
}
Status NoSuchResource() {
  return ApiError(StatusCode::kNotFound, 404, "NotFound",
                  "the server could not find the requested resource");
}
Status AlreadyExists(const kube::ResourceType& rt, const std::string& name) {
  return ApiError(StatusCode::kAlreadyExists, 409, "AlreadyExists",
                  GroupResource(rt) + " " + Quote(name) + " already exists");
}
Status Conflict(const kube::ResourceType& rt, const std::string& name, const std::string& why) {
  return ApiError(
      StatusCode::kConflict, 409, "Conflict",
      "Operation cannot be fulfilled on " + GroupResource(rt) + " " + Quote(name) + ": " + why);
}
Status StaleObject(const kube::ResourceType& rt, const std::string& name) {
  return Conflict(rt, name,
                  "the object has been modified; please apply your changes to the latest "
                  "version and try again");
}
Status BadRequest(std::string message) {
  return ApiError(StatusCode::kInvalid, 400, "BadRequest", std::move(message));
}
Status Invalid(const kube::ResourceType& rt, const std::string& name,
               std::vector<StatusCause> causes) {
  std::string msg = GroupKind(rt) + " " + Quote(name) + " is invalid: ";
  for (size_t i = 0; i < causes.size(); ++i) {
    msg += (i ? ", " : "") + causes[i].field + ": " + causes[i].message;
  }
  Status st = ApiError(StatusCode::kInvalid, 422, "Invalid", std::move(msg));
  st.set_causes(std::move(causes));
  return st;
}

bool IsDns1123Label(const std::string& s) {
  if (s.empty() || s.size() > 63 || !IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back()))
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
}

bool IsDns1123Subdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string part = s.substr(start, dot == std::string::npos ? dot : dot - start);
    // Labels of a subdomain may be longer than 63 here: only the total is bounded.
    if (part.empty() || !IsLowerAlnum(part.front()) || !IsLowerAlnum(part.back())) return false;
    if (!std::all_of(part.begin(), part.end(),
                     [](char c) { return IsLowerAlnum(c) || c == '-'; })) {
      return false;
    }
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

bool IsQualifiedName(const std::string& s) {
  const size_t slash = s.find('/');
  std::string name = s;
  if (slash != std::string::npos) {
    const std::string prefix = s.substr(0, slash);
    name = s.substr(slash + 1);
    if (!IsDns1123Subdomain(prefix) || name.find('/') != std::string::npos) return false;
  }
  return name.size() <= 63 && IsNamePart(name);
}

bool IsLabelValue(const std::string& s) { return s.empty() || (s.size() <= 63 && IsNamePart(s)); }

std::vector<StatusCause> ValidateObjectMeta(const Json& obj, bool check_name, bool name_is_label) {
  std::vector<StatusCause> out;
  const Json& meta = obj.contains("metadata") ? obj["metadata"] : Json::object();
  if (check_name) {
    const std::string name = MetaString(obj, "name");
    if (name.empty()) {
      out.push_back(Cause("FieldValueRequired", "metadata.name",
                          "Required value: name or generateName is required"));
    } else if (name_is_label ? !IsDns1123Label(name) : !IsDns1123Subdomain(name)) {
      out.push_back(Cause("FieldValueInvalid", "metadata.name",
                          "Invalid value: " + Quote(name) +
                              (name_is_label ? ": a lowercase RFC 1123 label must consist of "
                                               "lower case alphanumeric characters or '-' (at "
                                               "most 63 characters)"
                                             : ": a lowercase RFC 1123 subdomain must consist "
                                               "of lower case alphanumeric characters, '-' or "
                                               "'.' (at most 253 characters)")));
    }
  }
  ValidateStringMap(meta, "labels", true, &out);
  ValidateStringMap(meta, "annotations", false, &out);
  ValidateFinalizers(meta, &out);
  ValidateOwnerReferences(meta, &out);
  return out;
}

std::string MetaString(const Json& obj, const char* field) {
  if (!obj.is_object() || !obj.contains("metadata") || !obj["metadata"].is_object()) return "";
  const Json& m = obj["metadata"];
  if (!m.contains(field) || !m[field].is_string()) return "";
  return m[field].get<std::string>();
}

std::vector<std::string> Finalizers(const Json& obj) {
  std::vector<std::string> out;
  if (!obj.contains("metadata") || !obj["metadata"].contains("finalizers")) return out;
  for (const auto& f : obj["metadata"]["finalizers"]) {
    if (f.is_string()) out.push_back(f.get<std::string>());
  }
  return out;
}

bool HasFinalizer(const Json& obj, const std::string& f) {
  const auto all = Finalizers(obj);
  return std::find(all.begin(), all.end(), f) != all.end();
}

void SetFinalizers(Json& obj, const std::vector<std::string>& f) {
  if (f.empty()) {
    obj["metadata"].erase("finalizers");
  } else {
    obj["metadata"]["finalizers"] = f;
  }
}

bool BeingDeleted(const Json& obj) { return !MetaString(obj, "deletionTimestamp").empty(); }

bool IsCustomResource(const kube::ResourceType& rt) {
  const std::string& g = rt.group;
  if (g.empty() || g == "apps" || g == "batch" || g == "policy" || g == "autoscaling") return false;
  const std::string suffix = ".k8s.io";
  return !(g.size() >= suffix.size() &&
           g.compare(g.size() - suffix.size(), suffix.size(), suffix) == 0);
}

std::string StorageKey(const kube::ResourceType& rt, const std::string& ns,
                       const std::string& name) {
  return rt.namespaced ? ns + "/" + name : name;
}

}  // namespace ferry::sim::internal

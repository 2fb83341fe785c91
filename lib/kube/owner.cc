#include "kube/owner.h"

namespace ferry::kube {
namespace {

std::string Meta(const Json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : "";
}

}  // namespace

std::string GroupOf(const std::string& api_version) {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

StatusOr<Json> ControllerReference(const Json& owner) {
  const std::string api_version = owner.value("apiVersion", "");
  const std::string kind = owner.value("kind", "");
  const std::string name = Meta(owner, "name");
  const std::string uid = Meta(owner, "uid");
  if (api_version.empty() || kind.empty() || name.empty() || uid.empty()) {
    return InvalidError(
        "owner reference: the owner needs apiVersion, kind, metadata.name and metadata.uid");
  }
  return Json{{"apiVersion", api_version},
              {"kind", kind},
              {"name", name},
              {"uid", uid},
              {"controller", true},
              {"blockOwnerDeletion", true}};
}

std::optional<Json> GetControllerOf(const Json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return std::nullopt;
  auto refs = m->find("ownerReferences");
  if (refs == m->end() || !refs->is_array()) return std::nullopt;
  for (const auto& r : *refs) {
    if (r.is_object() && r.value("controller", false)) return r;
  }
  return std::nullopt;
}

bool IsControlledBy(const Json& obj, const Json& owner) {
  auto ref = GetControllerOf(obj);
  const std::string uid = Meta(owner, "uid");
  return ref.has_value() && !uid.empty() && ref->value("uid", "") == uid;
}

Status SetControllerReference(const Json& owner, Json* child) {
  auto ref = ControllerReference(owner);
  if (!ref.ok()) return ref.status();
  const std::string owner_ns = Meta(owner, "namespace");
  const std::string child_ns = Meta(*child, "namespace");
  if (!owner_ns.empty() && owner_ns != child_ns) {
    return InvalidError("owner reference: owner " + owner_ns + "/" + Meta(owner, "name") +
                        " is in another namespace than the child (" + child_ns + ")");
  }
  if (auto existing = GetControllerOf(*child); existing.has_value()) {
    if (existing->value("uid", "") != ref->value("uid", "")) {
      return Status(StatusCode::kAlreadyExists, "object is already controlled by " +
                                                    existing->value("kind", "") + " " +
                                                    existing->value("name", ""));
    }
  }
  Json& refs = (*child)["metadata"]["ownerReferences"];
  if (!refs.is_array()) refs = Json::array();
  for (auto& r : refs) {
    if (r.is_object() && r.value("uid", "") == ref->value("uid", "")) {
      r = *ref;
      return OkStatus();
    }
  }
  refs.push_back(*ref);
  return OkStatus();
}

std::optional<std::string> ControllerKey(const Json& child, const std::string& owner_group,
                                         const std::string& owner_kind, bool cluster_scoped_owner) {
  auto ref = GetControllerOf(child);
  if (!ref.has_value()) return std::nullopt;
  if (ref->value("kind", "") != owner_kind ||
      GroupOf(ref->value("apiVersion", "")) != owner_group) {
    return std::nullopt;
  }
  const std::string name = ref->value("name", "");
  if (name.empty()) return std::nullopt;
  const std::string ns = Meta(child, "namespace");
  if (cluster_scoped_owner || ns.empty()) return name;
  return ns + "/" + name;
}

}  // namespace ferry::kube

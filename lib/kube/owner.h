// Owner references (metav1.OwnerReference), as controller-runtime's controllerutil:
// a child names its controlling owner (controller: true) so that garbage collection deletes
// it with the owner, and so that the owner's controller can map the child's events back to
// the owner's key.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "kube/api_client.h"

namespace ferry::kube {

// The OwnerReference naming `owner` (needs apiVersion, kind, metadata.name and uid) as the
// controller: {apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true}.
StatusOr<Json> ControllerReference(const Json& owner);
// Makes `owner` the controller of `child` (in place; other owner references are kept).
// kAlreadyExists when another object already controls the child; kInvalid when the owner
// lacks a field, or is namespaced in another namespace than the child (the API server's GC
// would ignore such a reference).
Status SetControllerReference(const Json& owner, Json* child);
// The controller reference of `obj` (the ownerReferences entry with controller: true).
std::optional<Json> GetControllerOf(const Json& obj);
// True when `owner` (matched by uid) controls `obj`.
bool IsControlledBy(const Json& obj, const Json& owner);
// The work-queue key of the controller of `child` when its kind is owner_kind and its
// apiVersion's group is owner_group ("" = core): "namespace/name" in the child's namespace
// (cluster-scoped owners: pass cluster_scoped_owner = true to get "name").
std::optional<std::string> ControllerKey(const Json& child, const std::string& owner_group,
                                         const std::string& owner_kind,
                                         bool cluster_scoped_owner = false);
// The group of an apiVersion ("ferry.dev/v1alpha1" -> "ferry.dev", "v1" -> "").
std::string GroupOf(const std::string& api_version);

}  // namespace ferry::kube

// Work-queue keys: "namespace/name" for namespaced objects, "name" for cluster-scoped ones
// (client-go's MetaNamespaceKeyFunc / SplitMetaNamespaceKey).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace ferry::controller {

struct ObjectKey {
  std::string namespace_;  // empty for cluster-scoped objects
  std::string name;

  friend bool operator==(const ObjectKey&, const ObjectKey&) = default;
};

// "ns/name", or "name" when ns is empty.
std::string MakeKey(std::string_view ns, std::string_view name);

// Splits a key made by MakeKey. Fails with kInvalid for an empty key, an empty namespace or
// name around the '/', or more than one '/'.
StatusOr<ObjectKey> SplitKey(std::string_view key);

}  // namespace ferry::controller

// Small helpers for the id lists ClusterView keeps sorted (internal to the view's .cc files).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace ferry::placement::internal {

template <typename NameOf>
void InsertByName(std::vector<int32_t>& list, int32_t id, NameOf name_of) {
  const std::string& name = name_of(id);
  auto it = std::lower_bound(list.begin(), list.end(), name,
                             [&](int32_t a, const std::string& n) { return name_of(a) < n; });
  if (it != list.end() && *it == id) return;
  list.insert(it, id);
}

template <typename T>
void Erase(std::vector<T>& list, const T& value) {
  auto it = std::find(list.begin(), list.end(), value);
  if (it != list.end()) list.erase(it);
}

inline void InsertSorted(std::vector<std::string>& list, const std::string& value) {
  auto it = std::lower_bound(list.begin(), list.end(), value);
  if (it == list.end() || *it != value) list.insert(it, value);
}

}  // namespace ferry::placement::internal

#include "controller/key.h"

namespace ferry::controller {

std::string MakeKey(std::string_view ns, std::string_view name) {
  std::string key;
  key.reserve(ns.size() + name.size() + 1);
  if (!ns.empty()) {
    key.append(ns);
    key.push_back('/');
  }
  key.append(name);
  return key;
}

StatusOr<ObjectKey> SplitKey(std::string_view key) {
  if (key.empty()) return InvalidError("empty object key");
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) return ObjectKey{"", std::string(key)};
  if (key.find('/', slash + 1) != std::string_view::npos) {
    return InvalidError("object key \"" + std::string(key) + "\" has more than one '/'");
  }
  if (slash == 0 || slash + 1 == key.size()) {
    return InvalidError("object key \"" + std::string(key) + "\" has an empty namespace or name");
  }
  return ObjectKey{std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

}  // namespace ferry::controller

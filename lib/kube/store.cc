#include "kube/store.h"

#include <algorithm>
#include <mutex>

namespace ferry::kube {

std::string ObjectKey(const Json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  const std::string name = m->value("name", "");
  const std::string ns = m->value("namespace", "");
  return ns.empty() ? name : ns + "/" + name;
}

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

void Store::AddIndex(const std::string& name, IndexFunc fn) {
  std::unique_lock l(mu_);
  index_funcs_[name] = std::move(fn);
  auto& idx = indexes_[name];
  for (const auto& [key, obj] : items_) {
    for (const auto& v : index_funcs_[name](*obj)) idx[v].insert(key);
  }
}

void Store::IndexLocked(const std::string& key, const Json& obj) {
  for (const auto& [name, fn] : index_funcs_) {
    auto& idx = indexes_[name];
    for (const auto& v : fn(obj)) idx[v].insert(key);
  }
}

void Store::UnindexLocked(const std::string& key, const Json& obj) {
  for (const auto& [name, fn] : index_funcs_) {
    auto& idx = indexes_[name];
    for (const auto& v : fn(obj)) {
      auto it = idx.find(v);
      if (it == idx.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) idx.erase(it);
    }
  }
}

ObjectPtr Store::Upsert(ObjectPtr obj) {
  const std::string key = ObjectKey(*obj);
  std::unique_lock l(mu_);
  ObjectPtr old;
  auto it = items_.find(key);
  if (it != items_.end()) {
    old = it->second;
    UnindexLocked(key, *old);
    it->second = obj;
  } else {
    items_.emplace(key, obj);
  }
  IndexLocked(key, *obj);
  return old;
}

ObjectPtr Store::Remove(const std::string& key) {
  std::unique_lock l(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  ObjectPtr old = it->second;
  UnindexLocked(key, *old);
  items_.erase(it);
  return old;
}

std::unordered_map<std::string, ObjectPtr> Store::Replace(std::vector<ObjectPtr> objs) {
  std::unique_lock l(mu_);
  std::unordered_map<std::string, ObjectPtr> old;
  old.swap(items_);
  for (auto& [name, idx] : indexes_) idx.clear();
  items_.reserve(objs.size());
  for (auto& obj : objs) {
    const std::string key = ObjectKey(*obj);
    IndexLocked(key, *obj);
    items_[key] = std::move(obj);
  }
  return old;
}

ObjectPtr Store::Get(const std::string& key) const {
  std::shared_lock l(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Store::List() const {
  std::shared_lock l(mu_);
  std::vector<std::pair<std::string, ObjectPtr>> sorted(items_.begin(), items_.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ObjectPtr> out;
  out.reserve(sorted.size());
  for (auto& [k, v] : sorted) out.push_back(std::move(v));
  return out;
}

std::vector<std::string> Store::Keys() const {
  std::shared_lock l(mu_);
  std::vector<std::string> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(k);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<ObjectPtr> Store::ByIndex(const std::string& index, const std::string& value) const {
  std::shared_lock l(mu_);
  std::vector<ObjectPtr> out;
  auto idx = indexes_.find(index);
  if (idx == indexes_.end()) return out;
  auto it = idx->second.find(value);
  if (it == idx->second.end()) return out;
  for (const auto& key : it->second) out.push_back(items_.at(key));
  return out;
}

size_t Store::Size() const {
  std::shared_lock l(mu_);
  return items_.size();
}

}  // namespace ferry::kube

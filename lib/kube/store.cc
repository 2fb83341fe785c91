#include "kube/store.h"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "log/log.h"

namespace ferry::kube {

std::string ObjectKey(const Json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  // Whatever a watch or list carries: a name or namespace that is not a string gives no key
  // instead of an exception (found by fuzzing).
  const auto field = [&](const char* key) {
    auto f = m->find(key);
    return f != m->end() && f->is_string() ? f->get<std::string>() : std::string();
  };
  const std::string name = field("name");
  const std::string ns = field("namespace");
  return ns.empty() ? name : ns + "/" + name;
}

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

PackedObject::PackedObject(const Json& obj) {
  std::vector<uint8_t> cbor = Json::to_cbor(obj);
  bytes_.assign(cbor.begin(), cbor.end());  // exact size: no growth slack is kept
}

ObjectPtr PackedObject::Unpack() const {
  if (bytes_.empty()) return nullptr;
  // The bytes were written by to_cbor above, so they always decode.
  return std::make_shared<const Json>(Json::from_cbor(bytes_));
}

Store::Replacement::Replacement(std::map<std::string, IndexFunc> index_funcs)
    : index_funcs_(std::move(index_funcs)) {}

void Store::Replacement::Add(const Json& obj) {
  std::string key = ObjectKey(obj);
  auto [it, inserted] = items_.try_emplace(key);
  if (inserted) {
    keys_.push_back(key);
  } else {  // not in a list from the API server; the later object wins
    UnindexFrom(indexes_, index_funcs_, key, *it->second.Unpack());
  }
  it->second = PackedObject(obj);
  IndexInto(indexes_, index_funcs_, key, obj);
}

std::atomic<uint64_t> Store::index_errors_{0};

std::vector<std::string> Store::IndexValues(const IndexFunc& fn, const Json& obj) {
  // An index function that throws (a bug, or an object it did not expect) indexes the
  // object under no value instead of losing the event or ending the process; counted.
  try {
    return fn(obj);
  } catch (const std::exception& e) {
    index_errors_.fetch_add(1);
    log::Error(log::Obj("object", ObjectKey(obj)), "Index function threw").With("detail", e.what());
  } catch (...) {
    index_errors_.fetch_add(1);
    log::Error(log::Obj("object", ObjectKey(obj)), "Index function threw");
  }
  return {};
}

void Store::IndexInto(Indexes& indexes, const std::map<std::string, IndexFunc>& funcs, const std::string& key,
                      const Json& obj) {
  for (const auto& [name, fn] : funcs) {
    auto& idx = indexes[name];
    for (auto& v : IndexValues(fn, obj)) idx[std::move(v)].insert(key);
  }
}

void Store::AddIndex(const std::string& name, IndexFunc fn) {
  std::unique_lock l(mu_);
  index_funcs_[name] = std::move(fn);
  IndexAll(indexes_[name], index_funcs_[name], items_);
}

void Store::IndexAll(Index& idx, const IndexFunc& fn, const Items& items) {
  for (const auto& [key, packed] : items) {
    for (auto& v : IndexValues(fn, *packed.Unpack())) idx[std::move(v)].insert(key);
  }
}

void Store::UnindexFrom(Indexes& indexes, const std::map<std::string, IndexFunc>& funcs, const std::string& key,
                        const Json& obj) {
  for (const auto& [name, fn] : funcs) {
    auto& idx = indexes[name];
    for (const auto& v : IndexValues(fn, obj)) {
      auto it = idx.find(v);
      if (it == idx.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) idx.erase(it);
    }
  }
}

ObjectPtr Store::Upsert(const ObjectPtr& obj) {
  const std::string key = ObjectKey(*obj);
  PackedObject packed(*obj);
  std::unique_lock l(mu_);
  ObjectPtr old;
  auto [it, inserted] = items_.try_emplace(key);
  if (!inserted) {
    old = it->second.Unpack();
    UnindexFrom(indexes_, index_funcs_, key, *old);
    packed_bytes_ -= it->second.size();
  }
  packed_bytes_ += packed.size();
  it->second = std::move(packed);
  IndexInto(indexes_, index_funcs_, key, *obj);
  return old;
}

ObjectPtr Store::Remove(const std::string& key) {
  std::unique_lock l(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  ObjectPtr old = it->second.Unpack();
  UnindexFrom(indexes_, index_funcs_, key, *old);
  packed_bytes_ -= it->second.size();
  items_.erase(it);
  return old;
}

Store::Replacement Store::BeginReplace() const {
  std::shared_lock l(mu_);
  return Replacement(index_funcs_);
}

Store::Items Store::Replace(Replacement next) {
  size_t bytes = 0;
  for (const auto& [key, packed] : next.items_) bytes += packed.size();
  std::unique_lock l(mu_);
  // An index registered after BeginReplace: compute it for the new content now.
  for (const auto& [name, fn] : index_funcs_) {
    if (!next.index_funcs_.count(name)) IndexAll(next.indexes_[name], fn, next.items_);
  }
  items_.swap(next.items_);
  indexes_.swap(next.indexes_);
  packed_bytes_ = bytes;
  return std::move(next.items_);
}

ObjectPtr Store::Get(const std::string& key) const {
  std::shared_lock l(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second.Unpack();
}

std::vector<ObjectPtr> Store::List() const {
  std::vector<ObjectPtr> out;
  ForEach([&out](const ObjectPtr& o) { out.push_back(o); });
  return out;
}

void Store::ForEach(const std::function<void(const ObjectPtr&)>& fn) const {
  for (const auto& key : Keys()) {
    if (auto obj = Get(key)) fn(obj);
  }
}

std::vector<std::string> Store::Keys() const {
  std::vector<std::string> out;
  {
    std::shared_lock l(mu_);
    out.reserve(items_.size());
    for (const auto& [k, v] : items_) out.push_back(k);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<ObjectPtr> Store::ByIndex(const std::string& index, const std::string& value) const {
  // Copy the packed bytes under the lock and decode outside it: decoding 100 VMs takes about
  // a millisecond, too long to hold writers (the informer) off.
  std::vector<PackedObject> packed;
  {
    std::shared_lock l(mu_);
    auto idx = indexes_.find(index);
    if (idx == indexes_.end()) return {};
    auto it = idx->second.find(value);
    if (it == idx->second.end()) return {};
    packed.reserve(it->second.size());
    for (const auto& key : it->second) packed.push_back(items_.at(key));
  }
  std::vector<ObjectPtr> out;
  out.reserve(packed.size());
  for (const auto& p : packed) out.push_back(p.Unpack());
  return out;
}

size_t Store::Size() const {
  std::shared_lock l(mu_);
  return items_.size();
}

size_t Store::PackedBytes() const {
  std::shared_lock l(mu_);
  return packed_bytes_;
}

}  // namespace ferry::kube

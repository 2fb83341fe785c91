// Store: the informer's thread-safe cache of objects by key ("namespace/name" or "name"),
// with secondary indexes (e.g. VMs by node). Objects are immutable once stored; readers get
// shared pointers and never copy.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kube/api_client.h"

namespace ferry::kube {

using ObjectPtr = std::shared_ptr<const Json>;
// Values under which an object is indexed (may be empty).
using IndexFunc = std::function<std::vector<std::string>(const Json&)>;

// "namespace/name" for namespaced objects, "name" otherwise.
std::string ObjectKey(const Json& obj);
// Splits a key into namespace and name ("" namespace for cluster-scoped keys).
std::pair<std::string, std::string> SplitKey(const std::string& key);

class Store {
 public:
  // Register before the first insert.
  void AddIndex(const std::string& name, IndexFunc fn);

  // Inserts or replaces; returns the previous object (null if new).
  ObjectPtr Upsert(ObjectPtr obj);
  // Removes by key; returns the removed object (null if absent).
  ObjectPtr Remove(const std::string& key);
  // Replaces the whole content; returns the previous content.
  std::unordered_map<std::string, ObjectPtr> Replace(std::vector<ObjectPtr> objs);

  ObjectPtr Get(const std::string& key) const;
  std::vector<ObjectPtr> List() const;
  std::vector<std::string> Keys() const;
  // Objects whose index `index` contains `value`, in key order.
  std::vector<ObjectPtr> ByIndex(const std::string& index, const std::string& value) const;
  size_t Size() const;

 private:
  void IndexLocked(const std::string& key, const Json& obj);
  void UnindexLocked(const std::string& key, const Json& obj);

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, ObjectPtr> items_;
  std::map<std::string, IndexFunc> index_funcs_;
  // index name -> value -> keys
  std::map<std::string, std::unordered_map<std::string, std::set<std::string>>> indexes_;
};

}  // namespace ferry::kube

// Store: the informer's thread-safe cache of objects by key ("namespace/name" or "name"),
// with secondary indexes (e.g. VMs by node).
//
// Objects are kept packed (CBOR, see PackedObject), not as nlohmann trees: a tree costs ~10x
// its JSON text in heap nodes, and an operator caches every VM and migration of the cluster.
// Readers get a freshly decoded, immutable object (a few microseconds for a VM) that they own;
// nothing they do with it touches the cache. Scans decode one object at a time (ForEach), so
// walking 10,000 VMs never holds 10,000 trees.
#pragma once

#include <atomic>
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

// One object in compact form: its CBOR encoding (RFC 8949), which decodes back to an equal
// Json (same member names, strings, integers and doubles).
class PackedObject {
 public:
  PackedObject() = default;
  explicit PackedObject(const Json& obj);

  ObjectPtr Unpack() const;
  // Encoded size in bytes.
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

 private:
  std::string bytes_;
};

class Store {
 public:
  // Index value -> keys; index name -> that.
  using Index = std::unordered_map<std::string, std::set<std::string>>;
  using Indexes = std::map<std::string, Index>;
  using Items = std::unordered_map<std::string, PackedObject>;

  // The content of a relist, built one object at a time (each is packed and indexed as it is
  // added, so the caller can drop the decoded object at once), then swapped in by Replace.
  class Replacement {
   public:
    void Add(const Json& obj);
    const std::vector<std::string>& keys() const { return keys_; }

   private:
    friend class Store;
    explicit Replacement(std::map<std::string, IndexFunc> index_funcs);
    std::map<std::string, IndexFunc> index_funcs_;
    Items items_;
    Indexes indexes_;
    std::vector<std::string> keys_;  // in the order added
  };

  // Register before the first insert (an index added later decodes every cached object once).
  void AddIndex(const std::string& name, IndexFunc fn);

  // Inserts or replaces; returns the previous object (null if new).
  ObjectPtr Upsert(const ObjectPtr& obj);
  // Removes by key; returns the removed object (null if absent).
  ObjectPtr Remove(const std::string& key);

  Replacement BeginReplace() const;
  // Swaps in the whole content atomically; returns the previous content, still packed.
  Items Replace(Replacement next);

  ObjectPtr Get(const std::string& key) const;
  // Every object, in key order. Decodes all of them at once: prefer ForEach for scans.
  std::vector<ObjectPtr> List() const;
  // Calls fn for every object in key order, decoding one at a time outside the lock. Objects
  // changed during the scan are seen in either state; objects removed meanwhile are skipped.
  void ForEach(const std::function<void(const ObjectPtr&)>& fn) const;
  std::vector<std::string> Keys() const;
  // Objects whose index `index` contains `value`, in key order.
  std::vector<ObjectPtr> ByIndex(const std::string& index, const std::string& value) const;
  size_t Size() const;
  // Sum of the packed sizes (for metrics and the memory benchmark).
  size_t PackedBytes() const;
  // Exceptions thrown by index functions, process-wide (each is logged; the object is then
  // indexed under no value of that index).
  static uint64_t IndexErrors() { return index_errors_.load(); }

 private:
  // fn(obj), or no values when fn throws (counted in IndexErrors).
  static std::vector<std::string> IndexValues(const IndexFunc& fn, const Json& obj);
  static std::atomic<uint64_t> index_errors_;
  // Adds every item of `items` to `idx` under fn (decoding each once).
  static void IndexAll(Index& idx, const IndexFunc& fn, const Items& items);
  static void IndexInto(Indexes& indexes, const std::map<std::string, IndexFunc>& funcs, const std::string& key,
                        const Json& obj);
  static void UnindexFrom(Indexes& indexes, const std::map<std::string, IndexFunc>& funcs, const std::string& key,
                          const Json& obj);

  mutable std::shared_mutex mu_;
  Items items_;
  std::map<std::string, IndexFunc> index_funcs_;
  Indexes indexes_;
  size_t packed_bytes_ = 0;
};

}  // namespace ferry::kube

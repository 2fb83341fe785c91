// WrittenVersions: which cached copies of an object a controller's own writes have replaced.
// After a write succeeds, the informer may still hand out the version the write replaced (its
// event has not arrived yet); a reconcile that decided again from that copy would take a
// second decision from stale facts, only for its write to fail with 409. A controller records
// the resourceVersion each successful write replaced and skips a reconcile whose cached copy
// has one of them: the informer's event for the write queues the key again. resourceVersions
// are never reused, so the first copy with another version means the cache caught up (or
// moved past), and the record goes.
//
// Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "kube/api_client.h"

namespace ferry::op {

class WrittenVersions {
 public:
  static std::string Of(const kube::Json& obj) {
    auto md = obj.find("metadata");
    return md == obj.end() ? "" : md->value("resourceVersion", "");
  }

  // True when `cached` is a version of `key` that a write of ours replaced.
  bool Stale(const std::string& key, const kube::Json& cached) {
    const std::string rv = Of(cached);
    std::lock_guard l(mu_);
    auto it = replaced_.find(key);
    if (it == replaced_.end()) return false;
    if (it->second.contains(rv)) return true;
    replaced_.erase(it);
    return false;
  }
  // A write of `key` over version `replaced` (the copy sent) succeeded with `written` (the
  // server's answer). A write that changed nothing keeps its resourceVersion and makes no
  // event: then nothing is recorded (the cached copy is current).
  void WroteOver(const std::string& key, const kube::Json& replaced, const kube::Json& written) {
    std::string rv = Of(replaced);
    if (rv.empty() || rv == Of(written)) return;
    std::lock_guard l(mu_);
    replaced_[key].insert(std::move(rv));
  }
  // The object is gone.
  void Forget(const std::string& key) {
    std::lock_guard l(mu_);
    replaced_.erase(key);
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::set<std::string>> replaced_;
};

}  // namespace ferry::op

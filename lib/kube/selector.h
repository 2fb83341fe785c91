// Label selectors in the API server's string syntax (k8s.io/apimachinery/pkg/labels):
//   "ferry.dev/node=node-a", "app==web", "tier!=db", "env in (prod,staging)",
//   "env notin (dev)", "gpu", "!gpu", and comma-separated conjunctions of these.
// Used by informers to tell "this object no longer matches my selector" from "deleted".
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "kube/api_client.h"

namespace ferry::kube {

class LabelSelector {
 public:
  // The empty selector matches everything.
  static StatusOr<LabelSelector> Parse(const std::string& text);

  // True when the object's metadata.labels satisfy every requirement.
  bool Matches(const Json& obj) const;
  bool empty() const { return reqs_.empty(); }

 private:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kNotExists };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  std::vector<Requirement> reqs_;
};

}  // namespace ferry::kube

// Read-modify-write of a typed Ferry object (api::VirtualMachine, api::VirtualMachineMigration,
// api::Hypervisor) through lib/kube's MutateStatus / MutateObject: the object is read, decoded,
// changed by `mutate` (which returns whether it changed anything), encoded over the JSON as
// read (unknown fields survive) and written with the resourceVersion read; a 409 re-reads and
// decides again. An object that does not decode is left alone (kInvalid).
#pragma once

#include <functional>
#include <stop_token>
#include <string>

#include "kube/writes.h"

namespace ferry::agent {

template <typename T>
StatusOr<T> MutateTyped(kube::ApiClient& api, const kube::ResourceType& rt, const std::string& ns,
                        const std::string& name, const std::function<bool(T&)>& mutate, bool status,
                        std::stop_token stop = {}) {
  Status decode_error;
  auto fn = [&](kube::Json& obj) {
    auto t = T::FromJson(obj);
    if (!t.ok()) {
      decode_error = t.status();
      return false;
    }
    decode_error = OkStatus();
    if (!mutate(*t)) return false;
    obj = t->ToJson();
    return true;
  };
  auto written = status ? kube::MutateStatus(api, rt, ns, name, fn, stop)
                        : kube::MutateObject(api, rt, ns, name, fn, stop);
  if (!written.ok()) return written.status();
  if (!decode_error.ok()) return decode_error;
  return T::FromJson(*written);
}

}  // namespace ferry::agent

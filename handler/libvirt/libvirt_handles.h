// RAII owners for libvirt C handles (internal to ferry_libvirt).
#pragma once

#include <libvirt/libvirt.h>

#include <memory>

namespace ferry::libvirt {

struct ConnectClose {
  void operator()(virConnectPtr c) const { virConnectClose(c); }
};
struct DomainFree {
  void operator()(virDomainPtr d) const { virDomainFree(d); }
};
using ConnectPtr = std::unique_ptr<virConnect, ConnectClose>;
using DomainPtr = std::unique_ptr<virDomain, DomainFree>;

// Typed parameters built with virTypedParamsAdd* or returned by libvirt.
class TypedParams {
 public:
  TypedParams() = default;
  TypedParams(const TypedParams&) = delete;
  TypedParams& operator=(const TypedParams&) = delete;
  ~TypedParams() { virTypedParamsFree(params_, n_); }
  virTypedParameterPtr* out() { return &params_; }
  int* count() { return &n_; }
  int* capacity() { return &max_; }
  virTypedParameterPtr get() const { return params_; }
  int size() const { return n_; }

 private:
  virTypedParameterPtr params_ = nullptr;
  int n_ = 0;
  int max_ = 0;
};

// Frees a C string libvirt allocated.
struct CFree {
  void operator()(char* p) const { free(p); }  // NOLINT: libvirt allocates with malloc
};
using CStringPtr = std::unique_ptr<char, CFree>;

}  // namespace ferry::libvirt

// One connection to a libvirtd, opened lazily, watched (keepalive + close callback) and
// reopened after it is lost. Internal to ferry_libvirt.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "core/status.h"
#include "libvirt/libvirt_handles.h"

namespace ferry::libvirt {

// Starts libvirt's default event loop once per process (needed for keepalive, close
// callbacks and domain events) and silences libvirt's own printing of errors.
void EnsureEventLoop();

class LibvirtConnection {
 public:
  // on_open runs after every successful (re)open, e.g. to register event callbacks.
  explicit LibvirtConnection(std::string uri, std::function<void(virConnectPtr)> on_open = {});
  ~LibvirtConnection();
  LibvirtConnection(const LibvirtConnection&) = delete;
  LibvirtConnection& operator=(const LibvirtConnection&) = delete;

  // An open connection; reconnects when the previous one is dead. The pointer stays valid
  // until the next reconnect; callers hold it only for one call.
  StatusOr<virConnectPtr> Get();

  // Looks up a domain (NotFound when it does not exist).
  StatusOr<DomainPtr> Domain(const std::string& name);

  // Call after a failed call: if the connection is dead, the next Get() reopens it.
  // Returns the error as a Status (Unavailable when the connection is lost).
  Status Failed(const std::string& call);

  const std::string& uri() const { return uri_; }
  int reconnects() const { return reconnects_; }

 private:
  static void OnClose(virConnectPtr conn, int reason, void* opaque);

  const std::string uri_;
  std::function<void(virConnectPtr)> on_open_;
  std::mutex mu_;
  ConnectPtr conn_;
  std::atomic<bool> broken_{false};  // set by the close callback (event loop thread)
  int reconnects_ = 0;
  bool ever_opened_ = false;
};

}  // namespace ferry::libvirt

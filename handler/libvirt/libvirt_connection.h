// One connection to a libvirtd, opened lazily, watched (keepalive + close callback) and
// reopened after it is lost. Internal to ferry_libvirt.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "core/status.h"
#include "libvirt/libvirt_error.h"
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

  // An open connection, as a counted reference of the caller's own (virConnectRef): another
  // thread reconnecting meanwhile closes only ours. Reconnects when the previous one is dead.
  StatusOr<ConnectPtr> Get();

  // Looks up a domain (NotFound when it does not exist). The domain holds a reference to its
  // connection.
  StatusOr<DomainPtr> Domain(const std::string& name);

  // Whether the current connection is open and alive (keepalive, close callback); never
  // reconnects.
  bool Alive();

  // Call right after a failed call made on `used` (Get()'s connection): if that connection
  // is dead or already replaced, the next Get() reopens. Returns the error as a Status
  // (Unavailable when the connection is lost). Nothing may call libvirt in between: every
  // libvirt API resets the thread's last error (so never write
  // Failed(call, virDomainGetConnect(d)): the argument is evaluated first; pass the domain).
  Status Failed(const std::string& call, virConnectPtr used);
  // The same for a call made on a domain: its connection is read after the error is captured.
  Status Failed(const std::string& call, virDomainPtr domain);

  const std::string& uri() const { return uri_; }
  int reconnects() const { return reconnects_; }

 private:
  Status FailedWith(LibvirtError e, const std::string& call, virConnectPtr used);
  static void OnClose(virConnectPtr conn, int reason, void* opaque);

  const std::string uri_;
  std::function<void(virConnectPtr)> on_open_;
  std::mutex mu_;
  ConnectPtr conn_;
  // Read by the close callback on the event loop thread, which must not take mu_ (libvirt
  // holds the connection's lock while calling it, and Get() calls libvirt under mu_).
  std::atomic<virConnectPtr> current_{nullptr};
  std::atomic<bool> broken_{false};  // set by the close callback
  int reconnects_ = 0;
  bool ever_opened_ = false;
};

}  // namespace ferry::libvirt

// libvirt errors as values: captured right after the failing call, on the same thread
// (libvirt keeps the last error per thread), mapped to ferry::Status.
#pragma once

#include <string>

#include "core/status.h"

namespace ferry::libvirt {

struct LibvirtError {
  int code = 0;    // virErrorNumber
  int domain = 0;  // virErrorDomain
  std::string message;
};

// virInitialize, once per process (thread-safe). Called by everything below and by the
// connection code before any other libvirt call.
void EnsureLibvirtInitialized();

// The calling thread's last libvirt error (resets it). Call immediately after a failure.
LibvirtError CaptureLastError();

// virErrorNumber -> StatusCode.
StatusCode MapErrorCode(int code);

// Whether the error means the connection to libvirtd is gone (reconnect, then retry).
bool IsConnectionLost(const LibvirtError& e);

// "<call>: <libvirt message> (code N)", with the mapped code; connection loss -> Unavailable.
Status ToStatus(const LibvirtError& e, const std::string& call);

// CaptureLastError + ToStatus.
Status LastErrorStatus(const std::string& call);

}  // namespace ferry::libvirt

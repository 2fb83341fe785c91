#include "libvirt/libvirt_error.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <mutex>

namespace ferry::libvirt {

void EnsureLibvirtInitialized() {
  // The error functions use a thread-local slot set up by virInitialize; connection opens
  // call it implicitly, virGetLastError does not.
  static std::once_flag once;
  std::call_once(once, [] { (void)virInitialize(); });
}

LibvirtError CaptureLastError() {
  EnsureLibvirtInitialized();
  LibvirtError e;
  virErrorPtr err = virGetLastError();
  if (err == nullptr) {
    e.message = "unknown libvirt error (none recorded)";
    return e;
  }
  e.code = err->code;
  e.domain = err->domain;
  e.message = err->message != nullptr ? err->message : "no message";
  virResetLastError();
  return e;
}

StatusCode MapErrorCode(int code) {
  switch (code) {
    case VIR_ERR_OK:
      return StatusCode::kOk;
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_STORAGE_VOL:
    case VIR_ERR_NO_STORAGE_POOL:
    case VIR_ERR_NO_NETWORK:
    case VIR_ERR_NO_DOMAIN_SNAPSHOT:
      return StatusCode::kNotFound;
    case VIR_ERR_DOM_EXIST:
      return StatusCode::kAlreadyExists;
    case VIR_ERR_INVALID_ARG:
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
    case VIR_ERR_XML_INVALID_SCHEMA:
      return StatusCode::kInvalid;
    case VIR_ERR_OPERATION_INVALID:
    case VIR_ERR_NO_SUPPORT:
    case VIR_ERR_OPERATION_UNSUPPORTED:
    case VIR_ERR_ARGUMENT_UNSUPPORTED:
    case VIR_ERR_CONFIG_UNSUPPORTED:
    case VIR_ERR_MIGRATE_UNSAFE:
    case VIR_ERR_CPU_INCOMPATIBLE:
      return StatusCode::kFailedPrecondition;
    case VIR_ERR_OPERATION_ABORTED:
      return StatusCode::kCancelled;
    case VIR_ERR_OPERATION_TIMEOUT:
    case VIR_ERR_AGENT_UNRESPONSIVE:
      return StatusCode::kDeadlineExceeded;
    case VIR_ERR_SYSTEM_ERROR:
    case VIR_ERR_RPC:
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_INVALID_CONN:
    case VIR_ERR_AUTH_UNAVAILABLE:
      return StatusCode::kUnavailable;
    case VIR_ERR_AUTH_FAILED:
      return StatusCode::kUnauthenticated;
    case VIR_ERR_OPERATION_DENIED:
    case VIR_ERR_ACCESS_DENIED:
      return StatusCode::kPermissionDenied;
    case VIR_ERR_INTERNAL_ERROR:
      return StatusCode::kInternal;
    default:
      return StatusCode::kUnknown;
  }
}

bool IsConnectionLost(const LibvirtError& e) {
  switch (e.code) {
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_INVALID_CONN:
    case VIR_ERR_RPC:
      return true;
    case VIR_ERR_SYSTEM_ERROR:
    case VIR_ERR_INTERNAL_ERROR:
      // I/O on the client socket (EOF, reset, "client socket is closed").
      return e.domain == VIR_FROM_RPC || e.domain == VIR_FROM_REMOTE;
    default:
      return false;
  }
}

Status ToStatus(const LibvirtError& e, const std::string& call) {
  const StatusCode code = IsConnectionLost(e) ? StatusCode::kUnavailable : MapErrorCode(e.code);
  std::string msg = call + ": " + e.message + " (libvirt error " + std::to_string(e.code) + ")";
  if (IsConnectionLost(e)) msg += " [connection to libvirtd lost]";
  return Status(code == StatusCode::kOk ? StatusCode::kUnknown : code, msg);
}

Status LastErrorStatus(const std::string& call) { return ToStatus(CaptureLastError(), call); }

}  // namespace ferry::libvirt

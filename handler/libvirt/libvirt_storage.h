// Files as a node's libvirtd sees them, through libvirt's storage API: a disk path is a
// volume of a directory pool. An active pool whose target is the path's directory is used
// when one exists; otherwise a transient pool "ferry-<hash>" is created for it (transient:
// it disappears with libvirtd and never touches the files). Going through libvirtd means
// the agent checks and creates exactly what QEMU will open, in the daemon's own mount
// namespace, without the host's file system mounted into the agent. Internal to
// handler/libvirt.
#pragma once

#include <mutex>
#include <string>

#include "core/status.h"
#include "domain/node_hypervisor.h"
#include "libvirt/libvirt_connection.h"

namespace ferry::libvirt {

class LibvirtStorage {
 public:
  explicit LibvirtStorage(LibvirtConnection& conn) : conn_(conn) {}

  // exists=false when the directory has no such file. Paths under /dev are not probed
  // (a pool refresh would open every device node): Invalid.
  StatusOr<domain::FileInfo> Stat(const std::string& path);
  Status Create(const std::string& path, domain::DiskImageFormat format, uint64_t size_bytes);
  // NotFound when there is no such file.
  Status Delete(const std::string& path);

 private:
  std::mutex mu_;  // one pool lookup/creation at a time
  LibvirtConnection& conn_;
};

}  // namespace ferry::libvirt

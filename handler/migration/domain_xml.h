// Domain XML handling: what the engine needs to know from a domain definition.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace ferry::migration {

struct DiskInfo {
  std::string target;  // dev name inside the guest, e.g. "vda"
  std::string type;    // file, block, network, volume
  std::string device;  // disk, cdrom, floppy, lun
  std::string source;  // path, or protocol/name for network disks
  bool readonly = false;
  bool shareable = false;
};

struct DomainXmlInfo {
  std::string name;
  std::string uuid;
  std::uint64_t memory_bytes = 0;
  std::vector<DiskInfo> disks;
};

// Parses the parts of a libvirt domain XML Ferry uses. Malformed XML is an Invalid error.
StatusOr<DomainXmlInfo> ParseDomainXml(const std::string& xml);

// Disks whose data lives only on this node and must be copied on migration: writable file or
// block disks that are not shareable (network and read-only media are reachable or rebuilt
// on the target). `shared_prefixes`: paths on shared storage (never copied).
std::vector<std::string> LocalDiskTargets(const DomainXmlInfo& info,
                                          const std::vector<std::string>& shared_prefixes = {});

}  // namespace ferry::migration

// The migration mark (ADR 6 §1): before a migration job starts, the source sets
// <ferry:migration uid="<VMM uid>"/> in the live domain's <metadata>, so that the target's
// incoming domain carries it too; the target cleans up and reports only a domain whose mark
// names its VMM's uid. The mark has an XML namespace of its own because libvirt keeps one
// <metadata> element per namespace URI (virDomainSetMetadata replaces it), so setting it
// leaves Ferry's <ferry:vm> element (domain/domain_description.h) alone. Header-only: the
// libvirt adapter writes it, the domain description reads it.
#pragma once

#include <string>

namespace ferry::migration {

inline constexpr const char* kMigrationMarkXmlns = "https://ferry.dev/xmlns/migration/v1";
inline constexpr const char* kMigrationMarkPrefix = "ferry";
inline constexpr const char* kMigrationMarkElement = "migration";

// A Kubernetes uid: letters, digits and '-' only (nothing to escape in an attribute).
inline bool ValidMarkUid(const std::string& uid) {
  if (uid.empty() || uid.size() > 128) return false;
  for (char c : uid) {
    const bool ok =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
    if (!ok) return false;
  }
  return true;
}

// The element given to virDomainSetMetadata (libvirt adds the namespace and prefix).
inline std::string MigrationMarkXml(const std::string& uid) {
  return std::string("<") + kMigrationMarkElement + " uid='" + uid + "'/>";
}

}  // namespace ferry::migration

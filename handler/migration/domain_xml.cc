#include "migration/domain_xml.h"

#include "xml/xml_util.h"

namespace ferry::migration {
namespace {

using xml::Attr;
using xml::Child;
using xml::Is;
using xml::Text;

DiskInfo ParseDisk(const xmlNode* d) {
  DiskInfo disk;
  disk.type = Attr(d, "type");
  disk.device = Attr(d, "device");
  if (disk.device.empty()) disk.device = "disk";
  if (const xmlNode* t = Child(d, "target")) disk.target = Attr(t, "dev");
  if (const xmlNode* s = Child(d, "source")) {
    for (const char* a : {"file", "dev", "name", "volume"}) {
      disk.source = Attr(s, a);
      if (!disk.source.empty()) break;
    }
  }
  disk.readonly = Child(d, "readonly") != nullptr;
  disk.shareable = Child(d, "shareable") != nullptr;
  return disk;
}

}  // namespace

StatusOr<DomainXmlInfo> ParseDomainXml(const std::string& text) {
  if (text.empty()) return InvalidError("domain XML is empty");
  auto doc = xml::Parse(text, "domain XML");
  if (!doc.ok()) return doc.status();
  const xmlNode* root = xmlDocGetRootElement(doc->get());
  if (!Is(root, "domain")) return InvalidError("domain XML: root element is not <domain>");
  DomainXmlInfo info;
  info.name = Text(Child(root, "name"));
  if (info.name.empty()) return InvalidError("domain XML: <name> is missing");
  info.uuid = Text(Child(root, "uuid"));
  if (const xmlNode* m = Child(root, "memory")) {
    auto bytes = xml::ScaledBytes(Text(m), Attr(m, "unit"), "KiB");  // libvirt's default unit
    if (!bytes.ok()) return InvalidError("domain XML: <memory>: " + bytes.status().message());
    info.memory_bytes = *bytes;
  }
  for (const xmlNode* d : xml::Children(Child(root, "devices"), "disk")) {
    info.disks.push_back(ParseDisk(d));
  }
  return info;
}

std::vector<std::string> LocalDiskTargets(const DomainXmlInfo& info,
                                          const std::vector<std::string>& shared_prefixes) {
  std::vector<std::string> out;
  for (const auto& d : info.disks) {
    if (d.type != "file" && d.type != "block" && d.type != "volume") continue;
    if (d.device == "cdrom" || d.device == "floppy" || d.readonly || d.shareable) continue;
    if (d.source.empty() || d.target.empty()) continue;
    bool shared = false;
    for (const auto& p : shared_prefixes) {
      if (!p.empty() && d.source.rfind(p, 0) == 0) shared = true;
    }
    if (!shared) out.push_back(d.target);
  }
  return out;
}

}  // namespace ferry::migration

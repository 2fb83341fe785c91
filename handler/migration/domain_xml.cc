// libxml2 parses; nothing else in Ferry includes it.
#include "migration/domain_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <memory>
#include <string>

namespace ferry::migration {
namespace {

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

const char* Name(const xmlNode* n) { return reinterpret_cast<const char*>(n->name); }
bool Is(const xmlNode* n, const char* name) {
  return n->type == XML_ELEMENT_NODE && std::string(Name(n)) == name;
}

std::string Attr(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

std::string Text(const xmlNode* n) {
  xmlChar* v = xmlNodeGetContent(n);
  if (v == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

const xmlNode* Child(const xmlNode* n, const char* name) {
  for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
    if (Is(c, name)) return c;
  }
  return nullptr;
}

StatusOr<std::uint64_t> MemoryBytes(const xmlNode* mem) {
  const std::string text = Text(mem);
  std::uint64_t v = 0;
  try {
    std::size_t used = 0;
    v = std::stoull(text, &used);
    if (used == 0) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    return InvalidError("domain XML: <memory> is not a number: '" + text + "'");
  }
  std::string unit = Attr(mem, "unit");
  if (unit.empty()) unit = "KiB";  // libvirt's default
  std::uint64_t mul = 0;
  if (unit == "b" || unit == "bytes")
    mul = 1;
  else if (unit == "KiB" || unit == "k")
    mul = 1ULL << 10;
  else if (unit == "MiB" || unit == "M")
    mul = 1ULL << 20;
  else if (unit == "GiB" || unit == "G")
    mul = 1ULL << 30;
  else if (unit == "TiB" || unit == "T")
    mul = 1ULL << 40;
  else if (unit == "KB")
    mul = 1000;
  else if (unit == "MB")
    mul = 1000 * 1000;
  else if (unit == "GB")
    mul = 1000ULL * 1000 * 1000;
  else
    return InvalidError("domain XML: unknown memory unit '" + unit + "'");
  return v * mul;
}

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

StatusOr<DomainXmlInfo> ParseDomainXml(const std::string& xml) {
  if (xml.empty()) return InvalidError("domain XML is empty");
  DocPtr doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "domain.xml", nullptr,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) {
    const xmlError* e = xmlGetLastError();
    return InvalidError(std::string("domain XML is malformed: ") +
                        (e && e->message ? e->message : "parse error"));
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr || !Is(root, "domain"))
    return InvalidError("domain XML: root element is not <domain>");
  DomainXmlInfo info;
  if (const xmlNode* n = Child(root, "name")) info.name = Text(n);
  if (info.name.empty()) return InvalidError("domain XML: <name> is missing");
  if (const xmlNode* n = Child(root, "uuid")) info.uuid = Text(n);
  if (const xmlNode* m = Child(root, "memory")) {
    auto bytes = MemoryBytes(m);
    if (!bytes.ok()) return bytes.status();
    info.memory_bytes = *bytes;
  }
  if (const xmlNode* devs = Child(root, "devices")) {
    for (const xmlNode* c = devs->children; c != nullptr; c = c->next) {
      if (Is(c, "disk")) info.disks.push_back(ParseDisk(c));
    }
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

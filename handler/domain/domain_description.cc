#include "domain/domain_description.h"

#include <algorithm>
#include <cstring>

#include "domain/cpuset.h"
#include "migration/migration_mark.h"
#include "xml/xml_util.h"

namespace ferry::domain {
namespace {

DomainDisk ParseDisk(const xmlNode* d) {
  DomainDisk disk;
  disk.type = xml::Attr(d, "type");
  disk.target = xml::Attr(xml::Child(d, "target"), "dev");
  disk.readonly = xml::Child(d, "readonly") != nullptr;
  const xmlNode* src = xml::Child(d, "source");
  if (disk.type == "file") {
    disk.source = xml::Attr(src, "file");
  } else if (disk.type == "block") {
    disk.source = xml::Attr(src, "dev");
  } else if (disk.type == "network") {
    disk.source = xml::Attr(src, "protocol") + "/" + xml::Attr(src, "name");
  } else {
    disk.source = xml::Attr(src, "file");
  }
  return disk;
}

bool InNamespace(const xmlNode* c, const char* href) {
  return c->type == XML_ELEMENT_NODE && c->ns != nullptr && c->ns->href != nullptr &&
         std::strcmp(reinterpret_cast<const char*>(c->ns->href), href) == 0;
}

std::optional<FerryMark> ParseMark(const xmlNode* metadata) {
  if (metadata == nullptr) return std::nullopt;
  std::optional<FerryMark> out;
  for (const xmlNode* c = metadata->children; c != nullptr; c = c->next) {
    if (InNamespace(c, kFerryXmlns) && xml::Is(c, "vm")) {
      if (!out) out.emplace();
      out->vm_namespace = xml::Attr(c, "namespace");
      out->vm_name = xml::Attr(c, "name");
      out->vm_uid = xml::Attr(c, "uid");
      out->spec_hash = xml::Attr(c, "specHash");
    } else if (InNamespace(c, migration::kMigrationMarkXmlns) &&
               xml::Is(c, migration::kMigrationMarkElement)) {
      if (!out) out.emplace();
      out->migration_uid = xml::Attr(c, "uid");
    }
  }
  return out;
}

}  // namespace

Status ParseDomainDescription(const std::string& text, DomainInfo* info) {
  auto doc = xml::Parse(text, "domain XML");
  if (!doc.ok()) return doc.status();
  const xmlNode* root = xmlDocGetRootElement(doc->get());
  if (!xml::Is(root, "domain")) return InvalidError("domain XML: root element is not <domain>");
  info->name = xml::Text(xml::Child(root, "name"));
  info->uuid = xml::Text(xml::Child(root, "uuid"));
  const std::string vcpus = xml::Text(xml::Child(root, "vcpu"));
  info->vcpus = vcpus.empty() ? 0 : std::atoi(vcpus.c_str());
  if (const xmlNode* mem = xml::Child(root, "memory")) {
    auto bytes = xml::ScaledBytes(xml::Text(mem), xml::Attr(mem, "unit"), "KiB");
    if (!bytes.ok()) return bytes.status().WithContext("domain XML <memory>");
    info->memory_bytes = *bytes;
  }
  info->hugepage_size_bytes = 0;
  if (const xmlNode* hp = xml::Path(root, "memoryBacking/hugepages")) {
    const xmlNode* page = xml::Child(hp, "page");
    if (page == nullptr) {
      info->hugepage_size_bytes = 2ULL << 20;  // libvirt's default huge page size on x86
    } else {
      auto size = xml::ScaledBytes(xml::Attr(page, "size"), xml::Attr(page, "unit"), "KiB");
      if (!size.ok()) return size.status().WithContext("domain XML hugepages");
      info->hugepage_size_bytes = *size;
    }
  }
  info->pinned_cpus.clear();
  for (const xmlNode* pin : xml::Children(xml::Child(root, "cputune"), "vcpupin")) {
    auto set = ParseCpuSet(xml::Attr(pin, "cpuset"));
    if (!set.ok()) return set.status().WithContext("domain XML vcpupin");
    info->pinned_cpus.insert(info->pinned_cpus.end(), set->begin(), set->end());
  }
  std::sort(info->pinned_cpus.begin(), info->pinned_cpus.end());
  info->pinned_cpus.erase(std::unique(info->pinned_cpus.begin(), info->pinned_cpus.end()),
                          info->pinned_cpus.end());
  info->disks.clear();
  for (const xmlNode* d : xml::Children(xml::Child(root, "devices"), "disk")) {
    if (xml::Attr(d, "device") == "disk" || xml::Attr(d, "device").empty()) {
      info->disks.push_back(ParseDisk(d));
    }
  }
  info->mark = ParseMark(xml::Child(root, "metadata"));
  return OkStatus();
}

}  // namespace ferry::domain

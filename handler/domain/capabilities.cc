#include "domain/capabilities.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "xml/xml_util.h"

namespace ferry::domain {
namespace {

constexpr uint64_t kMaxId = 1 << 20;  // CPU and NUMA cell ids (Linux allows 2^13 CPUs)

// The id attribute of a <cell> or <cpu>: digits only, within kMaxId.
StatusOr<int> Id(const xmlNode* n, const std::string& what) {
  auto id = xml::Number(xml::Attr(n, "id"), "capabilities: " + what + " id");
  if (!id.ok()) return id.status();
  if (*id > kMaxId) {
    return InvalidError("capabilities: " + what + " id " + std::to_string(*id) + " out of range");
  }
  return static_cast<int>(*id);
}

}  // namespace

Status ParseCapabilities(const std::string& text, HostFacts* facts) {
  auto doc = xml::Parse(text, "capabilities");
  if (!doc.ok()) return doc.status();
  const xmlNode* root = xmlDocGetRootElement(doc->get());
  const xmlNode* host = xml::Child(root, "host");
  if (host == nullptr) return InvalidError("capabilities: no <host>");
  const xmlNode* cpu = xml::Child(host, "cpu");
  facts->arch = xml::Text(xml::Child(cpu, "arch"));
  facts->cpu_model = xml::Text(xml::Child(cpu, "model"));
  facts->cpu_vendor = xml::Text(xml::Child(cpu, "vendor"));
  facts->cpu_features.clear();
  for (const xmlNode* f : xml::Children(cpu, "feature")) {
    const std::string name = xml::Attr(f, "name");
    if (!name.empty()) facts->cpu_features.push_back(name);
  }
  std::sort(facts->cpu_features.begin(), facts->cpu_features.end());

  const xmlNode* cells = xml::Path(host, "topology/cells");
  if (cells == nullptr) return OkStatus();
  facts->cells.clear();
  facts->cpus.clear();
  uint64_t total = 0;
  for (const xmlNode* c : xml::Children(cells, "cell")) {
    HostCell cell;
    auto cell_id = Id(c, "cell");
    if (!cell_id.ok()) return cell_id.status();
    cell.id = *cell_id;
    if (const xmlNode* mem = xml::Child(c, "memory")) {
      auto bytes = xml::ScaledBytes(xml::Text(mem), xml::Attr(mem, "unit"), "KiB");
      if (!bytes.ok()) return bytes.status().WithContext("capabilities: cell memory");
      cell.memory_bytes = *bytes;
    }
    for (const xmlNode* p : xml::Children(c, "pages")) {
      auto size = xml::ScaledBytes(xml::Attr(p, "size"), xml::Attr(p, "unit"), "KiB");
      if (!size.ok()) return size.status().WithContext("capabilities: page size");
      if (*size <= 64 * 1024) continue;  // base pages (4 KiB, 64 KiB) are not huge pages
      const std::string count = xml::Text(p);
      auto pages = count.empty() ? StatusOr<uint64_t>(uint64_t{0})
                                 : xml::Number(count, "capabilities: huge page count");
      if (!pages.ok()) return pages.status();
      cell.hugepages[*size] = *pages;
    }
    for (const xmlNode* cpu_node : xml::Children(xml::Child(c, "cpus"), "cpu")) {
      auto cpu_id = Id(cpu_node, "cpu");
      if (!cpu_id.ok()) return cpu_id.status();
      cell.cpus.push_back(*cpu_id);
      facts->cpus.push_back(*cpu_id);
    }
    total += cell.memory_bytes;
    facts->cells.push_back(std::move(cell));
  }
  std::sort(facts->cpus.begin(), facts->cpus.end());
  // A CPU listed twice would be handed out twice (found by fuzzing; libvirt never does this).
  if (auto dup = std::adjacent_find(facts->cpus.begin(), facts->cpus.end());
      dup != facts->cpus.end()) {
    return InvalidError("capabilities: cpu " + std::to_string(*dup) + " is listed twice");
  }
  if (total > 0) facts->memory_bytes = total;
  return OkStatus();
}

StatusOr<std::vector<std::string>> ParseUsableCpuModels(const std::string& text) {
  auto doc = xml::Parse(text, "domain capabilities");
  if (!doc.ok()) return doc.status();
  const xmlNode* cpu = xml::Child(xmlDocGetRootElement(doc->get()), "cpu");
  std::vector<std::string> models;
  for (const xmlNode* mode : xml::Children(cpu, "mode")) {
    if (xml::Attr(mode, "name") != "custom" || xml::Attr(mode, "supported") != "yes") continue;
    for (const xmlNode* m : xml::Children(mode, "model")) {
      if (xml::Attr(m, "usable") == "yes") models.push_back(xml::Text(m));
    }
  }
  return models;
}

std::string ParseQemuVersionOutput(const std::string& text) {
  // "QEMU emulator version 7.2.0 (Debian 1:7.2+dfsg-7)": the first "version " followed by
  // MAJOR.MINOR or MAJOR.MINOR.PATCH. Hand-parsed: GCC 12's <regex> trips
  // -Werror=maybe-uninitialized in optimised sanitizer builds.
  const auto digits = [&](std::size_t i) {
    std::size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    return j;
  };
  for (std::size_t at = text.find("version "); at != std::string::npos;
       at = text.find("version ", at + 1)) {
    const std::size_t start = at + 8;
    std::size_t end = digits(start);
    if (end == start || end >= text.size() || text[end] != '.') continue;
    std::size_t minor_end = digits(end + 1);
    if (minor_end == end + 1) continue;
    end = minor_end;
    if (end < text.size() && text[end] == '.') {
      const std::size_t patch_end = digits(end + 1);
      if (patch_end > end + 1) end = patch_end;
    }
    return text.substr(start, end - start);
  }
  return "";
}

std::string FormatLibvirtVersion(unsigned long long v) {
  return std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) + "." +
         std::to_string(v % 1000);
}

}  // namespace ferry::domain

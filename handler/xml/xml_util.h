// Small helpers over libxml2 for the node agent and the migration engine (parsing only;
// building is string work).
#pragma once

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace ferry::xml {

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

// Parses without network access or entity expansion; Invalid with `what` on malformed XML.
StatusOr<DocPtr> Parse(const std::string& text, const std::string& what);

bool Is(const xmlNode* n, const char* name);
std::string Attr(const xmlNode* n, const char* name);
std::string Text(const xmlNode* n);
const xmlNode* Child(const xmlNode* n, const char* name);
std::vector<const xmlNode*> Children(const xmlNode* n, const char* name);
// Follows a path of element names ("cpu/model"); null when any step is missing.
const xmlNode* Path(const xmlNode* n, const std::string& path);

// A non-negative decimal integer (digits only); `what` names it in the error.
StatusOr<uint64_t> Number(const std::string& text, const std::string& what);
// Bytes from a libvirt scaled integer (<memory unit='KiB'>1024</memory>, size='2048'
// unit='KiB'); `default_unit` when the unit attribute is absent.
StatusOr<uint64_t> ScaledBytes(const std::string& number, const std::string& unit,
                               const std::string& default_unit);

// Escapes &, <, >, ' and " for element text and attribute values.
std::string Escape(const std::string& s);

}  // namespace ferry::xml

#include "xml/xml_util.h"

#include <charconv>
#include <cstring>
#include <limits>
#include <sstream>

namespace ferry::xml {

StatusOr<DocPtr> Parse(const std::string& text, const std::string& what) {
  xmlResetLastError();  // the reason below is this parse's, not an earlier one's
  xmlDoc* doc = xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr || xmlDocGetRootElement(doc) == nullptr) {
    if (doc != nullptr) xmlFreeDoc(doc);
    const xmlError* e = xmlGetLastError();
    std::string why = e != nullptr && e->message != nullptr ? e->message : "no root element";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return InvalidError(what + ": malformed XML: " + why);
  }
  return DocPtr(doc);
}

bool Is(const xmlNode* n, const char* name) {
  return n != nullptr && n->type == XML_ELEMENT_NODE &&
         std::strcmp(reinterpret_cast<const char*>(n->name), name) == 0;
}

std::string Attr(const xmlNode* n, const char* name) {
  if (n == nullptr) return "";
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

std::string Text(const xmlNode* n) {
  if (n == nullptr) return "";
  xmlChar* v = xmlNodeGetContent(n);
  if (v == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  // Trim surrounding white space.
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

const xmlNode* Child(const xmlNode* n, const char* name) {
  if (n == nullptr) return nullptr;
  for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
    if (Is(c, name)) return c;
  }
  return nullptr;
}

std::vector<const xmlNode*> Children(const xmlNode* n, const char* name) {
  std::vector<const xmlNode*> out;
  if (n == nullptr) return out;
  for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
    if (Is(c, name)) out.push_back(c);
  }
  return out;
}

const xmlNode* Path(const xmlNode* n, const std::string& path) {
  std::stringstream ss(path);
  std::string step;
  while (n != nullptr && std::getline(ss, step, '/')) n = Child(n, step.c_str());
  return n;
}

StatusOr<uint64_t> Number(const std::string& text, const std::string& what) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return InvalidError(what + ": '" + text + "' is not a number");
  }
  return v;
}

StatusOr<uint64_t> ScaledBytes(const std::string& number, const std::string& unit,
                               const std::string& default_unit) {
  auto v = Number(number, "size");
  if (!v.ok()) return v.status();
  const std::string u = unit.empty() ? default_unit : unit;
  uint64_t mul = 0;
  if (u == "b" || u == "bytes") {
    mul = 1;
  } else if (u == "KiB" || u == "k" || u == "K") {
    mul = 1ULL << 10;
  } else if (u == "MiB" || u == "M") {
    mul = 1ULL << 20;
  } else if (u == "GiB" || u == "G") {
    mul = 1ULL << 30;
  } else if (u == "TiB" || u == "T") {
    mul = 1ULL << 40;
  } else if (u == "KB") {
    mul = 1000;
  } else if (u == "MB") {
    mul = 1000ULL * 1000;
  } else if (u == "GB") {
    mul = 1000ULL * 1000 * 1000;
  } else {
    return InvalidError("unknown unit '" + u + "'");
  }
  if (*v > std::numeric_limits<uint64_t>::max() / mul) {
    return InvalidError("size " + number + " " + u + " does not fit in 64 bits of bytes");
  }
  return *v * mul;
}

std::string Escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace ferry::xml

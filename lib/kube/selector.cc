#include "kube/selector.h"

#include <algorithm>
#include <cctype>

namespace ferry::kube {
namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Splits on commas outside parentheses.
StatusOr<std::vector<std::string>> SplitTerms(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0)
      return InvalidError("label selector: unbalanced ')' in \"" + text + "\"");
    if (c == ',' && depth == 0) {
      out.push_back(Trim(cur));
      cur.clear();
      continue;
    }
    cur.push_back(c);
  }
  if (depth != 0) return InvalidError("label selector: unbalanced '(' in \"" + text + "\"");
  out.push_back(Trim(cur));
  return out;
}

bool ValidKey(const std::string& k) {
  if (k.empty()) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '/';
  });
}

}  // namespace

StatusOr<LabelSelector> LabelSelector::Parse(const std::string& text) {
  LabelSelector sel;
  if (Trim(text).empty()) return sel;
  auto terms = SplitTerms(text);
  if (!terms.ok()) return terms.status();
  for (const auto& term : *terms) {
    if (term.empty()) return InvalidError("label selector: empty term in \"" + text + "\"");
    Requirement r;
    size_t pos;
    if (term[0] == '!') {
      r.key = Trim(term.substr(1));
      r.op = Op::kNotExists;
    } else if ((pos = term.find("!=")) != std::string::npos) {
      r.key = Trim(term.substr(0, pos));
      r.op = Op::kNotEquals;
      r.values = {Trim(term.substr(pos + 2))};
    } else if ((pos = term.find("==")) != std::string::npos) {
      r.key = Trim(term.substr(0, pos));
      r.op = Op::kEquals;
      r.values = {Trim(term.substr(pos + 2))};
    } else if ((pos = term.find('=')) != std::string::npos) {
      r.key = Trim(term.substr(0, pos));
      r.op = Op::kEquals;
      r.values = {Trim(term.substr(pos + 1))};
    } else if (term.find('(') != std::string::npos) {
      const size_t open = term.find('(');
      if (term.back() != ')')
        return InvalidError("label selector: expected ')' in \"" + term + "\"");
      const std::string head = Trim(term.substr(0, open));
      const size_t sp = head.find_last_of(" \t");
      if (sp == std::string::npos)
        return InvalidError("label selector: expected 'in' or 'notin' in \"" + term + "\"");
      const std::string op = head.substr(sp + 1);
      r.key = Trim(head.substr(0, sp));
      if (op == "in") {
        r.op = Op::kIn;
      } else if (op == "notin") {
        r.op = Op::kNotIn;
      } else {
        return InvalidError("label selector: unknown operator \"" + op + "\"");
      }
      std::string list = term.substr(open + 1, term.size() - open - 2);
      size_t start = 0;
      for (;;) {
        const size_t comma = list.find(',', start);
        r.values.push_back(Trim(
            list.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      r.key = term;
      r.op = Op::kExists;
    }
    if (!ValidKey(r.key)) return InvalidError("label selector: invalid key in \"" + term + "\"");
    sel.reqs_.push_back(std::move(r));
  }
  return sel;
}

bool LabelSelector::Matches(const Json& obj) const {
  const Json* labels = nullptr;
  if (auto m = obj.find("metadata"); m != obj.end() && m->is_object()) {
    if (auto l = m->find("labels"); l != m->end() && l->is_object()) labels = &*l;
  }
  for (const auto& r : reqs_) {
    const Json* v = nullptr;
    if (labels != nullptr) {
      auto it = labels->find(r.key);
      if (it != labels->end() && it->is_string()) v = &*it;
    }
    const bool has = v != nullptr;
    const std::string value = has ? v->get<std::string>() : "";
    const bool in = has && std::find(r.values.begin(), r.values.end(), value) != r.values.end();
    switch (r.op) {
      case Op::kExists:
        if (!has) return false;
        break;
      case Op::kNotExists:
        if (has) return false;
        break;
      case Op::kEquals:
      case Op::kIn:
        if (!in) return false;
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        if (in) return false;
        break;
    }
  }
  return true;
}

}  // namespace ferry::kube

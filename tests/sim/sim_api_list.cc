// SimApiServer's lists: label and field selectors, and pages (limit/continue) served from
// one snapshot — the list's resourceVersion — rebuilt from the change log, 410 once compacted.
#include "kube/selector.h"
#include "sim_api_internal.h"

namespace ferry::sim {

using internal::Resource;

namespace {

StatusOr<std::vector<std::pair<std::string, std::pair<bool, std::string>>>> ParseFields(
    const std::string& text) {
  std::vector<std::pair<std::string, std::pair<bool, std::string>>> out;  // key, (equal, value)
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string term = text.substr(start, comma - start);
    start = comma + 1;
    if (term.empty()) continue;
    size_t op = term.find("!=");
    bool equal = false;
    size_t vlen = 2;
    if (op == std::string::npos) {
      equal = true;
      op = term.find("==");
      if (op == std::string::npos) {
        op = term.find('=');
        vlen = 1;
      }
    }
    if (op == std::string::npos) return internal::BadRequest("invalid field selector: " + term);
    const std::string key = term.substr(0, op);
    if (key != "metadata.name" && key != "metadata.namespace") {
      return internal::BadRequest("field label not supported: " + key);
    }
    out.push_back({key, {equal, term.substr(op + vlen)}});
  }
  return out;
}

}  // namespace

std::map<std::string, Json> SimApiServer::Impl::StateAt(const Resource& r, int64_t at) const {
  std::map<std::string, Json> state = r.objects;
  for (auto it = log.rbegin(); it != log.rend() && it->rv > at; ++it) {
    if (it->resource != r.rt.resource) continue;
    const Json& o = it->type == kube::WatchEvent::Type::kAdded ? it->object : it->previous;
    const std::string key = internal::StorageKey(r.rt, internal::MetaString(o, "namespace"),
                                                 internal::MetaString(o, "name"));
    if (it->type == kube::WatchEvent::Type::kAdded) {
      state.erase(key);
    } else {
      state[key] = it->previous;
    }
  }
  return state;
}

StatusOr<kube::ListResult> SimApiServer::List(const kube::ResourceType& rt, const std::string& ns,
                                              const kube::ListOptions& opts) {
  auto r = impl_->Find(rt);
  if (!r.ok()) return r.status();
  auto selector = kube::LabelSelector::Parse(opts.label_selector);
  if (!selector.ok()) return internal::BadRequest(selector.status().message());
  auto fields = ParseFields(opts.field_selector);
  if (!fields.ok()) return fields.status();

  // A continue token names the snapshot (rv) and the last key served: "<rv>:<key>".
  int64_t at = impl_->rv;
  std::string after;
  bool continued = false;
  if (!opts.continue_token.empty()) {
    const size_t colon = opts.continue_token.find(':');
    try {
      at = std::stoll(opts.continue_token.substr(0, colon));
    } catch (const std::exception&) {
      return internal::BadRequest("continue key is not valid");
    }
    if (colon == std::string::npos || at > impl_->rv || at < 0) {
      return internal::BadRequest("continue key is not valid");
    }
    if (at < impl_->compacted) {
      return internal::ApiError(StatusCode::kGone, 410, "Expired",
                                "The provided continue parameter is too old to display a "
                                "consistent list result. You can start a new list without the "
                                "continue parameter.");
    }
    after = opts.continue_token.substr(colon + 1);
    continued = true;
  }
  std::map<std::string, Json> snapshot;
  const std::map<std::string, Json>* objects = &(*r)->objects;
  if (at != impl_->rv) {
    snapshot = impl_->StateAt(**r, at);
    objects = &snapshot;
  }

  kube::ListResult out;
  out.resource_version = std::to_string(at);
  auto it = continued ? objects->upper_bound(after) : objects->begin();
  std::string last_key;
  for (; it != objects->end(); ++it) {
    const Json& o = it->second;
    if (rt.namespaced && !ns.empty() && internal::MetaString(o, "namespace") != ns) continue;
    if (!selector->Matches(o)) continue;
    bool ok = true;
    for (const auto& [key, test] : *fields) {
      const std::string v = internal::MetaString(o, key == "metadata.name" ? "name" : "namespace");
      ok = ok && ((v == test.second) == test.first);
    }
    if (!ok) continue;
    if (opts.limit > 0 && static_cast<int64_t>(out.items.size()) == opts.limit) {
      // More remain: the next page starts after the last key served.
      out.continue_token = std::to_string(at) + ":" + last_key;
      break;
    }
    out.items.push_back(o);
    last_key = it->first;
  }
  return out;
}

}  // namespace ferry::sim

#include "kube/rest_client.h"

#include <cstdio>
#include <thread>

#include "kube/watch_decoder.h"
#include "log/log.h"

namespace ferry::kube {
namespace resources {
const ResourceType kVirtualMachines{"ferry.dev", "v1alpha1", "virtualmachines", "VirtualMachine", true};
const ResourceType kVirtualMachineMigrations{"ferry.dev", "v1alpha1", "virtualmachinemigrations",
                                             "VirtualMachineMigration", true};
const ResourceType kServerGroups{"ferry.dev", "v1alpha1", "servergroups", "ServerGroup", true};
const ResourceType kMigrationPolicies{"ferry.dev", "v1alpha1", "migrationpolicies", "MigrationPolicy", false};
const ResourceType kNodes{"", "v1", "nodes", "Node", false};
const ResourceType kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
const ResourceType kEvents{"", "v1", "events", "Event", true};
const ResourceType kNamespaces{"", "v1", "namespaces", "Namespace", false};
const ResourceType kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
const ResourceType kCustomResourceDefinitions{"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                                              "CustomResourceDefinition", false};
}  // namespace resources

namespace {

// Extra silence tolerated on a watch stream beyond its server-side timeoutSeconds.
constexpr std::chrono::seconds kWatchTimeoutMargin{30};
// Stream silence tolerated when a watch asks for no server-side timeout.
constexpr std::chrono::minutes kWatchDefaultSilence{10};

std::string MetaString(const Json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return "";
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : "";
}

void AddParam(std::string* query, const std::string& key, const std::string& value) {
  if (value.empty()) return;
  query->append(query->empty() ? "?" : "&");
  query->append(key).append("=").append(QueryEscape(value));
}

const char* PatchContentType(PatchType t) {
  switch (t) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
  }
  return "application/merge-patch+json";
}

// A string field of an error body, "" when absent or not a string: the body may come from a
// proxy or a broken server, and Json::value() throws on a field of another type.
std::string StringField(const Json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string QueryEscape(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string ResourcePath(const ResourceType& rt, const std::string& ns, const std::string& name,
                         const std::string& subresource) {
  std::string p = rt.group.empty() ? "/api/" + rt.version : "/apis/" + rt.group + "/" + rt.version;
  if (rt.namespaced && !ns.empty()) p += "/namespaces/" + QueryEscape(ns);
  p += "/" + rt.resource;
  if (!name.empty()) p += "/" + QueryEscape(name);
  if (!subresource.empty()) p += "/" + subresource;
  return p;
}

Status StatusFromResponse(const http::Response& resp, const std::string& what) {
  std::string message;
  std::string reason;
  std::optional<std::chrono::seconds> retry_after;
  std::vector<StatusCause> causes;
  Json body = Json::parse(resp.body, nullptr, false);
  if (body.is_object() && StringField(body, "kind") == "Status") {
    message = StringField(body, "message");
    reason = StringField(body, "reason");
    if (auto d = body.find("details"); d != body.end() && d->is_object()) {
      if (auto cs = d->find("causes"); cs != d->end() && cs->is_array()) {
        for (const auto& c : *cs) {
          if (!c.is_object()) continue;
          causes.push_back(
              {StringField(c, "reason"), StringField(c, "field"), StringField(c, "message")});
        }
      }
      // Seconds to wait, as the server says; a negative count is no advice.
      if (auto ra = d->find("retryAfterSeconds");
          ra != d->end() && ra->is_number_integer() && ra->get<int64_t>() >= 0) {
        retry_after = std::chrono::seconds(ra->get<int64_t>());
      }
    }
  } else {
    message = resp.body.substr(0, 512);
  }
  if (const std::string ra = resp.Header("retry-after"); !ra.empty()) {
    char* end = nullptr;
    const long secs = std::strtol(ra.c_str(), &end, 10);
    if (end != ra.c_str() && secs >= 0) retry_after = std::chrono::seconds(secs);
  }
  StatusCode code = StatusCode::kUnknown;
  const int s = resp.status;
  if (s == 400 || s == 422) {
    code = StatusCode::kInvalid;
  } else if (s == 401) {
    code = StatusCode::kUnauthenticated;
  } else if (s == 403) {
    code = StatusCode::kPermissionDenied;
  } else if (s == 404) {
    code = StatusCode::kNotFound;
  } else if (s == 409) {
    code = reason == "AlreadyExists" ? StatusCode::kAlreadyExists : StatusCode::kConflict;
  } else if (s == 410) {
    code = StatusCode::kGone;
  } else if (s == 429) {
    code = StatusCode::kTooManyRequests;
  } else if (s == 504) {
    code = StatusCode::kDeadlineExceeded;
  } else if (s >= 500) {
    code = StatusCode::kUnavailable;
  }
  Status st(code, what + ": " + (message.empty() ? "HTTP " + std::to_string(s) : message));
  st.set_http_status(s);
  if (retry_after) st.set_retry_after(*retry_after);
  st.set_reason(reason);
  st.set_causes(std::move(causes));
  return st;
}

RestApiClient::RestApiClient(std::shared_ptr<http::HttpClient> http, ClusterConfig config, RestOptions options)
    : http_(std::move(http)), config_(std::move(config)), options_(std::move(options)) {
  if (!options_.sleep) options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  if (options_.qps > 0) {
    Clock& clock = options_.clock != nullptr ? *options_.clock : RealClock::Get();
    limiter_ = std::make_unique<controller::BucketRateLimiter>(clock, options_.qps, options_.burst);
  }
}

void RestApiClient::Throttle() {
  if (!limiter_) return;
  const auto wait = limiter_->When("");
  if (wait > Clock::Duration::zero()) {
    options_.sleep(std::chrono::ceil<std::chrono::milliseconds>(wait));
  }
}

std::unique_ptr<RestApiClient> RestApiClient::FromConfig(const ClusterConfig& config, RestOptions options) {
  http::ClientConfig hc;
  hc.base_url = config.server;
  hc.tls = config.tls;
  if (options.request_timeout.count() > 0) hc.request_timeout = options.request_timeout;
  return std::make_unique<RestApiClient>(http::MakeHttpClient(std::move(hc)), config, std::move(options));
}

StatusOr<http::Request> RestApiClient::NewRequest(const std::string& method, const std::string& path,
                                                  std::string body, const std::string& content_type) {
  http::Request req;
  req.method = method;
  req.path = path;
  req.body = std::move(body);
  req.headers.emplace_back("Accept", "application/json");
  req.headers.emplace_back("User-Agent", options_.user_agent);
  if (!req.body.empty()) req.headers.emplace_back("Content-Type", content_type);
  if (config_.token) {
    auto tok = config_.token->Token();
    if (!tok.ok()) return tok.status();
    if (!tok->empty()) req.headers.emplace_back("Authorization", "Bearer " + *tok);
  }
  return req;
}

StatusOr<Json> RestApiClient::Do(const std::string& method, const std::string& path, std::string body,
                                 const std::string& content_type) {
  const std::string what = method + " " + path;
  for (int attempt = 0;; ++attempt) {
    auto req = NewRequest(method, path, body, content_type);
    if (!req.ok()) return req.status();
    Throttle();
    const auto sent = std::chrono::steady_clock::now();
    auto resp = http_->Send(*req);
    if (log::V(4).enabled()) {
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - sent;
      log::V(4)
          .Info(log::Obj("uri", path), "HTTP")
          .With("verb", method)
          .With("status", resp.ok() ? resp->status : 0)
          .With("latencySeconds", took.count());
    }
    if (!resp.ok()) return resp.status().WithContext(what);
    if (resp->status >= 200 && resp->status < 300) {
      if (resp->body.empty()) return Json::object();
      Json j = Json::parse(resp->body, nullptr, false);
      if (j.is_discarded()) return UnavailableError(what + ": response is not JSON");
      return j;
    }
    Status st = StatusFromResponse(*resp, what);
    const bool throttled = st.code() == StatusCode::kTooManyRequests ||
                           (resp->status == 503 && st.retry_after().has_value());
    if (!throttled || attempt >= options_.max_throttle_retries) return st;
    auto wait = st.retry_after().value_or(std::chrono::seconds(1));
    if (wait > options_.max_retry_wait) wait = options_.max_retry_wait;
    options_.sleep(std::chrono::duration_cast<std::chrono::milliseconds>(wait));
  }
}

StatusOr<Json> RestApiClient::Get(const ResourceType& rt, const std::string& ns, const std::string& name) {
  if (name.empty()) return InvalidError("get " + rt.resource + ": empty name");
  return Do("GET", ResourcePath(rt, ns, name));
}

StatusOr<ListResult> RestApiClient::List(const ResourceType& rt, const std::string& ns, const ListOptions& opts) {
  std::string q;
  AddParam(&q, "labelSelector", opts.label_selector);
  AddParam(&q, "fieldSelector", opts.field_selector);
  if (opts.limit > 0) AddParam(&q, "limit", std::to_string(opts.limit));
  AddParam(&q, "continue", opts.continue_token);
  AddParam(&q, "resourceVersion", opts.resource_version);
  auto j = Do("GET", ResourcePath(rt, ns, "") + q);
  if (!j.ok()) return j.status();
  ListResult out;
  if (auto items = j->find("items"); items != j->end() && items->is_array()) {
    out.items.reserve(items->size());
    for (auto& item : *items) {
      // Lists omit kind/apiVersion on items; restore them so objects look as from a Get.
      if (!item.contains("kind")) item["kind"] = rt.kind;
      if (!item.contains("apiVersion")) item["apiVersion"] = rt.ApiVersion();
      out.items.push_back(std::move(item));
    }
  }
  if (auto m = j->find("metadata"); m != j->end() && m->is_object()) {
    out.resource_version = m->value("resourceVersion", "");
    out.continue_token = m->value("continue", "");
  }
  return out;
}

StatusOr<Json> RestApiClient::Create(const ResourceType& rt, const std::string& ns, const Json& obj) {
  return Do("POST", ResourcePath(rt, ns, ""), obj.dump());
}

StatusOr<Json> RestApiClient::Update(const ResourceType& rt, const Json& obj) {
  const std::string name = MetaString(obj, "name");
  if (name.empty()) return InvalidError("update " + rt.resource + ": object has no metadata.name");
  return Do("PUT", ResourcePath(rt, MetaString(obj, "namespace"), name), obj.dump());
}

StatusOr<Json> RestApiClient::UpdateStatus(const ResourceType& rt, const Json& obj) {
  const std::string name = MetaString(obj, "name");
  if (name.empty()) return InvalidError("update status of " + rt.resource + ": object has no metadata.name");
  return Do("PUT", ResourcePath(rt, MetaString(obj, "namespace"), name, "status"), obj.dump());
}

StatusOr<Json> RestApiClient::Patch(const ResourceType& rt, const std::string& ns, const std::string& name,
                                    const Json& patch, PatchType type, bool status_subresource) {
  if (name.empty()) return InvalidError("patch " + rt.resource + ": empty name");
  return Do("PATCH", ResourcePath(rt, ns, name, status_subresource ? "status" : ""), patch.dump(),
            PatchContentType(type));
}

Status RestApiClient::Delete(const ResourceType& rt, const std::string& ns, const std::string& name,
                             const DeleteOptions& opts) {
  if (name.empty()) return InvalidError("delete " + rt.resource + ": empty name");
  Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!opts.propagation_policy.empty()) body["propagationPolicy"] = opts.propagation_policy;
  if (opts.grace_period_seconds) body["gracePeriodSeconds"] = *opts.grace_period_seconds;
  if (opts.precondition_uid) body["preconditions"]["uid"] = *opts.precondition_uid;
  if (opts.precondition_resource_version) body["preconditions"]["resourceVersion"] = *opts.precondition_resource_version;
  return Do("DELETE", ResourcePath(rt, ns, name), body.dump()).status();
}

Status RestApiClient::Watch(const ResourceType& rt, const std::string& ns, const WatchOptions& opts,
                            const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) {
  std::string q = "?watch=true";
  if (opts.allow_bookmarks) q += "&allowWatchBookmarks=true";
  if (opts.timeout_seconds > 0) q += "&timeoutSeconds=" + std::to_string(opts.timeout_seconds);
  AddParam(&q, "resourceVersion", opts.resource_version);
  AddParam(&q, "labelSelector", opts.label_selector);
  AddParam(&q, "fieldSelector", opts.field_selector);
  const std::string path = ResourcePath(rt, ns, "") + q;
  auto req = NewRequest("GET", path, "");
  if (!req.ok()) return req.status();
  req->timeout = opts.timeout_seconds > 0
                     ? std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::seconds(opts.timeout_seconds) + kWatchTimeoutMargin)
                     : std::chrono::duration_cast<std::chrono::milliseconds>(kWatchDefaultSilence);
  Throttle();
  WatchDecoder decoder;
  Status decode_error;
  std::vector<WatchEvent> events;
  bool consumer_stopped = false;
  auto resp = http_->Stream(
      *req,
      [&](std::string_view chunk) {
        events.clear();
        decode_error = decoder.Feed(chunk, &events);
        for (const auto& ev : events) {
          if (!on_event(ev)) {
            consumer_stopped = true;
            return false;
          }
        }
        return decode_error.ok();
      },
      stop);
  if (!resp.ok()) return resp.status().WithContext("watch " + path);
  if (resp->status < 200 || resp->status >= 300) return StatusFromResponse(*resp, "watch " + path);
  if (!decode_error.ok()) return UnavailableError("watch " + path + ": " + decode_error.message());
  if (!consumer_stopped && decoder.HasPartialFrame()) {
    return UnavailableError("watch " + path + ": stream ended inside a frame");
  }
  return OkStatus();
}

}  // namespace ferry::kube

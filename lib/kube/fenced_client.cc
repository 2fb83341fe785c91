#include "kube/fenced_client.h"

#include <utility>

namespace ferry::kube {

FencedApiClient::FencedApiClient(ApiClient& inner, std::function<bool()> may_write, std::string who)
    : inner_(inner), may_write_(std::move(may_write)), who_(std::move(who)) {}

Status FencedApiClient::Fence(const char* verb, const ResourceType& rt, const std::string& name) {
  if (!may_write_ || may_write_()) return OkStatus();
  ++refused_;
  return FailedPreconditionError(std::string(verb) + " " + rt.resource + " " + name +
                                 " not sent: this process cannot prove it still holds " + who_);
}

StatusOr<Json> FencedApiClient::Get(const ResourceType& rt, const std::string& ns,
                                    const std::string& name) {
  return inner_.Get(rt, ns, name);
}

StatusOr<ListResult> FencedApiClient::List(const ResourceType& rt, const std::string& ns,
                                           const ListOptions& opts) {
  return inner_.List(rt, ns, opts);
}

StatusOr<Json> FencedApiClient::Create(const ResourceType& rt, const std::string& ns,
                                       const Json& obj) {
  FERRY_RETURN_IF_ERROR(
      Fence("create", rt, obj.value("metadata", Json::object()).value("name", "")));
  return inner_.Create(rt, ns, obj);
}

StatusOr<Json> FencedApiClient::Update(const ResourceType& rt, const Json& obj) {
  FERRY_RETURN_IF_ERROR(
      Fence("update", rt, obj.value("metadata", Json::object()).value("name", "")));
  return inner_.Update(rt, obj);
}

StatusOr<Json> FencedApiClient::UpdateStatus(const ResourceType& rt, const Json& obj) {
  FERRY_RETURN_IF_ERROR(
      Fence("status update", rt, obj.value("metadata", Json::object()).value("name", "")));
  return inner_.UpdateStatus(rt, obj);
}

StatusOr<Json> FencedApiClient::Patch(const ResourceType& rt, const std::string& ns,
                                      const std::string& name, const Json& patch, PatchType type,
                                      bool status_subresource) {
  FERRY_RETURN_IF_ERROR(Fence("patch", rt, name));
  return inner_.Patch(rt, ns, name, patch, type, status_subresource);
}

Status FencedApiClient::Delete(const ResourceType& rt, const std::string& ns,
                               const std::string& name, const DeleteOptions& opts) {
  FERRY_RETURN_IF_ERROR(Fence("delete", rt, name));
  return inner_.Delete(rt, ns, name, opts);
}

Status FencedApiClient::Watch(const ResourceType& rt, const std::string& ns,
                              const WatchOptions& opts,
                              const std::function<bool(const WatchEvent&)>& on_event,
                              std::stop_token stop) {
  return inner_.Watch(rt, ns, opts, on_event, stop);
}

bool WriteMayHaveLanded(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalid:
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
    case StatusCode::kConflict:
    case StatusCode::kTooManyRequests:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kCancelled:
      return false;
    case StatusCode::kOk:
    case StatusCode::kGone:
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kInternal:
    case StatusCode::kUnknown:
      return true;
  }
  return true;
}

}  // namespace ferry::kube

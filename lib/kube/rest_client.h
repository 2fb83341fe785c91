// RestApiClient: ApiClient over HTTP (http::HttpClient), with Kubernetes' error semantics
// mapped to Status codes and 429 Retry-After honoured.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "controller/rate_limiter.h"
#include "core/clock.h"
#include "http/http.h"
#include "kube/api_client.h"
#include "kube/config.h"

namespace ferry::kube {

struct RestOptions {
  std::string user_agent = "ferry/0.1";
  // Client-side rate limit of every request (a token bucket, client-go's defaults: 5 qps,
  // burst 10), so a controller working through 10,000 objects paces itself instead of
  // leaning on the server's 429s. Controllers with much to write raise it (e.g. 50/100).
  // qps <= 0: no limit.
  double qps = 5.0;
  int burst = 10;
  // Timeout of one request (0 = the HTTP client's default, 30 s). FromConfig only.
  std::chrono::milliseconds request_timeout{0};
  // Time source of the rate limiter; nullptr = RealClock::Get().
  Clock* clock = nullptr;
  // A 429 (or 503 with Retry-After) is retried this many times, waiting as the server asks
  // (capped by max_retry_wait), before the error is returned to the caller.
  int max_throttle_retries = 3;
  std::chrono::seconds max_retry_wait{10};
  // Sleeps between throttle retries; tests may replace it.
  std::function<void(std::chrono::milliseconds)> sleep;
};

// Builds the URL path of a collection or an object ("" name = collection).
std::string ResourcePath(const ResourceType& rt, const std::string& ns, const std::string& name,
                         const std::string& subresource = "");
// Percent-encodes a query parameter value.
std::string QueryEscape(const std::string& s);
// Maps a non-2xx response (body: metav1.Status when the server sent one) to a Status.
Status StatusFromResponse(const http::Response& resp, const std::string& what);

class RestApiClient final : public ApiClient {
 public:
  RestApiClient(std::shared_ptr<http::HttpClient> http, ClusterConfig config, RestOptions options = {});

  // Convenience: an HttpClient from `config`.
  static std::unique_ptr<RestApiClient> FromConfig(const ClusterConfig& config, RestOptions options = {});

  StatusOr<Json> Get(const ResourceType& rt, const std::string& ns, const std::string& name) override;
  StatusOr<ListResult> List(const ResourceType& rt, const std::string& ns, const ListOptions& opts) override;
  StatusOr<Json> Create(const ResourceType& rt, const std::string& ns, const Json& obj) override;
  StatusOr<Json> Update(const ResourceType& rt, const Json& obj) override;
  StatusOr<Json> UpdateStatus(const ResourceType& rt, const Json& obj) override;
  StatusOr<Json> Patch(const ResourceType& rt, const std::string& ns, const std::string& name, const Json& patch,
                       PatchType type = PatchType::kMerge, bool status_subresource = false) override;
  Status Delete(const ResourceType& rt, const std::string& ns, const std::string& name,
                const DeleteOptions& opts = {}) override;
  Status Watch(const ResourceType& rt, const std::string& ns, const WatchOptions& opts,
               const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) override;

 private:
  StatusOr<http::Request> NewRequest(const std::string& method, const std::string& path, std::string body,
                                     const std::string& content_type = "application/json");
  // Sends with throttle retries; returns the 2xx body parsed as JSON, or the mapped error.
  StatusOr<Json> Do(const std::string& method, const std::string& path, std::string body = "",
                    const std::string& content_type = "application/json");

  // Waits for the client-side rate limiter (a token bucket) to let one more request through.
  void Throttle();

  std::shared_ptr<http::HttpClient> http_;
  ClusterConfig config_;
  RestOptions options_;
  std::unique_ptr<controller::BucketRateLimiter> limiter_;  // null: no limit
};

}  // namespace ferry::kube

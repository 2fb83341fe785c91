// The REST client's reading of an error response (kube::StatusFromResponse): whatever an API
// server, proxy or load balancer answers — any HTTP status, a metav1.Status body of any shape,
// HTML, a Retry-After header of any text — gives a Status, never an exception. Checked: the
// code follows the HTTP status alone (409 by the body's reason), the message names the call,
// the HTTP status is kept, a retry delay is never negative.
// Input: two bytes of HTTP status (100-599), the Retry-After header up to the first newline,
// the body after it.
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "kube/rest_client.h"

namespace {

using ferry::StatusCode;

StatusCode Expected(int s, const std::string& reason) {
  switch (s) {
    case 400:
    case 422:
      return StatusCode::kInvalid;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return reason == "AlreadyExists" ? StatusCode::kAlreadyExists : StatusCode::kConflict;
    case 410:
      return StatusCode::kGone;
    case 429:
      return StatusCode::kTooManyRequests;
    case 504:
      return StatusCode::kDeadlineExceeded;
    default:
      return s >= 500 ? StatusCode::kUnavailable : StatusCode::kUnknown;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  ferry::http::Response resp;
  resp.status = 100 + ((data[0] << 8) | data[1]) % 500;
  const std::string rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  const auto nl = rest.find('\n');
  const std::string retry_after = rest.substr(0, nl == std::string::npos ? 0 : nl);
  resp.body = nl == std::string::npos ? rest : rest.substr(nl + 1);
  if (!retry_after.empty()) resp.headers["retry-after"] = retry_after;

  const ferry::Status st = ferry::kube::StatusFromResponse(resp, "GET /api/v1/nodes/x");
  const std::string detail = "HTTP " + std::to_string(resp.status) + " -> " + st.ToString();
  FUZZ_CHECK(st.code() == Expected(resp.status, st.reason()), detail);
  FUZZ_CHECK(st.http_status() == resp.status, detail);
  FUZZ_CHECK(st.message().rfind("GET /api/v1/nodes/x: ", 0) == 0, detail);
  FUZZ_CHECK(st.message().size() > std::string("GET /api/v1/nodes/x: ").size(), detail);
  FUZZ_CHECK(!st.retry_after() || st.retry_after()->count() >= 0, detail);
  return 0;
}

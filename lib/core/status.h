// Status and StatusOr: errors as values across component boundaries
// (google-cloud-cpp's StatusOr ADR). Codes keep the HTTP meanings apart so callers can
// decide: NotFound (404), Conflict (409), Gone (410), Invalid (422/400),
// TooManyRequests (429, with Retry-After), Unavailable (5xx and transport).
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ferry {

enum class StatusCode {
  kOk = 0,
  kInvalid,             // 400/422: the request or object is malformed; retrying will not help
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kNotFound,            // 404
  kAlreadyExists,       // 409 on create (reason AlreadyExists)
  kConflict,            // 409: stale resourceVersion; re-read and retry
  kGone,                // 410: resourceVersion too old (watch/list); relist
  kTooManyRequests,     // 429: back off for retry_after
  kUnavailable,         // 5xx, timeouts, connection refused/reset: transient
  kFailedPrecondition,  // a precondition of the operation does not hold (not HTTP)
  kCancelled,           // the caller cancelled
  kDeadlineExceeded,    // a deadline passed
  kInternal,            // a bug or an impossible state
  kUnknown,
};

const char* StatusCodeName(StatusCode code);

// One cause of a failure as the API server reports it (metav1.StatusCause): for a 422, which
// field is wrong and how ("FieldValueRequired", "FieldValueInvalid",
// "FieldValueNotSupported", "FieldValueTypeInvalid", ...). Test and branch on these, not on
// the message text, which changes between Kubernetes versions.
struct StatusCause {
  std::string reason;
  std::string field;  // e.g. "spec.disks[0].type" (newer servers index lists, 1.20 does not)
  std::string message;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // HTTP status the error came from (0 when not from HTTP).
  int http_status() const { return http_status_; }
  Status& set_http_status(int s) {
    http_status_ = s;
    return *this;
  }
  // Server-requested delay before a retry (Retry-After header, 429/503).
  std::optional<std::chrono::seconds> retry_after() const { return retry_after_; }
  Status& set_retry_after(std::chrono::seconds d) {
    retry_after_ = d;
    return *this;
  }

  // Transient: worth retrying with backoff (429, 5xx, transport, conflict after re-read).
  bool IsTransient() const {
    return code_ == StatusCode::kUnavailable || code_ == StatusCode::kTooManyRequests ||
           code_ == StatusCode::kDeadlineExceeded;
  }

  // The API server's machine-readable reason (metav1.Status reason: "AlreadyExists",
  // "Conflict", "Invalid", "Expired", ...; empty when not from the API server).
  const std::string& reason() const { return reason_; }
  Status& set_reason(std::string r) {
    reason_ = std::move(r);
    return *this;
  }
  const std::vector<StatusCause>& causes() const { return causes_; }
  Status& set_causes(std::vector<StatusCause> c) {
    causes_ = std::move(c);
    return *this;
  }

  std::string ToString() const;
  // Returns a copy with `context: ` prepended to the message.
  Status WithContext(const std::string& context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  int http_status_ = 0;
  std::optional<std::chrono::seconds> retry_after_;
  std::string reason_;
  std::vector<StatusCause> causes_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidError(std::string m) { return {StatusCode::kInvalid, std::move(m)}; }
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status ConflictError(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status FailedPreconditionError(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status CancelledError(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}

std::ostream& operator<<(std::ostream& os, const Status& s);

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "StatusOr built from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ferry

// Returns early from a function returning Status or StatusOr when `expr` is an error.
#define FERRY_RETURN_IF_ERROR(expr)         \
  do {                                      \
    ::ferry::Status _ferry_st = (expr);     \
    if (!_ferry_st.ok()) return _ferry_st;  \
  } while (0)

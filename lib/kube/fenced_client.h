// FencedApiClient: an ApiClient whose writes leave only while a fence allows them (ADR 6 §4:
// no write that decides leaves a replica that cannot prove by its own monotonic clock that
// its lease is still valid). Reads and watches pass through; every Create, Update,
// UpdateStatus, Patch and Delete first asks `may_write` and, when it says no, is not sent
// and fails with kFailedPrecondition — a definite refusal: the caller knows nothing landed
// and forgets what the write assumed (see WriteMayHaveLanded).
//
// The check is made right before the request is handed to the inner client: a process
// paused past its renew deadline (SIGSTOP, a stalled VM) and continued sends nothing, even
// before the leader elector's own thread has run and noticed that the lease is gone. (A
// pause after the check and before the bytes leave cannot be fenced from the client side;
// renew_deadline < lease_duration leaves the margin for that, as in client-go.)
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "kube/api_client.h"

namespace ferry::kube {

class FencedApiClient final : public ApiClient {
 public:
  // `may_write` must be thread-safe and cheap (LeaderElector::HoldsLease); `who` names the
  // fence in the refusal ("lease ferry-system/ferry-operator").
  FencedApiClient(ApiClient& inner, std::function<bool()> may_write, std::string who);

  StatusOr<Json> Get(const ResourceType& rt, const std::string& ns,
                     const std::string& name) override;
  StatusOr<ListResult> List(const ResourceType& rt, const std::string& ns,
                            const ListOptions& opts) override;
  StatusOr<Json> Create(const ResourceType& rt, const std::string& ns, const Json& obj) override;
  StatusOr<Json> Update(const ResourceType& rt, const Json& obj) override;
  StatusOr<Json> UpdateStatus(const ResourceType& rt, const Json& obj) override;
  StatusOr<Json> Patch(const ResourceType& rt, const std::string& ns, const std::string& name,
                       const Json& patch, PatchType type = PatchType::kMerge,
                       bool status_subresource = false) override;
  Status Delete(const ResourceType& rt, const std::string& ns, const std::string& name,
                const DeleteOptions& opts = {}) override;
  Status Watch(const ResourceType& rt, const std::string& ns, const WatchOptions& opts,
               const std::function<bool(const WatchEvent&)>& on_event,
               std::stop_token stop) override;

  // Writes refused so far (for tests and a metric).
  uint64_t refused() const { return refused_.load(); }

 private:
  Status Fence(const char* verb, const ResourceType& rt, const std::string& name);

  ApiClient& inner_;
  std::function<bool()> may_write_;
  std::string who_;
  std::atomic<uint64_t> refused_{0};
};

// False only for answers that prove the write was not applied: 409 (conflict or already
// exists), 400/422 invalid, 401, 403, 404, 429 (refused before processing), a write the fence
// kept (kFailedPrecondition) or one never sent (kCancelled). Timeouts, 5xx, connection errors
// and anything unknown may have landed: the caller keeps what the write assumed until the
// informer shows the object again (ADR 6 §5).
bool WriteMayHaveLanded(const Status& st);

}  // namespace ferry::kube

// ApiClient: Ferry's Kubernetes API interface. Objects travel as nlohmann::json so that
// fields Ferry does not know are never lost on a read-modify-write; typed views live in api/.
// The implementation (RestApiClient) speaks HTTP through http::HttpClient; tests talk to a
// real kube-apiserver, never to a stub of this interface.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace ferry::kube {

using Json = nlohmann::json;

// One REST resource: /apis/{group}/{version}/[namespaces/{ns}/]{resource}.
struct ResourceType {
  std::string group;    // "" for the core API (/api/v1)
  std::string version;  // "v1", "v1alpha1"
  std::string resource; // plural, lower case: "virtualmachines"
  std::string kind;     // "VirtualMachine"
  bool namespaced = true;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
};

// Well-known resources.
namespace resources {
extern const ResourceType kVirtualMachines;
extern const ResourceType kVirtualMachineMigrations;
extern const ResourceType kServerGroups;
extern const ResourceType kMigrationPolicies;
extern const ResourceType kNodes;
extern const ResourceType kLeases;
extern const ResourceType kEvents;  // core/v1 Events
extern const ResourceType kNamespaces;
extern const ResourceType kConfigMaps;
extern const ResourceType kCustomResourceDefinitions;
}  // namespace resources

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;              // 0 = no paging
  std::string continue_token;     // from the previous page
  std::string resource_version;   // "" = most recent (quorum read)
};

struct ListResult {
  std::vector<Json> items;
  std::string resource_version;  // of the list, to start a watch from
  std::string continue_token;    // non-empty when more pages remain
};

enum class PatchType { kMerge, kJson, kStrategicMerge };

struct DeleteOptions {
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  std::string propagation_policy;  // "", "Foreground", "Background", "Orphan"
  std::optional<int64_t> grace_period_seconds;
};

struct WatchOptions {
  std::string resource_version;   // resume point; "" = start from now (with synthetic ADDED)
  std::string label_selector;
  std::string field_selector;
  bool allow_bookmarks = true;
  int timeout_seconds = 0;        // server-side timeout of one watch request; 0 = server default
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type = Type::kAdded;
  Json object;  // the object; for kError a metav1.Status
};

const char* WatchEventTypeName(WatchEvent::Type t);

class ApiClient {
 public:
  virtual ~ApiClient() = default;

  virtual StatusOr<Json> Get(const ResourceType& rt, const std::string& ns, const std::string& name) = 0;
  // One page (or everything when opts.limit == 0).
  virtual StatusOr<ListResult> List(const ResourceType& rt, const std::string& ns, const ListOptions& opts) = 0;
  virtual StatusOr<Json> Create(const ResourceType& rt, const std::string& ns, const Json& obj) = 0;
  // PUT; namespace and name from obj.metadata; 409 (kConflict) when resourceVersion is stale.
  virtual StatusOr<Json> Update(const ResourceType& rt, const Json& obj) = 0;
  // PUT to the status subresource.
  virtual StatusOr<Json> UpdateStatus(const ResourceType& rt, const Json& obj) = 0;
  virtual StatusOr<Json> Patch(const ResourceType& rt, const std::string& ns, const std::string& name,
                               const Json& patch, PatchType type = PatchType::kMerge,
                               bool status_subresource = false) = 0;
  virtual Status Delete(const ResourceType& rt, const std::string& ns, const std::string& name,
                        const DeleteOptions& opts = {}) = 0;
  // One watch request: calls on_event for each decoded event until the server closes the
  // stream (returns OK), on_event returns false (OK), `stop` is requested (kCancelled) or an
  // error occurs. An expired resourceVersion arrives as a kError event with code 410; callers
  // (Reflector) relist. Resume/backoff policy lives in the Reflector, not here.
  virtual Status Watch(const ResourceType& rt, const std::string& ns, const WatchOptions& opts,
                       const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) = 0;
};

}  // namespace ferry::kube

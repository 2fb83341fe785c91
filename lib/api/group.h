// Ferry's API group, version and resource names (DESIGN §2).
#pragma once

namespace ferry::api {

inline constexpr const char* kGroup = "ferry.dev";
inline constexpr const char* kVersion = "v1alpha1";
inline constexpr const char* kApiVersion = "ferry.dev/v1alpha1";

// Plural resource names, as used in REST paths (/apis/ferry.dev/v1alpha1/...).
inline constexpr const char* kVirtualMachines = "virtualmachines";
inline constexpr const char* kVirtualMachineMigrations = "virtualmachinemigrations";
inline constexpr const char* kServerGroups = "servergroups";
inline constexpr const char* kMigrationPolicies = "migrationpolicies";  // cluster-scoped

// The finalizer a running VirtualMachineMigration carries so that deleting it cancels the
// migration before the object goes away.
inline constexpr const char* kMigrationFinalizer = "ferry.dev/migration-cancel";

}  // namespace ferry::api

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
inline constexpr const char* kHypervisors = "hypervisors";              // cluster-scoped

// ---- The operator–handler protocol (docs/adr/0004-operator-handler-protocol.md) ----------
// Each name below has one writer; the ADR's table says which.

// The finalizer the operator puts on a VirtualMachineMigration at admission and removes once
// the phase is terminal: deleting the VMM before then cancels the migration.
inline constexpr const char* kMigrationFinalizer = "ferry.dev/migration";
// The finalizer a node's handler puts on a VirtualMachine before it defines the domain, and
// removes after the domain is destroyed and undefined on that node.
inline constexpr const char* kDomainFinalizer = "ferry.dev/domain";

// VM label: the node that owns the guest (operator; flipped to the target after a migration).
// Handlers select their VMs by it.
inline constexpr const char* kLabelNode = "ferry.dev/node";
// VMM labels: the migration's two nodes (operator, at Scheduled). Handlers select by them.
inline constexpr const char* kLabelSourceNode = "ferry.dev/source-node";
inline constexpr const char* kLabelTargetNode = "ferry.dev/target-node";
// VMM label: the VM it moves (operator, at admission), so "the VMMs of a VM" is a selector.
// A name longer than a label value may be is written hashed (`h-<sha256 prefix>`) with the
// full name in the annotation of the same key (operator, with the label; api/labels.h).
inline constexpr const char* kLabelVm = "ferry.dev/vm";

// Node annotation with the evacuation's progress (operator), and the taint that starts one.
inline constexpr const char* kAnnotationEvacuation = "ferry.dev/evacuation";
inline constexpr const char* kTaintDrain = "ferry.dev/drain";

// VMM reasons written with phase Failed by the operator.
inline constexpr const char* kReasonHandlerLost = "HandlerLost";
inline constexpr const char* kReasonTargetNotReady = "TargetNotReady";
inline constexpr const char* kReasonTimeout = "Timeout";
// ...and by the source handler: the convergence policy gave up at the completion timeout.
inline constexpr const char* kReasonConvergenceTimeout = "ConvergenceTimeout";
// VM condition (handler of the VM's node): True while the domain runs as the spec wants;
// False with libvirt's reason (ShutdownFromGuest, Crashed, Failed, DomainMissing, ...).
inline constexpr const char* kConditionDomain = "Domain";
// VMM condition (source handler): post-copy lost its connection; recovery is being retried.
inline constexpr const char* kConditionPostCopyRecovering = "PostCopyRecovering";

}  // namespace ferry::api

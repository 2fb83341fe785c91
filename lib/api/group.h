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
// VMM condition (operator; ADR 6 §2-3): True while nobody can say where the guest runs.
// Reason HandlerLost: the source handler of a Running migration has not been seen (by the
// operator's own clock) to renew its heartbeat for --running-handler-lost-timeout; the
// libvirt job may go on and succeed without it, so the migration is not failed but stays
// open, with a Warning Event, the gauge ferry_migration_guest_location_unknown and the alert
// FerryGuestLocationUnknown. The operator sets it False (reason HandlerSeen) once it observes
// that handler alive again; handlers may end the migration from what libvirt shows.
inline constexpr const char* kConditionGuestLocationUnknown = "GuestLocationUnknown";
inline constexpr const char* kReasonHandlerSeen = "HandlerSeen";

// ---- One copy of every guest (docs/adr/0006-one-copy-of-every-guest.md) -------------------
// (kConditionGuestLocationUnknown, the operator's, is above.)
// VMM condition (source handler): True while the source's job ended without success and left
// the source domain paused; the source waits for the target's TargetDomain before it resumes
// (Failed) or destroys (Succeeded) its copy. False (reason Resolved) once it did.
inline constexpr const char* kConditionSourcePaused = "SourcePaused";
inline constexpr const char* kReasonSourcePausedWaiting = "WaitingForTarget";
inline constexpr const char* kReasonSourcePausedResolved = "Resolved";
// VMM condition (target handler only): the domain on the target node that carries this VMM's
// uid in Ferry's <metadata> mark. Written whenever the VMM is Failed/Cancelled or has
// SourcePaused or GuestLocationUnknown True. Status False: reason Absent (none there) or
// Removed (it never ran and the target removed it); status True: reason Incoming (paused,
// waiting for memory) or Running (the guest runs there).
inline constexpr const char* kConditionTargetDomain = "TargetDomain";
inline constexpr const char* kReasonTargetDomainAbsent = "Absent";
inline constexpr const char* kReasonTargetDomainRemoved = "Removed";
inline constexpr const char* kReasonTargetDomainIncoming = "Incoming";
inline constexpr const char* kReasonTargetDomainRunning = "Running";
// VMM reason of Succeeded written by the target handler (its only phase write after
// TargetReady): under GuestLocationUnknown its domain with this VMM's uid runs and post-copy
// never started.
inline constexpr const char* kReasonTargetRunsGuest = "TargetRunsGuest";

}  // namespace ferry::api

// The VM lifecycle decision: what the node agent does next for one VirtualMachine on its
// node, and which status it reports. Pure: the VM, this node's domain of it and the state of
// its migrations in; one action and the handler-owned status fields out. The controller
// (vm_controller.h) performs the action, writes the status when it differs, and reconciles
// again on the next libvirt event or informer event (one step per pass).
//
// The rules (docs/handler.md has the table):
//  * Being deleted: destroy the domain, undefine it, then remove the finalizer.
//  * The finalizer ferry.dev/domain is added before anything is defined.
//  * While this node is the source of one of the VM's migrations (TargetReady or Running),
//    the domain is the migration's: phase Migrating, no action. A domain that vanished
//    because a migration took it (Succeeded) or while the operator still records an
//    active migration is never reported as stopped or failed, and never defined again.
//  * No domain: define one when the VM never had one (no domainUUID) or the spec changed
//    since the handler last acted on it (the Domain condition's observedGeneration);
//    otherwise the domain vanished: Failed, DomainMissing (two copies are worse).
//  * A shut-off domain is started when the spec says running and the VM is starting
//    (phase unset, Pending, Scheduled, Starting), has just arrived by migration (Migrating)
//    or the spec changed since; a guest that stopped or crashed by itself stays down and
//    shows Stopped / Failed with libvirt's reason. A changed spec redefines a shut-off
//    domain before it starts.
//  * running: false: ACPI shutdown, destroy after the grace period.
//  * A paused, never-run copy that arrived by an offline migration is destroyed and started.
//  * No second start (ADR 6 §2): while the VM has an activeMigration or an open migration of
//    it has an unknown outcome (GuestLocationUnknown or SourcePaused True), nothing is defined,
//    redefined, started or restarted; a missing domain shows DomainMissing until a person
//    acts, a shut-off one the Domain condition WaitingForMigration.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "api/group.h"
#include "api/vm.h"
#include "core/status.h"
#include "domain/node_hypervisor.h"

namespace ferry::agent {

using api::kConditionDomain;

struct VmContext {
  std::string node;
  // This node's domain of the VM's name; nullopt when there is none.
  std::optional<domain::DomainInfo> domain;
  // A migration of the VM with this node as source is TargetReady or Running.
  bool migrating_out = false;
  // A migration of the VM away from this node Succeeded (its domain left).
  bool migrated_away = false;
  // The VM arrived here by an offline migration that Succeeded.
  bool arrived_offline = false;
  // An open migration of the VM has GuestLocationUnknown or SourcePaused True: the guest may
  // run on another node (ADR 6 §2). Nothing is defined or started while it is.
  bool outcome_unknown = false;
  std::string migration;  // the migration meant above, for messages
  // How long ago this agent first asked the guest to shut down; nullopt = not asked.
  std::optional<std::chrono::seconds> shutdown_requested_for;
  std::chrono::seconds shutdown_grace{60};
  std::string libvirt_version;
  std::string qemu_version;
  // The hash of the definition this node would build for the VM now, or why it cannot.
  StatusOr<std::string> spec_hash = std::string();
};

enum class VmAction {
  kNone,
  kAddFinalizer,
  kDefine,  // define or redefine (the domain is shut off or absent)
  kStart,
  kShutdown,
  kDestroy,
  kUndefine,
  kRemoveFinalizer,
};
const char* VmActionName(VmAction a);

struct VmDecision {
  VmAction action = VmAction::kNone;
  // Handler-owned status fields wanted now; written only when `report` and they differ.
  bool report = false;
  api::VmPhase phase = api::VmPhase::kUnset;
  std::string domain_uuid;
  std::optional<api::BootRecord> first_boot;
  std::optional<api::Condition> condition;  // kConditionDomain
  std::string why;                          // for the log and Events
  std::optional<std::chrono::seconds> requeue_after;
};

VmDecision DecideVm(const api::VirtualMachine& vm, const VmContext& ctx);

// Applies the decision's status fields to `status` (in place); true when anything changed.
bool ApplyVmStatus(const VmDecision& d, int64_t generation, api::WallTime now,
                   api::VirtualMachineStatus* status);

}  // namespace ferry::agent

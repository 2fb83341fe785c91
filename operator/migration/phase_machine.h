// The migration phase machine: one pure function from what the operator observes of a
// VirtualMachineMigration (the VMM, its VM, the rest of the cluster through MigrationWorld,
// the time) to the status it should have and the actions that go with it. The controller
// (migration_controller.h) reads the caches, calls DecidePhase, and writes the difference.
//
//   Pending/"" ──admission──▶ Scheduling ──slot + placement──▶ Scheduled
//        │                        │                                │ target handler
//        ▼                        ▼                                ▼
//      Failed (VM gone / not running / target rejected)   PreparingTarget → TargetReady
//                                                                  │ source handler
//                                                                  ▼
//                                               Running → Succeeded | Failed | Cancelled
//
// The operator writes the phases up to Scheduled, Cancelled for a VMM deleted before
// TargetReady, and Failed for the deadlines and lost handlers of docs/adr/0004 before the
// migration runs; the handlers write the rest. A Running migration is never failed for a
// lost handler (ADR 6 §3): the condition GuestLocationUnknown says so and it waits. Every
// transition the operator writes stamps phaseTransitionTime; deadlines run from when the
// operator observed the phase (MigrationInput::phase_age).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/migration.h"
#include "api/vm.h"
#include "options.h"

namespace ferry::op::migration {

// Reasons the operator writes besides lib/api/group.h's HandlerLost, TargetNotReady, Timeout.
inline constexpr const char* kReasonVmNotFound = "VMNotFound";  // Failed
inline constexpr const char* kReasonVmNotRunning =
    "VMNotRunning";  // Pending (admission waits)
                     // or Failed (stopped while waiting)
inline constexpr const char* kReasonTargetRejected =
    "TargetRejected";                                     // Failed: requested node refused
inline constexpr const char* kReasonDeleted = "Deleted";  // Cancelled
inline constexpr const char* kReasonActiveMigration = "WaitingForActiveMigration";  // Pending
inline constexpr const char* kReasonWaitingForSlot = "WaitingForSlot";              // Scheduling
inline constexpr const char* kReasonUnschedulable = "Unschedulable";                // Scheduling
// Condition: the spec was edited after admission; the migration runs as admitted.
inline constexpr const char* kConditionSpecChangeIgnored = "SpecChangeIgnored";

// The scheduler's answer for a VMM in Scheduling (limits, then placement).
struct SchedulingOutcome {
  enum class Kind {
    kWait,            // a limit is reached: stays Scheduling, message says which
    kScheduled,       // a target was chosen (or the requested one passed)
    kUnschedulable,   // no node fits now: stays Scheduling, retried when the cluster changes
    kTargetRejected,  // the requested node fails a filter: Failed
  };
  Kind kind = Kind::kWait;
  std::string target;
  std::optional<api::PlacementExplanation> placement;
  std::string message;
};

// What the phase machine reads about the cluster besides the VMM and its VM.
class MigrationWorld {
 public:
  virtual ~MigrationWorld() = default;
  // The node's handler is ready and its heartbeat fresh.
  virtual bool HandlerAlive(const std::string& node) const = 0;
  // The node's last heartbeat as its handler wrote it (its own clock), if any: for messages
  // only, never compared with the operator's clock.
  virtual std::optional<api::WallTime> LastHeartbeat(const std::string& node) const = 0;
  // How long the operator has watched the node's heartbeat not change, by its own monotonic
  // clock (restarted after the operator's start or a pause of its own); nullopt when it has
  // never read one.
  virtual std::optional<std::chrono::nanoseconds> HandlerSilence(const std::string& node) const = 0;
  // Why `node` can no longer receive a migration (gone, NotReady, cordoned, tainted), or "".
  virtual std::string TargetProblem(const std::string& node) const = 0;
  // An admitted VMM of VM `vm_key` other than `vmm_key` that is unfinished, or finished with
  // its outcome not yet recorded on the VM (it still holds its finalizer), or "". VMMs of an
  // earlier VM of that name (another uid) do not count.
  virtual std::string ActiveMigrationOf(const std::string& vm_key,
                                        const std::string& vmm_key) const = 0;
  // spec + MigrationPolicy + defaults.
  virtual api::EffectiveMigrationOptions EffectiveOptions(const api::VirtualMachineMigration& vmm,
                                                          const api::VirtualMachine& vm) const = 0;
  // Limits and placement for an admitted VMM in Scheduling.
  virtual SchedulingOutcome Schedule(const api::VirtualMachineMigration& vmm,
                                     const api::VirtualMachine& vm) const = 0;
};

struct MigrationInput {
  const api::VirtualMachineMigration& vmm;
  const api::VirtualMachine* vm;  // nullptr: not in the cache (gone)
  const MigrationWorld& world;
  api::WallTime now;  // stamps written into status (phaseTransitionTime, conditions)
  const Deadlines& deadlines;
  // How long the operator has observed this VMM (by uid) in its current phase, on its own
  // monotonic clock, restarted after its start or a pause (ClusterState::ObservedPhaseAge).
  // Phase deadlines run from here, never from the handler-written phaseTransitionTime: a
  // handler whose clock is minutes behind must not fail a phase at once.
  std::chrono::nanoseconds phase_age{0};
};

struct EventNote {
  bool warning = false;
  std::string reason;
  std::string message;
  friend bool operator==(const EventNote&, const EventNote&) = default;
};

struct PhaseDecision {
  api::VirtualMachineMigrationStatus status;  // what status should be
  bool add_finalizer = false;
  bool remove_finalizer = false;
  // Operator-owned labels to set, full values (a value longer than a label may be is written
  // hashed, with the full value in the annotation of the same key: api/labels.h).
  std::map<std::string, std::string> labels;
  std::vector<EventNote> events;              // to record once the writes succeed
  // Reconcile again after this long (the next deadline), if set.
  std::optional<std::chrono::nanoseconds> requeue_after;
  bool admitted = false;   // this decision admits the VMM (claims its VM)
  bool scheduled = false;  // this decision schedules it (takes a slot and a reservation)
};

PhaseDecision DecidePhase(const MigrationInput& in);

// True when this decision gives up a turn other waiting VMMs may have queued behind: it was
// granted a slot but placement refused it for the first time (a refused VMM ranks last from
// now on, and those that waited behind it must look again at once rather than at the next
// resync). A VMM that fails or is cancelled frees its turn through its terminal phase.
bool GivesUpTurn(const api::VirtualMachineMigrationStatus& before, const PhaseDecision& d);

// The VM a VMM moves: its ferry.dev/vm label (the full name behind a hashed one) once
// admitted, else spec.vmName.
std::string VmNameOf(const api::VirtualMachineMigration& vmm);
// The VM's history holds this VMM's outcome by uid (or the VM is gone, or the VM of that name
// now is another one, which never records it): the finalizer may go.
bool OutcomeRecorded(const api::VirtualMachineMigration& vmm, const api::VirtualMachine* vm);
// Post-copy has switched (or is recovering): the operator never fails such a migration.
bool PostCopyStarted(const api::VirtualMachineMigrationStatus& status);

}  // namespace ferry::op::migration

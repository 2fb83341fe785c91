// The ground truth of the simulation: what every node's libvirtd runs. Domains carry what
// Ferry's real domains carry (the VM's uid as UUID, and in Ferry's metadata the VM and, while
// a migration runs, the VMM's uid — docs/adr/0006 §1); a migration job moves a guest from one
// node to another the way libvirt's peer-to-peer pre-copy does: an incoming paused domain on
// the target first, then (at the switch) the target runs and the source domain goes away.
// A job that breaks after the switch has begun leaves the source paused, as real libvirt
// does when it cannot tell whether the target took over.
//
// The invariant checks read this, never the API: "at most one live copy of each VM uid".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace ferry::sim {

enum class DomainState {
  kRunning,   // the guest runs here
  kPaused,    // stopped mid-migration on the source: a resume would run it here again
  kIncoming,  // the target side of a job: paused, waiting for memory; only the job runs it
  kShutoff,   // defined, not running
};
const char* DomainStateName(DomainState s);

struct Domain {
  std::string name;     // "<namespace>_<vm name>"
  std::string vm_uid;   // UUID of the domain = the VM's uid
  std::string vmm_uid;  // the migration that brought or is moving it ("" for none)
  DomainState state = DomainState::kShutoff;
};

struct Job {
  std::string vmm_uid;
  std::string vm_uid;
  std::string source;
  std::string target;
  Clock::TimePoint started;
  Clock::Duration length;  // until the switch, if nothing breaks
  bool cancelled = false;
  // How the job ends: decided by the simulation when it starts (from the seed).
  enum class End { kSucceeds, kFailsBeforeSwitch, kBreaksAtSwitch } end = End::kSucceeds;
  // For kBreaksAtSwitch: whether the target had already taken over (runs the guest).
  bool target_took_over = false;
};

// What the source's libvirt reports once a job is over.
enum class JobResult { kNone, kActive, kCompleted, kFailed, kCancelled, kUnclear };

class FakeLibvirt {
 public:
  void AddNode(const std::string& node);
  // libvirtd down: every call on that node fails; the guests keep running (QEMU does).
  void SetUp(const std::string& node, bool up);
  bool Up(const std::string& node) const;

  // ---- what a handler may do on its own node (false: libvirtd down or not possible) ----
  std::optional<Domain> Lookup(const std::string& node, const std::string& name) const;
  std::vector<Domain> List(const std::string& node) const;
  bool DefineAndStart(const std::string& node, const Domain& d);
  bool Destroy(const std::string& node, const std::string& name);  // and undefine
  bool Shutdown(const std::string& node, const std::string& name);
  bool Resume(const std::string& node, const std::string& name);
  // Starts a job from `source` (its domain `name`, which must be running) to `target`: the
  // incoming domain appears on the target at once, carrying vmm_uid.
  bool StartJob(const std::string& source, const std::string& name, Job job);
  bool CancelJob(const std::string& source, const std::string& vmm_uid);
  // The job of vmm_uid as the source sees it (kNone: never started here, or forgotten).
  JobResult JobState(const std::string& source, const std::string& vmm_uid) const;

  // Moves every job whose time has come to its end (called by the simulation as time moves).
  void Progress(Clock::TimePoint now);

  const std::map<std::string, std::map<std::string, Domain>>& nodes() const { return domains_; }
  // Starts and resumes made while another copy of the same VM uid was running or paused on
  // another node (docs/adr/0006 §2: nobody starts or resumes a guest while another copy may
  // run). Each is a sentence; the invariant checks report the first.
  const std::vector<std::string>& hazards() const { return hazards_; }
  // Moves on every change of a domain or a job (so checks can skip unchanged states).
  uint64_t generation() const { return generation_; }

 private:
  // Records a hazard when a copy of `vm_uid` other than (node, name) is live.
  void CheckFenced(const std::string& node, const std::string& vm_uid, const char* what);
  struct Finished {
    JobResult result;
  };
  std::map<std::string, bool> up_;
  std::map<std::string, std::map<std::string, Domain>> domains_;  // node -> name -> domain
  std::map<std::string, std::pair<std::string, Job>> jobs_;       // vmm uid -> (name, job)
  std::map<std::pair<std::string, std::string>, JobResult> finished_;  // (source, vmm uid)
  std::vector<std::string> hazards_;
  uint64_t generation_ = 0;
};

}  // namespace ferry::sim

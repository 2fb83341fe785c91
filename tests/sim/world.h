// The simulated cluster: one in-memory API server, a FakeLibvirt per node, two operator
// replicas and a handler per node, all on one thread and one seeded random generator. Each
// step draws one thing to happen — a watch delivers its next event, a controller reconciles
// a key, an elector tries its lease, time moves on, a process crashes, pauses or is cut off,
// a libvirtd restarts, a user creates, edits or deletes something — and then every invariant
// of docs/adr/0006 is checked (invariants.h). The same seed gives the same run, step for step;
// a failure prints the seed and the trace that led to it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "fake_libvirt.h"
#include "options.h"
#include "sim_agent.h"
#include "sim_api_server.h"
#include "sim_clock.h"
#include "sim_operator.h"

namespace ferry::sim {

struct WorldOptions {
  uint64_t seed = 1;
  std::vector<std::string> nodes = {"node-a", "node-b", "node-c"};
  int operators = 2;
  // Random faults and user actions (off for scripted scenarios, which act themselves).
  bool chaos = true;
  // A handler's wall clock may be off by up to this much (drawn per node; 0: none).
  Clock::Duration max_skew = std::chrono::minutes(10);
  // Probability that a write's response is lost (committed, caller hears an error), and
  // that a call fails outright, per call of any process.
  double lose_response = 0.02;
  double fail_call = 0.01;
  // Every trace line is kept (else the last kTraceTail).
  bool full_trace = false;
  op::OperatorOptions operator_options = DefaultOperatorOptions();
  static op::OperatorOptions DefaultOperatorOptions();
};

struct Violation {
  std::string rule;     // "one-copy", "failed-but-running", "lease", ...
  std::string message;
};

class World {
 public:
  explicit World(WorldOptions options);
  ~World();

  // ---- running ----
  // One step; returns false once an invariant is violated (violation() says which).
  bool Step();
  // Steps until `done` holds (checked after every step), the simulated time passes `limit`,
  // or an invariant fails. True when `done` held.
  bool RunUntil(const std::function<bool()>& done, Clock::Duration limit);
  // Ends every fault, stops user actions, and runs `settle` of simulated time; then checks
  // the at-rest rules (every guest where its VM says, nothing stuck). False on a violation.
  bool Settle(Clock::Duration settle = std::chrono::minutes(20));
  const std::optional<Violation>& violation() const { return violation_; }
  uint64_t steps() const { return steps_; }
  Clock::Duration elapsed() const { return time_.Elapsed(); }
  // The last trace lines (or all with full_trace), one per step or fault.
  std::vector<std::string> Trace() const;
  // One line per VM, VMM and domain as they are now (printed with a failure).
  std::vector<std::string> DumpState() const;

  // ---- what users do (scenarios script these; chaos draws them) ----
  void CreateVm(const std::string& name, bool running = true, const std::string& group = "",
                const std::string& eviction = "LiveMigrate");
  void DeleteVm(const std::string& name, const std::string& propagation = "");
  void CreateVmm(const std::string& name, const std::string& vm, const std::string& target = "");
  void DeleteVmm(const std::string& name);
  void Cordon(const std::string& node, bool cordoned);
  void SetRunning(const std::string& vm, bool running);

  // ---- faults (scenarios script these; chaos draws them) ----
  void CrashOperator(int i, Clock::Duration down);
  void PauseOperator(int i, Clock::Duration paused);
  void CrashAgent(const std::string& node, Clock::Duration down);
  void PartitionAgent(const std::string& node, Clock::Duration cut);
  void LibvirtdDown(const std::string& node, Clock::Duration down);
  void SetSkew(const std::string& node, Clock::Duration skew);

  // ---- reading the world ----
  std::optional<Json> Get(const kube::ResourceType& rt, const std::string& name) const;
  std::optional<Json> Vm(const std::string& name) const;
  std::optional<Json> Vmm(const std::string& name) const;
  std::string VmmPhase(const std::string& name) const;
  // Where the VM's guest runs now (by its uid), or "".
  std::string GuestNode(const std::string& vm) const;
  const FakeLibvirt& libvirt() const { return libvirt_; }
  SimApiServer& server() { return server_; }
  int LeadingOperator() const;

 private:
  struct Proc {
    SimProcess* p = nullptr;
    SimOperator* op = nullptr;  // set for operator replicas
    Clock::TimePoint paused_until{};
    Clock::TimePoint partitioned_until{};
    Clock::TimePoint down_until{};
    bool down = false;
  };
  struct Action {
    double weight;
    std::function<void()> run;
  };

  void Setup();
  void Note(const std::string& line);
  // Notes what the last step changed of VMs and VMMs (phase, node), from the change log.
  void NoteChanges();
  bool Active(const Proc& pr) const;
  void Advance(Clock::Duration d);
  void Chaos(std::vector<Action>& actions);
  FaultPolicy FaultsFor(size_t proc_index);
  void Check();
  void CheckAtRest();
  void Fail(const std::string& rule, const std::string& message);
  Job DrawJob(Job job);
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng_)];
  }
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  Clock::Duration Between(Clock::Duration lo, Clock::Duration hi);

  WorldOptions options_;
  std::mt19937_64 rng_;
  SimTime time_;
  ProcessClock user_clock_;
  SimApiServer server_;
  SimClient user_;
  FakeLibvirt libvirt_;
  std::vector<std::unique_ptr<SimOperator>> operators_;
  std::map<std::string, std::unique_ptr<SimAgent>> agents_;
  std::vector<Proc> procs_;
  std::map<std::string, Clock::TimePoint> libvirtd_down_until_;
  bool chaos_ = true;
  bool settling_ = false;
  uint64_t steps_ = 0;
  int64_t noted_rv_ = 0;
  // The state last checked (the rules are not checked again while neither moved).
  int64_t checked_rv_ = -1;
  uint64_t checked_libvirt_ = 0;
  std::optional<Violation> violation_;
  std::deque<std::string> trace_;
};

}  // namespace ferry::sim

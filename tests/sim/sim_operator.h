// One ferry-operator replica in the simulation: the real Operator (every controller, the
// cluster state, the phase machine) on a SimProcess, and the real LeaderElector driven one
// attempt at a time. A replica works only while it leads; when it cannot renew within the
// renew deadline it stops, and — as the real process exits after losing the lease — it is
// rebuilt as a standby. A paused replica (SIGSTOP) keeps its caches and queues and acts on
// them when continued, exactly the hazard docs/adr/0006 §4 is about.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>

#include "kube/leader_election.h"
#include "operator.h"
#include "options.h"
#include "sim_process.h"

namespace ferry::sim {

class SimOperator final : public SimProcess {
 public:
  SimOperator(std::string name, SimApiServer& server, const SimTime& time,
              op::OperatorOptions options);
  ~SimOperator() override;

  // The elector's next attempt is due (retry period since the last one).
  bool ElectionDue() const;
  // One attempt to acquire or renew; builds the operator on acquiring, crashes the replica
  // when leadership is lost (renew deadline passed without a renewal).
  void ElectionStep();
  bool Leading() const { return leading_; }
  // The elector's next attempt comes no earlier than `t` (after a pause, the elector may be
  // mid-sleep or mid-request while the controllers already act on their queues).
  void DelayElectionUntil(Clock::TimePoint t) { next_attempt_ = std::max(next_attempt_, t); }
  bool Working() const override;
  void Crash() override;
  // When the last successful acquire/renew attempt started (what others measure from).
  Clock::TimePoint last_renew() const { return last_renew_; }
  const kube::LeaderElectionConfig& election() const { return election_; }

 protected:
  void Build(manager::Manager& mgr) override;
  void Teardown() override;

 private:
  op::OperatorOptions options_;
  kube::LeaderElectionConfig election_;
  std::unique_ptr<kube::LeaderElector> elector_;
  std::unique_ptr<op::Operator> operator_;
  bool leading_ = false;
  Clock::TimePoint next_attempt_{};
  Clock::TimePoint last_renew_{};
};

}  // namespace ferry::sim

#include "sim_operator.h"

namespace ferry::sim {

SimOperator::SimOperator(std::string name, SimApiServer& server, const SimTime& time,
                         op::OperatorOptions options)
    : SimProcess(std::move(name), server, time), options_(std::move(options)) {
  election_.lease_namespace = "ferry-system";
  election_.lease_name = "ferry-operator";
  election_.identity = this->name();
}

SimOperator::~SimOperator() { Crash(); }

bool SimOperator::ElectionDue() const { return clock().Now() >= next_attempt_; }

void SimOperator::ElectionStep() {
  if (!elector_) elector_ = std::make_unique<kube::LeaderElector>(api(), election_, clock());
  const Clock::TimePoint started = clock().Now();
  next_attempt_ = started + election_.retry_period;
  if (leading_ && started - last_renew_ >= election_.renew_deadline) {
    // The real elector bounds every renewal by the renew deadline of the last success: a
    // replica that was paused past it stops leading at its first look at the clock.
    Crash();
    return;
  }
  const bool ok = elector_->TryAcquireOrRenew();
  if (ok) {
    last_renew_ = started;
    if (!leading_) {
      leading_ = true;
      Start();  // work starts once leading (the caches list first)
    }
    return;
  }
  if (leading_ && started - last_renew_ >= election_.renew_deadline) {
    // Leadership lost: the real process stops its work and exits; it comes back as a standby.
    Crash();
  }
}

void SimOperator::Crash() {
  SimProcess::Crash();
  elector_.reset();
  leading_ = false;
}

bool SimOperator::Working() const { return leading_ && SimProcess::Working(); }

void SimOperator::Build(manager::Manager& mgr) {
  operator_ = std::make_unique<op::Operator>(api(), options_, clock(), &events());
  // What kube::LeaderElector::HoldsLease says while its Run loop leads: the last successful
  // renewal started less than the renew deadline ago (here the elector is stepped instead).
  operator_->SetLeaseCheck(
      [this] { return leading_ && clock().Now() < last_renew_ + election_.renew_deadline; });
  Status st = operator_->Register(mgr);
  if (!st.ok()) throw std::runtime_error("operator: " + st.ToString());
}

void SimOperator::Teardown() { operator_.reset(); }

}  // namespace ferry::sim

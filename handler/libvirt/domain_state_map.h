// libvirt's domain states, state reasons and lifecycle events mapped to Ferry's enums
// (domain/domain_state.h). Pure functions of libvirt's numbers.
#pragma once

#include "domain/domain_state.h"

namespace ferry::libvirt {

struct MappedState {
  domain::DomainState state = domain::DomainState::kUnknown;
  domain::DomainReason reason = domain::DomainReason::kUnknown;
};

// virDomainGetState's (state, reason).
MappedState MapDomainState(int state, int reason);

struct MappedEvent {
  domain::DomainEventType type = domain::DomainEventType::kUnknown;
  domain::DomainReason detail = domain::DomainReason::kUnknown;
};

// A VIR_DOMAIN_EVENT_ID_LIFECYCLE callback's (event, detail).
MappedEvent MapLifecycleEvent(int event, int detail);

}  // namespace ferry::libvirt

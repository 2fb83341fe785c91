// A libvirt domain-event callback that survives reconnects and its owner (internal to
// ferry_libvirt).
#pragma once

#include <libvirt/libvirt.h>

#include <memory>
#include <mutex>

#include "libvirt/libvirt_handles.h"

namespace ferry::libvirt {

// One domain-event callback (VIR_DOMAIN_EVENT_ID_*), registered again on every connection the
// owner's LibvirtConnection opens (call RegisterOn from its on-open hook). The callback's opaque
// pointer reaches only the Sink, and libvirt holds its own reference to it (released by the
// freecb once the callback is deregistered and no longer running): libvirt's event thread may
// still be inside the callback while the owner is destroyed, and then touches only the sink.
// In the callback: `Sink& sink = DomainEventRegistration<Sink>::From(opaque);`.
template <typename Sink>
class DomainEventRegistration {
 public:
  DomainEventRegistration(int event_id, virConnectDomainEventGenericCallback callback)
      : event_id_(event_id), callback_(callback) {}
  DomainEventRegistration(const DomainEventRegistration&) = delete;
  DomainEventRegistration& operator=(const DomainEventRegistration&) = delete;
  ~DomainEventRegistration() { Deregister(); }

  Sink& sink() const { return *sink_; }
  static Sink& From(void* opaque) { return **static_cast<std::shared_ptr<Sink>*>(opaque); }

  // Registers on `c` (keeping a reference to it), after deregistering from the previous
  // connection, which a caller may still hold and which could otherwise still deliver events.
  void RegisterOn(virConnectPtr c) {
    std::lock_guard<std::mutex> l(mu_);
    DeregisterLocked();
    virConnectRef(c);
    conn_.reset(c);
    id_ = virConnectDomainEventRegisterAny(
        c, nullptr, event_id_, callback_, new std::shared_ptr<Sink>(sink_),
        [](void* opaque) { delete static_cast<std::shared_ptr<Sink>*>(opaque); });
  }

  void Deregister() {
    std::lock_guard<std::mutex> l(mu_);
    DeregisterLocked();
  }

 private:
  void DeregisterLocked() {
    if (conn_ && id_ >= 0) virConnectDomainEventDeregisterAny(conn_.get(), id_);
    id_ = -1;
    conn_.reset();
  }

  const int event_id_;
  const virConnectDomainEventGenericCallback callback_;
  const std::shared_ptr<Sink> sink_ = std::make_shared<Sink>();
  std::mutex mu_;    // conn_, id_
  ConnectPtr conn_;  // our own reference to the connection the callback is on
  int id_ = -1;
};

}  // namespace ferry::libvirt

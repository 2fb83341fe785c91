#include "informer_driver.h"

#include <algorithm>

namespace ferry::sim {
namespace {

int64_t ToRv(const std::string& rv) {
  if (rv.empty()) return 0;
  return std::stoll(rv);
}

}  // namespace

bool InformerDriver::Pending() const {
  if (!listed_) return true;
  if (idle_at_ == server_.current_rv()) return false;
  auto ev = server_.WatchEventsSince(informer_.resource(), informer_.options().ns,
                                     informer_.options().label_selector, position_, 1);
  if (!ev.ok()) return true;  // 410: a relist is due
  if (ev->empty()) {
    // Nothing for this watch up to now: as a bookmark would, move the resume point on.
    idle_at_ = server_.current_rv();
    position_ = std::max(position_, idle_at_);
  }
  return !ev->empty();
}

void InformerDriver::Step() {
  if (listed_) {
    auto ev = server_.WatchEventsSince(informer_.resource(), informer_.options().ns,
                                       informer_.options().label_selector, position_, 1);
    if (!ev.ok()) {
      listed_ = false;  // 410 Gone: relist, as the reflector does
    } else {
      if (ev->empty()) {
        // Nothing for this watch up to now: as a bookmark would, move the resume point on.
        position_ = std::max(position_, server_.current_rv());
        return;
      }
      const kube::WatchEvent& e = ev->front();
      informer_.Deliver(e);
      position_ = ToRv(e.object["metadata"].value("resourceVersion", "0"));
      return;
    }
  }
  if (informer_.ListOnce().ok()) {
    ++lists_;
    listed_ = true;
    position_ = ToRv(informer_.LastResourceVersion());
  }
}

}  // namespace ferry::sim

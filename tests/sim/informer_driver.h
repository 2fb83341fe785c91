// Drives one real kube::Informer without its thread: the simulation decides when the informer
// lists and when its watch delivers the next event, so watches of different resources and
// processes interleave in any order the seed draws (a watch may lag behind another by as
// long as the simulation likes, as real ones do under load).
#pragma once

#include <cstdint>
#include <string>

#include "kube/informer.h"
#include "sim_api_server.h"

namespace ferry::sim {

class InformerDriver {
 public:
  InformerDriver(kube::Informer& informer, SimApiServer& server)
      : informer_(informer), server_(server) {}

  // True when a step would do something: a list is due, or an event waits.
  bool Pending() const;
  // Lists (first time, or after 410 Gone) or delivers the next event. A failed list (a fault
  // of the process's connection) leaves the list due.
  void Step();
  bool Synced() const { return listed_; }
  const std::string& resource() const { return informer_.resource().resource; }
  uint64_t lists() const { return lists_; }

 private:
  kube::Informer& informer_;
  SimApiServer& server_;
  bool listed_ = false;
  mutable int64_t position_ = 0;
  // The server's resourceVersion when Pending last found nothing (nothing to do until it moves).
  mutable int64_t idle_at_ = -1;
  uint64_t lists_ = 0;
};

}  // namespace ferry::sim

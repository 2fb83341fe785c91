// The rules of docs/adr/0006 as checks on the simulation's state: what the API server holds
// and what every node's libvirt runs (the ground truth). Each returns the violations it
// finds, as sentences naming the objects; an empty list means the rule holds.
//
// Always (after every step):
//   one-copy            at most one running copy of each VM uid across all nodes, and no
//                       start or resume of a copy while another is running or paused (a
//                       paused source beside a running target is what libvirt leaves when a
//                       switch breaks: fenced, it may only be resumed or removed on the
//                       target's word)
//   failed-but-running  no Failed/Cancelled migration whose target runs a domain carrying
//                       that migration's uid (the guest moved, the record says it did not)
//   limits              migrations in flight (Scheduled..Running) within the cluster,
//                       outbound and inbound limits
// At rest (after Settle: faults healed, no user actions, time passed):
//   placed              no paused copy is left; every VM that should run has exactly one
//                       running copy, on the node
//                       its label names, unless a migration of it waits visibly for a person
//                       (GuestLocationUnknown or SourcePaused)
//   anti-affinity       strict anti-affinity groups within maxPerNode per node
//   settled             no object left being deleted, no migration left unfinished (unless
//                       waiting visibly for a person)
#pragma once

#include <string>
#include <vector>

#include "fake_libvirt.h"
#include "options.h"
#include "sim_api_server.h"

namespace ferry::sim {

struct Finding {
  std::string rule;
  std::string message;
};

std::vector<Finding> CheckAlways(const SimApiServer& server, const FakeLibvirt& libvirt,
                                 const op::MigrationLimits& limits);
std::vector<Finding> CheckAtRest(const SimApiServer& server, const FakeLibvirt& libvirt);

}  // namespace ferry::sim

#include "placement/reasons.h"

#include <array>

namespace ferry::placement {
namespace {

struct ReasonNames {
  const char* name;   // stable, CamelCase
  const char* label;  // starts a human sentence
};

// Indexed by Reason; the static_assert below keeps it in step with the enum.
constexpr std::array<ReasonNames, kReasonCount> kNames = {{
    {"None", "none"},
    {"Excluded", "excluded"},
    {"CurrentNode", "current node"},
    {"NodeNotReady", "not ready"},
    {"HypervisorNotReady", "hypervisor not ready"},
    {"Cordoned", "cordoned"},
    {"Taint", "taint"},
    {"NodeSelector", "node selector"},
    {"CpuModel", "cpu model"},
    {"Version", "version"},
    {"Cpu", "cpu"},
    {"Memory", "memory"},
    {"DedicatedCpus", "dedicated cpus"},
    {"Hugepages", "hugepages"},
    {"Numa", "numa"},
    {"Affinity", "affinity"},
    {"AntiAffinity", "anti-affinity"},
    {"VmNotFound", "vm not found"},
    {"NodeNotFound", "node not found"},
    {"GroupNotFound", "group not found"},
    {"NoNodes", "no nodes"},
    {"AlreadyMigrating", "already migrating"},
    {"MayNotMoveAlone", "strict affinity"},
    {"GroupMoveRefused", "group move refused"},
    {"NoRunningMember", "no running member"},
    {"EvictionStrategyNone", "evictionStrategy None"},
    {"InboundMigration", "inbound migration"},
}};
static_assert(static_cast<int>(Reason::kInboundMigration) == kReasonCount - 1);

}  // namespace

const char* ReasonName(Reason r) {
  const auto i = static_cast<size_t>(r);
  return i < kNames.size() ? kNames[i].name : "Unknown";
}

const char* ReasonLabel(Reason r) {
  const auto i = static_cast<size_t>(r);
  return i < kNames.size() ? kNames[i].label : "unknown";
}

std::optional<Reason> ParseReason(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (name == kNames[i].name) return static_cast<Reason>(i);
  }
  return std::nullopt;
}

}  // namespace ferry::placement

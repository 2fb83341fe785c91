#include "placement/reasons.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace ferry::placement {
namespace {

// The names are an interface (metrics labels, condition reasons, `kubectl ferry explain`,
// docs/placement.md): this table fails when one changes or a code is added without a name.
TEST(ReasonsTest, EveryCodeHasItsStableName) {
  const std::pair<Reason, const char*> kNames[] = {
      {Reason::kNone, "None"},
      {Reason::kExcluded, "Excluded"},
      {Reason::kCurrentNode, "CurrentNode"},
      {Reason::kNodeNotReady, "NodeNotReady"},
      {Reason::kHypervisorNotReady, "HypervisorNotReady"},
      {Reason::kCordoned, "Cordoned"},
      {Reason::kTaint, "Taint"},
      {Reason::kNodeSelector, "NodeSelector"},
      {Reason::kCpuModel, "CpuModel"},
      {Reason::kVersion, "Version"},
      {Reason::kCpu, "Cpu"},
      {Reason::kMemory, "Memory"},
      {Reason::kDedicatedCpus, "DedicatedCpus"},
      {Reason::kHugepages, "Hugepages"},
      {Reason::kNuma, "Numa"},
      {Reason::kAffinity, "Affinity"},
      {Reason::kAntiAffinity, "AntiAffinity"},
      {Reason::kVmNotFound, "VmNotFound"},
      {Reason::kNodeNotFound, "NodeNotFound"},
      {Reason::kGroupNotFound, "GroupNotFound"},
      {Reason::kNoNodes, "NoNodes"},
      {Reason::kAlreadyMigrating, "AlreadyMigrating"},
      {Reason::kMayNotMoveAlone, "MayNotMoveAlone"},
      {Reason::kGroupMoveRefused, "GroupMoveRefused"},
      {Reason::kNoRunningMember, "NoRunningMember"},
      {Reason::kEvictionNone, "EvictionStrategyNone"},
      {Reason::kInboundMigration, "InboundMigration"},
  };
  ASSERT_EQ(std::size(kNames), static_cast<size_t>(kReasonCount));
  std::set<std::string> seen;
  for (const auto& [reason, name] : kNames) {
    EXPECT_STREQ(ReasonName(reason), name);
    EXPECT_EQ(ParseReason(name), reason) << name;
    EXPECT_TRUE(seen.insert(name).second) << "duplicate " << name;
    // A valid Kubernetes condition reason: starts with a letter, letters and digits only.
    EXPECT_TRUE(std::isupper(static_cast<unsigned char>(name[0]))) << name;
    for (const char* c = name; *c != '\0'; ++c) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(*c))) << name;
    }
  }
  EXPECT_EQ(ParseReason("Bogus"), std::nullopt);
  EXPECT_STREQ(ReasonLabel(Reason::kAntiAffinity), "anti-affinity");
}

TEST(ReasonsTest, NodeCodesComeFirstInFilterOrder) {
  EXPECT_TRUE(IsNodeReason(Reason::kExcluded));
  EXPECT_TRUE(IsNodeReason(Reason::kAntiAffinity));
  EXPECT_FALSE(IsNodeReason(Reason::kNone));
  EXPECT_FALSE(IsNodeReason(Reason::kVmNotFound));
  EXPECT_LT(static_cast<int>(Reason::kNuma), static_cast<int>(Reason::kAffinity));
  EXPECT_TRUE(IsCapacityReason(Reason::kHugepages));
  EXPECT_TRUE(IsGroupReason(Reason::kAffinity));
}

}  // namespace
}  // namespace ferry::placement

#include "migration/policy.h"

#include <gtest/gtest.h>

namespace ferry::op::migration {
namespace {

api::MigrationPolicy Policy(std::string name, api::StringMap vm_labels,
                            api::StringMap ns_labels = {}) {
  api::MigrationPolicy p;
  p.metadata.name = std::move(name);
  if (!vm_labels.empty()) {
    p.spec.vm_selector.emplace();
    p.spec.vm_selector->match_labels = std::move(vm_labels);
  }
  if (!ns_labels.empty()) {
    p.spec.namespace_selector.emplace();
    p.spec.namespace_selector->match_labels = std::move(ns_labels);
  }
  return p;
}

TEST(Policy, MostSpecificMatchingPolicyWinsTiesByName) {
  std::vector<api::MigrationPolicy> ps = {
      Policy("all", {}), Policy("b-db", {{"app", "db"}}), Policy("a-db", {{"app", "db"}}),
      Policy("db-prod", {{"app", "db"}}, {{"env", "prod"}}), Policy("web", {{"app", "web"}})};
  EXPECT_EQ(SelectPolicy(ps, {{"env", "prod"}}, {{"app", "db"}})->metadata.name, "db-prod");
  EXPECT_EQ(SelectPolicy(ps, {{"env", "dev"}}, {{"app", "db"}})->metadata.name, "a-db");
  EXPECT_EQ(SelectPolicy(ps, {}, {{"app", "cache"}})->metadata.name, "all");
  EXPECT_EQ(SelectPolicy({Policy("web", {{"app", "web"}})}, {}, {{"app", "db"}}), nullptr);
}

TEST(Policy, SpecOverPolicyOverDefaults) {
  MigrationDefaults defaults;
  api::VirtualMachineMigrationSpec spec;
  spec.max_downtime = std::chrono::milliseconds(50);
  spec.target_node = "n2";
  spec.priority = 4;
  api::MigrationPolicy p = Policy("fast", {});
  p.spec.allow_post_copy = true;
  p.spec.max_downtime = std::chrono::milliseconds(500);
  p.spec.completion_timeout_per_gib = std::chrono::seconds(30);
  p.spec.bandwidth = api::Quantity::FromInt(64 << 20);
  p.spec.downtime_schedule = {std::chrono::milliseconds(100), std::chrono::milliseconds(400)};

  api::EffectiveMigrationOptions o = ResolveOptions(spec, &p, defaults);
  EXPECT_EQ(o.policy, "fast");
  EXPECT_TRUE(o.allow_post_copy);
  EXPECT_FALSE(o.allow_auto_converge);
  EXPECT_EQ(o.max_downtime, std::chrono::milliseconds(50));           // spec wins
  EXPECT_EQ(o.completion_timeout_per_gib, std::chrono::seconds(30));  // policy
  EXPECT_EQ(o.progress_timeout, defaults.progress_timeout);           // default
  ASSERT_TRUE(o.bandwidth);
  EXPECT_EQ(o.bandwidth->Value(), 64 << 20);
  EXPECT_EQ(o.downtime_schedule.size(), 2u);
  EXPECT_EQ(o.target_node, "n2");
  EXPECT_EQ(o.priority, 4);

  api::EffectiveMigrationOptions none = ResolveOptions({}, nullptr, defaults);
  EXPECT_EQ(none.policy, "");
  EXPECT_FALSE(none.allow_post_copy);
  EXPECT_EQ(none.max_downtime, defaults.max_downtime);
  EXPECT_EQ(none.completion_timeout_per_gib, defaults.completion_timeout_per_gib);

  api::VirtualMachineMigrationSpec postcopy;
  postcopy.mode = api::MigrationMode::kPostCopy;
  EXPECT_TRUE(ResolveOptions(postcopy, nullptr, defaults).allow_post_copy)
      << "asking for PostCopy allows it";
}

}  // namespace
}  // namespace ferry::op::migration

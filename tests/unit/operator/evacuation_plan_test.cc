// Evacuation decisions as tables: which VMs of a drain plan get a VMM now, which are stopped,
// which are reported as blockers, and in what order; the deterministic VMM names; attempts.
#include "evacuation/evacuation_plan.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

namespace ferry::op::evacuation {
namespace {

using placement::DrainAction;
using placement::DrainBlocker;
using placement::DrainPlan;
using placement::DrainStep;

DrainStep Migrate(const std::string& vm, const std::string& target = "n2") {
  DrainStep s;
  s.vm = vm;
  s.action = DrainAction::kMigrate;
  s.target = target;
  return s;
}
DrainStep GroupMove(const std::string& vm, const std::string& group, const std::string& target) {
  DrainStep s = Migrate(vm, target);
  s.group_move = group;
  return s;
}
DrainStep Shutdown(const std::string& vm) {
  DrainStep s;
  s.vm = vm;
  s.action = DrainAction::kShutdown;
  return s;
}
DrainStep Leaving(const std::string& vm) {
  DrainStep s = Migrate(vm);
  s.action = DrainAction::kAlreadyLeaving;
  return s;
}
DrainBlocker Blocker(const std::string& vm, const std::string& reason) {
  DrainBlocker b;
  b.vm = vm;
  b.reason = reason;
  return b;
}
VmFacts Facts(const std::string& vm) {
  VmFacts f;
  f.vmm_name = "evac-" + vm + "-00000000";
  return f;
}

std::vector<std::string> Created(const Actions& a) {
  std::vector<std::string> out;
  for (const Create& c : a.create) out.push_back(c.vm);
  return out;
}
std::vector<std::string> Blocked(const Actions& a) {
  std::vector<std::string> out;
  for (const auto& [vm, reason] : a.blocked) out.push_back(vm);
  return out;
}

struct Case {
  std::string name;
  std::vector<DrainStep> steps;
  std::vector<DrainBlocker> blockers;
  std::function<void(std::map<std::string, VmFacts>&, ActionOptions&)> setup;
  std::vector<std::string> want_create;  // in order
  std::vector<std::string> want_shutdown;
  std::vector<std::string> want_blocked;
  int want_planned;
  int want_remaining;
  int want_migrating;
};

TEST(EvacuationActions, Table) {
  auto none = [](std::map<std::string, VmFacts>&, ActionOptions&) {};
  const std::vector<Case> cases = {
      {"plan order, at most the free slots",
       {Migrate("a"), Migrate("b"), Migrate("c")},
       {},
       none,
       {"a", "b"},
       {},
       {},
       3,
       3,
       0},
      {"no free slot: nothing created, all remain",
       {Migrate("a"), Migrate("b")},
       {},
       [](auto&, ActionOptions& o) { o.free_slots = 0; },
       {},
       {},
       {},
       2,
       2,
       0},
      {"stopped VMs keep their node: not planned",
       {Migrate("a"), Migrate("off")},
       {},
       [](auto& f, auto&) { f["off"].running = false; },
       {"a"},
       {},
       {},
       1,
       1,
       0},
      {"Shutdown strategy: stopped, takes no slot",
       {Shutdown("s"), Migrate("a"), Migrate("b")},
       {},
       [](auto& f, auto&) { f["s"].eviction_strategy = api::EvictionStrategy::kShutdown; },
       {"a", "b"},
       {"s"},
       {},
       3,
       3,
       0},
      // The incident of issue 20: every other node looked unready to a replica whose clock
      // had frozen, the plan found no target for a LiveMigrateIfPossible VM and the drain
      // stopped it. Only evictionStrategy Shutdown stops a guest: the others are reported and
      // the drain plans again.
      {"LiveMigrateIfPossible with no target now: blocked, never stopped",
       {Shutdown("batch-1"), Shutdown("web")},
       {},
       [](auto& f, auto&) {
         f["batch-1"].eviction_strategy = api::EvictionStrategy::kLiveMigrateIfPossible;
         f["web"].eviction_strategy = api::EvictionStrategy::kLiveMigrate;
       },
       {},
       {},
       {"batch-1", "web"},
       2,
       2,
       0},
      // A VM asked to stop whose guest still runs: the node is not empty yet ("no running
      // VMs left" was reported while it ran).
      {"a VM being stopped still counts as remaining",
       {Shutdown("s"), Migrate("a")},
       {Blocker("b", "Memory")},
       [](auto& f, auto&) {
         f["s"].running = false;
         f["s"].stopping = true;
         f["a"].running = false;
         f["b"].running = false;
         f["b"].stopping = true;
       },
       {},
       {},
       {},
       0,
       2,
       0},
      {"already leaving: counted as migrating, no second VMM",
       {Leaving("a"), Migrate("b")},
       {},
       none,
       {"b"},
       {},
       {},
       2,
       2,
       1},
      {"own VMM in flight: migrating, not created again",
       {Migrate("a"), Migrate("b"), Migrate("c")},
       {},
       [](auto& f, ActionOptions& o) {
         f["a"].vmm_phase = api::MigrationPhase::kRunning;
         o.free_slots = 1;  // the controller subtracts the one in flight
       },
       {"b"},
       {},
       {},
       3,
       3,
       1},
      {"own VMM finished, outcome not yet recorded: wait for the next name",
       {Migrate("a")},
       {},
       [](auto& f, auto&) { f["a"].vmm_phase = api::MigrationPhase::kFailed; },
       {},
       {},
       {},
       1,
       1,
       0},
      {"too many failed attempts: blocked with the last failure",
       {Migrate("a"), Migrate("b")},
       {},
       [](auto& f, auto&) {
         f["a"].failed_attempts = 3;
         f["a"].last_failure = "TargetCheckFailed";
       },
       {"b"},
       {},
       {"a"},
       2,
       2,
       0},
      {"strict-affinity group not allowed to move: every member blocked",
       {GroupMove("g1", "ns/pair", "n3"), GroupMove("g2", "ns/pair", "n3"), Migrate("a")},
       {},
       none,
       {"a"},
       {},
       {"g1", "g2"},
       3,
       3,
       0},
      {"group allowed to move: members together to one node, beyond the free slots",
       {GroupMove("g1", "ns/pair", "n3"), GroupMove("g2", "ns/pair", "n3"), Migrate("a")},
       {},
       [](auto&, ActionOptions& o) {
         o.groups_allowed_to_move.insert("ns/pair");
         o.free_slots = 1;
       },
       {"g1", "g2", "a"},
       {},
       {},
       3,
       3,
       0},
      {"blockers of running VMs are reported, of stopped VMs not",
       {Migrate("a")},
       {Blocker("pinned", "Memory: no node has room"), Blocker("off", "EvictionStrategyNone")},
       [](auto& f, auto&) { f["off"].running = false; },
       {"a"},
       {},
       {"pinned"},
       2,
       2,
       0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    DrainPlan plan;
    plan.node = "n1";
    plan.steps = c.steps;
    plan.blockers = c.blockers;
    std::map<std::string, VmFacts> facts;
    for (const DrainStep& s : c.steps) facts[s.vm] = Facts(s.vm);
    for (const DrainBlocker& b : c.blockers) facts[b.vm] = Facts(b.vm);
    ActionOptions opts;
    c.setup(facts, opts);
    const Actions a = DecideActions(plan, facts, opts);
    EXPECT_EQ(Created(a), c.want_create);
    EXPECT_EQ(a.shutdown, c.want_shutdown);
    EXPECT_EQ(Blocked(a), c.want_blocked);
    EXPECT_EQ(a.planned, c.want_planned);
    EXPECT_EQ(a.remaining, c.want_remaining);
    EXPECT_EQ(a.migrating, c.want_migrating);
  }
}

TEST(EvacuationActions, CreatesCarryTheNameAndTheGroupOfAGroupMove) {
  DrainPlan plan;
  plan.steps = {Migrate("ns/a", "n2"), GroupMove("ns/g", "ns/pair", "n3")};
  std::map<std::string, VmFacts> facts = {{"ns/a", Facts("a")}, {"ns/g", Facts("g")}};
  ActionOptions opts;
  opts.groups_allowed_to_move = {"ns/pair"};
  const Actions a = DecideActions(plan, facts, opts);
  ASSERT_EQ(a.create.size(), 2u);
  EXPECT_EQ(a.create[0].name, "evac-a-00000000");
  EXPECT_EQ(a.create[0].group, "")
      << "a single VM moves alone; its target is chosen when its VMM is scheduled";
  EXPECT_EQ(a.create[1].group, "ns/pair")
      << "a member of a group move: the scheduler keeps the group together";
}

TEST(EvacuationActions, BlockedReasonsSayWhy) {
  DrainPlan plan;
  plan.steps = {Migrate("ns/a"), GroupMove("ns/g", "ns/pair", "n3")};
  std::map<std::string, VmFacts> facts = {{"ns/a", Facts("a")}, {"ns/g", Facts("g")}};
  facts["ns/a"].failed_attempts = 4;
  facts["ns/a"].last_failure = "HandlerLost";
  const Actions a = DecideActions(plan, facts, {});
  ASSERT_EQ(a.blocked.size(), 2u);
  EXPECT_EQ(a.blocked[0].second, "evacuation failed 4 times in a row (last: HandlerLost)");
  EXPECT_NE(a.blocked[1].second.find("strict affinity: group ns/pair"), std::string::npos)
      << a.blocked[1].second;
}

TEST(EvacuationActions, ANoTargetShutdownStepOfAMigratableVmSaysWhyItWaits) {
  DrainPlan plan;
  DrainStep step = Shutdown("default/batch-1");
  step.note = "LiveMigrateIfPossible and no target: no node is ready";
  plan.steps = {step};
  std::map<std::string, VmFacts> facts = {{"default/batch-1", Facts("batch-1")}};
  facts["default/batch-1"].eviction_strategy = api::EvictionStrategy::kLiveMigrateIfPossible;
  const Actions a = DecideActions(plan, facts, {});
  EXPECT_TRUE(a.shutdown.empty());
  ASSERT_EQ(a.blocked.size(), 1u);
  EXPECT_NE(a.blocked[0].second.find("no node is ready"), std::string::npos) << a.blocked[0].second;
  EXPECT_NE(a.blocked[0].second.find("only evictionStrategy Shutdown stops a guest"),
            std::string::npos)
      << a.blocked[0].second;
  EXPECT_EQ(a.remaining, 1);
}

TEST(EvacuationNames, DeterministicPerAttempt) {
  const std::string a = MigrationName("web", "uid-1", "n1", "");
  EXPECT_EQ(a, MigrationName("web", "uid-1", "n1", "")) << "the same after an operator restart";
  EXPECT_EQ(a.rfind("evac-web-", 0), 0u);
  EXPECT_EQ(a.size(), std::string("evac-web-").size() + 8);
  EXPECT_NE(a, MigrationName("web", "uid-1", "n1", "evac-web-1234abcd"))
      << "a new name after a recorded outcome";
  EXPECT_NE(a, MigrationName("web", "uid-1", "n2", "")) << "another node's drain";
  EXPECT_NE(a, MigrationName("web", "uid-2", "n1", "")) << "a VM of the same name created again";
  // Field boundaries are part of the hash: moving a character from one field to the next
  // changes the name.
  EXPECT_NE(MigrationName("v", "ab", "c", ""), MigrationName("v", "a", "bc", ""));
}

TEST(EvacuationNames, LongVmNamesStayWithinTheNameLimit) {
  const std::string long_name(253, 'x');
  const std::string n = MigrationName(long_name, "uid", "n1", "");
  EXPECT_LE(n.size(), 253u);
  EXPECT_EQ(n.substr(n.size() - 9, 1), "-");
  // A cut that ends in '.' made "<...>.-<hash>": no DNS subdomain (the create was refused).
  const std::string dotted = std::string(229, 'x') + "." + std::string(23, 'y');
  const std::string d = MigrationName(dotted, "uid", "n1", "");
  EXPECT_EQ(d.find(".-"), std::string::npos) << d;
  EXPECT_EQ(d.rfind("evac-" + std::string(229, 'x') + "-", 0), 0u) << d;
}

api::MigrationRecord Rec(const std::string& name, const std::string& src, api::MigrationResult r) {
  api::MigrationRecord rec;
  rec.migration_name = name;
  rec.source_node = src;
  rec.result = r;
  return rec;
}

TEST(EvacuationAttempts, CountsTrailingFailuresOffThisNode) {
  using R = api::MigrationResult;
  struct AttemptCase {
    std::string name;
    std::vector<api::MigrationRecord> history;
    int want;
  };
  const std::vector<AttemptCase> cases = {
      {"no history", {}, 0},
      {"two failures in a row",
       {Rec("evac-a-1", "n1", R::kFailed), Rec("evac-a-2", "n1", R::kFailed)},
       2},
      {"cancelled counts as failed", {Rec("evac-a-1", "n1", R::kCancelled)}, 1},
      {"a success resets",
       {Rec("evac-a-1", "n1", R::kFailed), Rec("evac-a-2", "n1", R::kSucceeded)},
       0},
      {"only the tail counts",
       {Rec("evac-a-1", "n1", R::kFailed), Rec("evac-a-2", "n1", R::kSucceeded),
        Rec("evac-a-3", "n1", R::kFailed)},
       1},
      {"a user's migration ends the run",
       {Rec("evac-a-1", "n1", R::kFailed), Rec("mine", "n1", R::kFailed)},
       0},
      {"another node's drain ends the run",
       {Rec("evac-a-1", "n1", R::kFailed), Rec("evac-a-2", "n9", R::kFailed)},
       0},
  };
  for (const AttemptCase& c : cases) {
    SCOPED_TRACE(c.name);
    api::VirtualMachine vm;
    vm.status.migration_history = c.history;
    EXPECT_EQ(FailedAttempts(vm, "n1"), c.want);
  }
}

TEST(EvacuationProgress, AnnotationShape) {
  Actions a;
  a.planned = 6;
  a.remaining = 4;
  a.migrating = 2;
  a.blocked = {{"ns/g1", "strict affinity"}};
  const nlohmann::json j = nlohmann::json::parse(ProgressAnnotation(a));
  EXPECT_EQ(j["planned"], 6);
  EXPECT_EQ(j["remaining"], 4);
  EXPECT_EQ(j["migrating"], 2);
  ASSERT_EQ(j["blocked"].size(), 1u);
  EXPECT_EQ(j["blocked"][0]["vm"], "ns/g1");
  EXPECT_EQ(j["blocked"][0]["reason"], "strict affinity");
  EXPECT_EQ(nlohmann::json::parse(ProgressAnnotation({}))["blocked"], nlohmann::json::array());
}

}  // namespace
}  // namespace ferry::op::evacuation

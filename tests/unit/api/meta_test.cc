#include "api/meta.h"

#include <string>

#include <gtest/gtest.h>

namespace ferry::api {
namespace {

using namespace std::chrono_literals;

const char* kMeta = R"({
  "name": "web-1", "namespace": "default", "uid": "7d1c", "resourceVersion": "42", "generation": 3,
  "labels": {"app": "web"}, "annotations": {"note": "x"}, "finalizers": ["ferry.dev/migration"],
  "creationTimestamp": "2024-05-01T12:00:00Z", "deletionTimestamp": "2024-05-01T13:00:00Z",
  "deletionGracePeriodSeconds": 0,
  "ownerReferences": [{"apiVersion": "ferry.dev/v1alpha1", "kind": "VirtualMachine", "name": "web-1",
                       "uid": "u1", "controller": true, "blockOwnerDeletion": true, "futureField": 1}],
  "managedFields": [{"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:spec": {}}}]
})";

TEST(ObjectMeta, DecodesEveryField) {
  ObjectMeta m;
  ASSERT_TRUE(Decode(Json::parse(kMeta), "metadata", &m).ok());
  EXPECT_EQ(m.name, "web-1");
  EXPECT_EQ(m.namespace_, "default");
  EXPECT_EQ(m.uid, "7d1c");
  EXPECT_EQ(m.resource_version, "42");
  EXPECT_EQ(m.generation, 3);
  EXPECT_EQ(m.labels.at("app"), "web");
  EXPECT_EQ(m.annotations.at("note"), "x");
  EXPECT_TRUE(m.HasFinalizer("ferry.dev/migration"));
  EXPECT_TRUE(m.IsBeingDeleted());
  EXPECT_EQ(FormatTime(*m.creation_timestamp), "2024-05-01T12:00:00Z");
  ASSERT_EQ(m.owner_references.size(), 1u);
  EXPECT_EQ(m.owner_references[0].kind, "VirtualMachine");
  EXPECT_EQ(m.owner_references[0].controller, true);
  EXPECT_EQ(m.Key(), "default/web-1");
}

TEST(ObjectMeta, RoundTripKeepsUnknownFieldsAtEveryLevel) {
  const Json in = Json::parse(kMeta);
  ObjectMeta m;
  ASSERT_TRUE(Decode(in, "metadata", &m).ok());
  EXPECT_EQ(Encode(m), in);
  m.labels["tier"] = "frontend";
  m.RemoveFinalizer("ferry.dev/migration");
  m.deletion_timestamp.reset();
  Json out = Encode(m);
  EXPECT_EQ(out["managedFields"], in["managedFields"]);
  EXPECT_EQ(out["deletionGracePeriodSeconds"], 0);
  EXPECT_EQ(out["ownerReferences"][0]["futureField"], 1);
  EXPECT_FALSE(out.contains("finalizers"));
  EXPECT_FALSE(out.contains("deletionTimestamp"));
  EXPECT_EQ(out["labels"], (Json{{"app", "web"}, {"tier", "frontend"}}));
}

TEST(ObjectMeta, Finalizers) {
  ObjectMeta m;
  EXPECT_TRUE(m.AddFinalizer("a"));
  EXPECT_FALSE(m.AddFinalizer("a"));
  EXPECT_TRUE(m.AddFinalizer("b"));
  EXPECT_TRUE(m.RemoveFinalizer("a"));
  EXPECT_FALSE(m.RemoveFinalizer("a"));
  EXPECT_EQ(m.finalizers, (std::vector<std::string>{"b"}));
  m.name = "cluster-wide";
  EXPECT_EQ(m.Key(), "cluster-wide");
}

TEST(Condition, RequiresTypeAndStatus) {
  Condition c;
  EXPECT_EQ(Decode(Json{{"status", "True"}}, "status.conditions[0]", &c).message(),
            "status.conditions[0].type: Required value");
  EXPECT_NE(Decode(Json{{"type", "Migratable"}, {"status", "Maybe"}}, "c", &c).message().find("unsupported value"),
            std::string::npos);
}

TEST(Condition, SetMovesTransitionTimeOnlyOnStatusChange) {
  const WallTime t0 = WallTime() + 1000h;
  std::vector<Condition> conds;
  EXPECT_TRUE(SetCondition(&conds, {"Migratable", ConditionStatus::kTrue, 1, std::nullopt, "Ok", "", {}}, t0));
  ASSERT_EQ(conds.size(), 1u);
  EXPECT_EQ(conds[0].last_transition_time, t0);
  // Same status, same reason: nothing changes.
  EXPECT_FALSE(SetCondition(&conds, {"Migratable", ConditionStatus::kTrue, 1, std::nullopt, "Ok", "", {}}, t0 + 5s));
  // Same status, new message: changed, but the transition time stays.
  EXPECT_TRUE(SetCondition(&conds, {"Migratable", ConditionStatus::kTrue, 2, std::nullopt, "Ok", "now", {}}, t0 + 6s));
  EXPECT_EQ(conds[0].last_transition_time, t0);
  EXPECT_EQ(conds[0].observed_generation, 2);
  // New status: the transition time moves.
  EXPECT_TRUE(SetCondition(&conds, {"Migratable", ConditionStatus::kFalse, 2, std::nullopt, "HostDevice", "", {}},
                           t0 + 7s));
  EXPECT_EQ(conds[0].last_transition_time, t0 + 7s);
  EXPECT_EQ(FindCondition(conds, "Migratable")->reason, "HostDevice");
  EXPECT_EQ(FindCondition(conds, "PlacementCompliant"), nullptr);
}

TEST(LabelSelector, Matches) {
  LabelSelector sel;
  ASSERT_TRUE(Decode(Json::parse(R"({"matchLabels": {"tier": "frontend"},
      "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "staging"]},
                           {"key": "legacy", "operator": "DoesNotExist"}]})"),
                     "vmSelector", &sel)
                  .ok());
  struct Case {
    StringMap labels;
    bool want;
  };
  const Case cases[] = {
      {{{"tier", "frontend"}, {"env", "prod"}}, true},
      {{{"tier", "frontend"}, {"env", "staging"}}, true},
      {{{"tier", "frontend"}, {"env", "dev"}}, false},
      {{{"tier", "frontend"}}, false},
      {{{"tier", "backend"}, {"env", "prod"}}, false},
      {{{"tier", "frontend"}, {"env", "prod"}, {"legacy", "yes"}}, false},
  };
  for (const auto& c : cases) EXPECT_EQ(sel.Matches(c.labels), c.want);
  EXPECT_TRUE(LabelSelector().Matches({}));
  LabelSelector exists;
  exists.match_expressions.push_back({"gpu", SelectorOperator::kExists, {}, {}});
  EXPECT_TRUE(exists.Matches({{"gpu", ""}}));
  EXPECT_FALSE(exists.Matches({}));
  LabelSelector not_in;
  not_in.match_expressions.push_back({"zone", SelectorOperator::kNotIn, {"a"}, {}});
  EXPECT_TRUE(not_in.Matches({}));
  EXPECT_FALSE(not_in.Matches({{"zone", "a"}}));
}

}  // namespace
}  // namespace ferry::api

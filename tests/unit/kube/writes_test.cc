// Pure parts of the safe-write helpers: the patches they build. Their behaviour against two
// concurrent writers is tested on a real kube-apiserver (tests/integration/writes_it.cc).
#include "kube/writes.h"

#include <gtest/gtest.h>

namespace ferry::kube {
namespace {

Json Obj(Json finalizers = nullptr, Json conditions = nullptr) {
  Json o = {{"metadata", {{"name", "a"}, {"namespace", "ns"}, {"resourceVersion", "42"}}}};
  if (!finalizers.is_null()) o["metadata"]["finalizers"] = finalizers;
  if (!conditions.is_null()) o["status"]["conditions"] = conditions;
  return o;
}

const Json kRvPrecondition = {
    {"op", "replace"}, {"path", "/metadata/resourceVersion"}, {"value", "42"}};

TEST(JsonPatchTest, FinalizerPatchesTable) {
  struct Case {
    const char* name;
    Json obj;
    bool add;
    Json want_ops;
  };
  const Case cases[] = {
      {"add to absent list", Obj(), true,
       Json::array(
           {kRvPrecondition, {{"op", "add"}, {"path", "/metadata/finalizers"}, {"value", {"f"}}}})},
      {"add appends, after a test of the list read", Obj({"x"}), true,
       Json::array({kRvPrecondition,
                    {{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", {"x"}}},
                    {{"op", "add"}, {"path", "/metadata/finalizers/-"}, {"value", "f"}}})},
      {"add of a present finalizer is no edit", Obj({"f"}), true, Json::array({kRvPrecondition})},
      {"remove by index, highest first", Obj({"f", "x", "f"}), false,
       Json::array({kRvPrecondition,
                    {{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", {"f", "x", "f"}}},
                    {{"op", "remove"}, {"path", "/metadata/finalizers/2"}},
                    {{"op", "remove"}, {"path", "/metadata/finalizers/0"}}})},
      {"remove of an absent finalizer is no edit", Obj({"x"}), false,
       Json::array({kRvPrecondition})},
      {"remove from no list is no edit", Obj(), false, Json::array({kRvPrecondition})},
  };
  for (const auto& c : cases) {
    JsonPatch p = c.add ? AddFinalizerPatch(c.obj, "f") : RemoveFinalizerPatch(c.obj, "f");
    EXPECT_EQ(p.ops(), c.want_ops) << c.name;
    EXPECT_EQ(p.edits() == 0, c.want_ops.size() == 1) << c.name;
  }
}

TEST(JsonPatchTest, HasFinalizer) {
  EXPECT_TRUE(HasFinalizer(Obj({"a", "f"}), "f"));
  EXPECT_FALSE(HasFinalizer(Obj({"a"}), "f"));
  EXPECT_FALSE(HasFinalizer(Obj(), "f"));
}

TEST(JsonPatchTest, PointerEscape) {
  EXPECT_EQ(JsonPointerEscape("ferry.dev/node"), "ferry.dev~1node");
  EXPECT_EQ(JsonPointerEscape("a~b"), "a~0b");
}

TEST(ConditionTest, SetConditionKeepsTransitionTimeWhenStatusUnchanged) {
  Json o = Obj();
  EXPECT_TRUE(SetCondition(o, {"Ready", "False", "Booting", "starting", {}}, "t1"));
  EXPECT_EQ(FindCondition(o, "Ready")->value("lastTransitionTime", ""), "t1");
  EXPECT_TRUE(SetCondition(o, {"Ready", "False", "Waiting", "still starting", {}}, "t2"));
  EXPECT_EQ(FindCondition(o, "Ready")->value("lastTransitionTime", ""), "t1");  // same status
  EXPECT_EQ(FindCondition(o, "Ready")->value("reason", ""), "Waiting");
  EXPECT_FALSE(
      SetCondition(o, {"Ready", "False", "Waiting", "still starting", {}}, "t3"));  // no change
  EXPECT_TRUE(SetCondition(o, {"Ready", "True", "Running", "", int64_t{3}}, "t4"));
  EXPECT_EQ(FindCondition(o, "Ready")->value("lastTransitionTime", ""), "t4");
  EXPECT_EQ(FindCondition(o, "Ready")->value("observedGeneration", 0), 3);
  EXPECT_TRUE(SetCondition(o, {"Other", "True", "R", "", {}}, "t5"));
  EXPECT_EQ(o["status"]["conditions"].size(), 2u);
  EXPECT_FALSE(FindCondition(o, "Missing").has_value());
}

TEST(ConditionTest, SetConditionPatchTable) {
  const Json ready = {{"type", "Ready"},
                      {"status", "False"},
                      {"reason", "R"},
                      {"message", ""},
                      {"lastTransitionTime", "t0"}};
  const Json other = {{"type", "Other"},
                      {"status", "True"},
                      {"reason", "O"},
                      {"message", ""},
                      {"lastTransitionTime", "t0"}};
  const Condition c{"Ready", "True", "Up", "ok", {}};
  const Json want_entry = {{"type", "Ready"},
                           {"status", "True"},
                           {"reason", "Up"},
                           {"message", "ok"},
                           {"lastTransitionTime", "t1"}};
  // No status at all.
  Json o = Obj();
  EXPECT_EQ(SetConditionPatch(o, c, "t1").ops(),
            Json::array(
                {kRvPrecondition,
                 {{"op", "add"}, {"path", "/status"}, {"value", {{"conditions", {want_entry}}}}}}));
  // Status without conditions.
  o["status"] = {{"phase", "Running"}};
  EXPECT_EQ(
      SetConditionPatch(o, c, "t1").ops(),
      Json::array({kRvPrecondition,
                   {{"op", "add"}, {"path", "/status/conditions"}, {"value", {want_entry}}}}));
  // Replaces the entry of that type by index, after testing the index still holds that type;
  // the other writer's condition is not touched.
  o = Obj(nullptr, {other, ready});
  EXPECT_EQ(
      SetConditionPatch(o, c, "t1").ops(),
      Json::array({kRvPrecondition,
                   {{"op", "test"}, {"path", "/status/conditions/1/type"}, {"value", "Ready"}},
                   {{"op", "replace"}, {"path", "/status/conditions/1"}, {"value", want_entry}}}));
  // Appends when absent.
  o = Obj(nullptr, {other});
  EXPECT_EQ(
      SetConditionPatch(o, c, "t1").ops(),
      Json::array({kRvPrecondition,
                   {{"op", "test"}, {"path", "/status/conditions"}, {"value", {other}}},
                   {{"op", "add"}, {"path", "/status/conditions/-"}, {"value", want_entry}}}));
  // Unchanged: no edit.
  o = Obj(nullptr, {want_entry});
  EXPECT_EQ(SetConditionPatch(o, c, "t9").edits(), 0u);
}

TEST(RetryOnConflictTest, RetriesOnlyConflicts) {
  int calls = 0;
  Status st = RetryOnConflict([&] {
    ++calls;
    return calls < 3 ? ConflictError("stale") : OkStatus();
  });
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(calls, 3);

  calls = 0;
  st = RetryOnConflict([&] {
    ++calls;
    return NotFoundError("gone");
  });
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(calls, 1);

  calls = 0;
  st = RetryOnConflict(
      [&] {
        ++calls;
        return ConflictError("always");
      },
      {}, RetryOptions{4, std::chrono::milliseconds(1), 0});
  EXPECT_EQ(st.code(), StatusCode::kConflict);
  EXPECT_EQ(calls, 4);
}

TEST(RetryOnConflictTest, StopEndsTheRetries) {
  std::stop_source stop;
  int calls = 0;
  Status st = RetryOnConflict(
      [&] {
        ++calls;
        stop.request_stop();
        return ConflictError("stale");
      },
      stop.get_token());
  EXPECT_EQ(st.code(), StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace ferry::kube

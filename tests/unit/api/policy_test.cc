#include "api/policy.h"

#include <string>

#include <gtest/gtest.h>

namespace ferry::api {
namespace {

using namespace std::chrono_literals;

const char* kMp = R"({
  "apiVersion": "ferry.dev/v1alpha1", "kind": "MigrationPolicy",
  "metadata": {"name": "frontend"},
  "spec": {
    "vmSelector": {"matchLabels": {"tier": "frontend"}},
    "namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]},
    "allowPostCopy": true, "allowAutoConverge": false, "bandwidth": "1Gi", "maxDowntime": "300ms",
    "downtimeSchedule": ["50ms", "100ms", "0.2s", "300ms"], "completionTimeoutPerGiB": "150s",
    "progressTimeout": "30s", "futureKnob": 7
  },
  "status": {"observedGeneration": 1, "matchedVMs": 12}
})";

TEST(MigrationPolicy, DecodesAndRoundTrips) {
  const Json in = Json::parse(kMp);
  auto p = MigrationPolicy::FromJson(in);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->metadata.namespace_.empty());  // cluster-scoped
  EXPECT_EQ(p->spec.allow_post_copy, true);
  EXPECT_EQ(p->spec.allow_auto_converge, false);
  EXPECT_EQ(p->spec.bandwidth->Value(), 1LL << 30);
  EXPECT_EQ(p->spec.max_downtime, 300ms);
  EXPECT_EQ(p->spec.downtime_schedule, (std::vector<std::chrono::nanoseconds>{50ms, 100ms, 200ms, 300ms}));
  EXPECT_EQ(p->spec.completion_timeout_per_gib, 150s);
  EXPECT_EQ(p->spec.progress_timeout, 30s);
  EXPECT_EQ(p->status.observed_generation, 1);
  // "0.2s" is written back canonically ("200ms"); every other field is unchanged.
  Json want = in;
  want["spec"]["downtimeSchedule"][2] = "200ms";
  EXPECT_EQ(p->ToJson(), want) << Json::diff(want, p->ToJson()).dump();

  p->spec.allow_post_copy.reset();
  p->spec.downtime_schedule.push_back(1s);
  Json out = p->ToJson();
  EXPECT_FALSE(out["spec"].contains("allowPostCopy"));
  EXPECT_EQ(out["spec"]["downtimeSchedule"].back(), "1s");
  EXPECT_EQ(out["spec"]["futureKnob"], 7);
  EXPECT_EQ(out["status"]["matchedVMs"], 12);
}

TEST(MigrationPolicy, Selects) {
  auto p = MigrationPolicy::FromJson(Json::parse(kMp));
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->Selects({{"env", "prod"}}, {{"tier", "frontend"}}));
  EXPECT_TRUE(p->Selects({}, {{"tier", "frontend"}}));
  EXPECT_FALSE(p->Selects({{"env", "dev"}}, {{"tier", "frontend"}}));
  EXPECT_FALSE(p->Selects({{"env", "prod"}}, {{"tier", "backend"}}));
  MigrationPolicy everything;
  EXPECT_TRUE(everything.Selects({}, {}));
}

TEST(MigrationPolicy, InvalidInputIsAClearError) {
  struct Case {
    const char* pointer;
    Json value;
    const char* want;
  };
  const Case cases[] = {
      {"/spec/downtimeSchedule/1", "soon", "spec.downtimeSchedule[1]: invalid duration \"soon\""},
      {"/spec/downtimeSchedule/1", 100, "spec.downtimeSchedule[1]: must be a string"},
      {"/spec/progressTimeout", "30", "spec.progressTimeout: invalid duration"},
      {"/spec/allowPostCopy", "yes", "spec.allowPostCopy: must be a boolean"},
      {"/spec/vmSelector/matchExpressions", Json::array({Json{{"key", "a"}, {"operator", "Like"}}}),
       "spec.vmSelector.matchExpressions[0].operator: unsupported value \"Like\""},
      {"/spec/bandwidth", "-", "spec.bandwidth"},
  };
  int rejected = 0;
  for (const auto& c : cases) {
    Json j = Json::parse(kMp);
    j[Json::json_pointer(c.pointer)] = c.value;
    auto p = MigrationPolicy::FromJson(j);
    if (std::string(c.pointer) == "/spec/bandwidth") {
      // "-" is a valid (zero) quantity to Kubernetes, and so to Ferry; the CRD pattern rejects it.
      ASSERT_TRUE(p.ok()) << p.status();
      EXPECT_TRUE(p->spec.bandwidth->IsZero());
      continue;
    }
    ASSERT_FALSE(p.ok()) << c.pointer;
    ++rejected;
    EXPECT_NE(p.status().message().find(c.want), std::string::npos) << p.status().message();
  }
  EXPECT_EQ(rejected, 5);
}

}  // namespace
}  // namespace ferry::api

#include "api/migration.h"

#include <string>

#include <gtest/gtest.h>

namespace ferry::api {
namespace {

using namespace std::chrono_literals;

const char* kVmm = R"({
  "apiVersion": "ferry.dev/v1alpha1", "kind": "VirtualMachineMigration",
  "metadata": {"name": "web-1-move", "namespace": "default", "finalizers": ["ferry.dev/migration"]},
  "spec": {"vmName": "web-1", "targetNode": "node-b", "mode": "Auto", "offline": false, "storage": "Copy",
           "bandwidth": "512Mi", "maxDowntime": "300ms", "completionTimeoutPerGiB": "150s", "priority": 10,
           "trigger": "Evacuation", "specFuture": 1},
  "status": {
    "phase": "Running", "sourceNode": "node-a", "targetNode": "node-b",
    "targetURI": "qemu+tcp://192.0.2.11/system", "effectiveMode": "PostCopy",
    "placement": {"selectedNode": "node-b", "decidedAt": "2024-05-01T12:00:00Z", "summary": "3 nodes, 1 eligible",
      "candidates": [
        {"node": "node-b", "verdict": "Selected", "score": 87, "reason": "least loaded: cpu 12%, mem 30%"},
        {"node": "node-c", "verdict": "Rejected", "reason": "anti-affinity: web-2 already on node-c",
         "filter": "ServerGroup"},
        {"node": "node-d", "verdict": "Rejected", "reason": "not Ready"}]},
    "progress": {"totalBytes": 2147483648, "processedBytes": 1073741824, "remainingBytes": 1073741824,
      "dirtyRateBytesPerSecond": 52428800, "transferRateBytesPerSecond": 1073741824, "iteration": 3,
      "percent": 50, "postCopyStartedAt": "2024-05-01T12:00:20Z", "currentMaxDowntime": "500ms",
      "autoConvergeThrottlePercent": 20, "estimatedTimeRemaining": "12.5s", "updatedAt": "2024-05-01T12:00:21Z", "xbzrleCacheMiss": 5},
    "convergenceActions": [
      {"time": "2024-05-01T12:00:10Z", "action": "IncreaseDowntime", "detail": "300ms -> 500ms"},
      {"time": "2024-05-01T12:00:20Z", "action": "SwitchToPostCopy", "detail": "remaining stalled at 1GiB"}],
    "downtime": "38ms", "startTime": "2024-05-01T12:00:01Z",
    "reason": "", "message": "post-copy since 12:00:20",
    "observedGeneration": 1,
    "conditions": [{"type": "TargetReady", "status": "True", "lastTransitionTime": "2024-05-01T12:00:05Z"}],
    "statusFuture": true
  },
  "future": "top"
})";

TEST(VirtualMachineMigration, DecodesEveryField) {
  auto m = VirtualMachineMigration::FromJson(Json::parse(kVmm));
  ASSERT_TRUE(m.ok()) << m.status();
  const auto& s = m->spec;
  EXPECT_EQ(s.vm_name, "web-1");
  EXPECT_EQ(s.target_node, "node-b");
  EXPECT_EQ(s.mode, MigrationMode::kAuto);
  EXPECT_FALSE(s.offline);
  EXPECT_EQ(s.storage, StorageMode::kCopy);
  EXPECT_EQ(s.bandwidth->Value(), 512LL << 20);
  EXPECT_EQ(s.max_downtime, 300ms);
  EXPECT_EQ(s.completion_timeout_per_gib, 150s);
  EXPECT_EQ(s.priority, 10);
  EXPECT_EQ(s.trigger, MigrationTrigger::kEvacuation);
  const auto& st = m->status;
  EXPECT_EQ(st.phase, MigrationPhase::kRunning);
  EXPECT_EQ(st.target_uri, "qemu+tcp://192.0.2.11/system");
  EXPECT_EQ(st.effective_mode, MigrationMode::kPostCopy);
  ASSERT_EQ(st.placement->candidates.size(), 3u);
  EXPECT_EQ(st.placement->candidates[0].verdict, PlacementVerdict::kSelected);
  EXPECT_EQ(st.placement->candidates[0].score, 87);
  EXPECT_EQ(st.placement->candidates[1].reason, "anti-affinity: web-2 already on node-c");
  EXPECT_EQ(st.progress->total_bytes, 2147483648);
  EXPECT_EQ(st.progress->iteration, 3);
  EXPECT_EQ(st.progress->percent, 50);
  EXPECT_EQ(st.progress->current_max_downtime, 500ms);
  EXPECT_TRUE(st.progress->post_copy_started_at.has_value());
  EXPECT_EQ(st.progress->estimated_time_remaining, 12500ms);
  ASSERT_EQ(st.convergence_actions.size(), 2u);
  EXPECT_EQ(st.convergence_actions[1].action, "SwitchToPostCopy");
  EXPECT_EQ(st.downtime, 38ms);
  EXPECT_EQ(st.message, "post-copy since 12:00:20");
  EXPECT_TRUE(m->metadata.HasFinalizer(kMigrationFinalizer));
}

TEST(VirtualMachineMigration, RoundTripAndPhaseUpdate) {
  const Json in = Json::parse(kVmm);
  auto m = VirtualMachineMigration::FromJson(in);
  ASSERT_TRUE(m.ok());
  Json want = in;
  want["status"].erase("reason");  // an empty string is "unset" and is not written back
  EXPECT_EQ(m->ToJson(), want) << Json::diff(want, m->ToJson()).dump();

  m->status.phase = MigrationPhase::kSucceeded;
  m->status.completion_time = *ParseTime("2024-05-01T12:00:31Z");
  m->status.progress->percent = 100;
  m->status.progress->remaining_bytes = 0;
  m->metadata.RemoveFinalizer(kMigrationFinalizer);
  Json out = m->ToJson();
  EXPECT_EQ(out["status"]["phase"], "Succeeded");
  EXPECT_EQ(out["status"]["completionTime"], "2024-05-01T12:00:31Z");
  EXPECT_EQ(out["status"]["progress"]["percent"], 100);
  EXPECT_EQ(out["status"]["progress"]["remainingBytes"], 0);  // explicit zero kept
  EXPECT_EQ(out["status"]["progress"]["xbzrleCacheMiss"], 5);
  EXPECT_EQ(out["status"]["placement"]["candidates"][1]["filter"], "ServerGroup");
  EXPECT_EQ(out["status"]["statusFuture"], true);
  EXPECT_EQ(out["spec"]["specFuture"], 1);
  EXPECT_EQ(out["future"], "top");
  EXPECT_FALSE(out["metadata"].contains("finalizers"));
}

TEST(VirtualMachineMigration, NewRequestEncodesMinimally) {
  VirtualMachineMigration m;
  m.metadata.name = "move";
  m.metadata.namespace_ = "default";
  m.spec.vm_name = "web-1";
  EXPECT_EQ(m.ToJson(), Json::parse(R"({"apiVersion": "ferry.dev/v1alpha1", "kind": "VirtualMachineMigration",
      "metadata": {"name": "move", "namespace": "default"}, "spec": {"vmName": "web-1"}})"));
  m.spec.mode = MigrationMode::kPreCopy;
  m.spec.trigger = MigrationTrigger::kRebalance;
  m.status.phase = MigrationPhase::kPending;
  Json out = m.ToJson();
  EXPECT_EQ(out["spec"]["mode"], "PreCopy");
  EXPECT_EQ(out["spec"]["trigger"], "Rebalance");
  EXPECT_EQ(out["status"], Json::parse(R"({"phase": "Pending"})"));
}

TEST(VirtualMachineMigration, InvalidInputIsAClearError) {
  struct Case {
    const char* pointer;
    Json value;
    const char* want;
  };
  const Case cases[] = {
      {"/spec/mode", "Fast", "spec.mode: unsupported value \"Fast\" (accepted: \"Auto\", \"PreCopy\", \"PostCopy\")"},
      {"/spec/storage", "Rsync", "spec.storage: unsupported value"},
      {"/spec/trigger", "Cron", "spec.trigger: unsupported value"},
      {"/spec/maxDowntime", "300", "spec.maxDowntime: invalid duration \"300\""},
      {"/spec/bandwidth", "fast", "spec.bandwidth: invalid quantity"},
      {"/spec/priority", "high", "spec.priority: must be an integer"},
      {"/status/phase", "Migrating", "status.phase: unsupported value \"Migrating\""},
      {"/status/placement/candidates/0/verdict", "Maybe", "status.placement.candidates[0].verdict"},
      {"/status/placement/candidates/2", Json::object(), "status.placement.candidates[2].node: Required value"},
      {"/status/progress/totalBytes", -1.5, "status.progress.totalBytes: must be an integer"},
      {"/status/convergenceActions/0/time", 5, "status.convergenceActions[0].time: must be an RFC3339"},
  };
  for (const auto& c : cases) {
    Json j = Json::parse(kVmm);
    j[Json::json_pointer(c.pointer)] = c.value;
    auto m = VirtualMachineMigration::FromJson(j);
    ASSERT_FALSE(m.ok()) << c.pointer;
    EXPECT_NE(m.status().message().find(c.want), std::string::npos)
        << "got: " << m.status().message() << "\nwant: " << c.want;
  }
  Json no_vm = Json::parse(kVmm);
  no_vm["spec"].erase("vmName");
  EXPECT_NE(VirtualMachineMigration::FromJson(no_vm).status().message().find("spec.vmName: Required value"),
            std::string::npos);
}

TEST(MigrationPhase, EveryPhaseParsesAndTerminalOnesAreTerminal) {
  const std::pair<const char*, bool> phases[] = {
      {"Pending", false},     {"Scheduling", false}, {"Scheduled", false}, {"PreparingTarget", false},
      {"TargetReady", false}, {"Running", false},    {"Succeeded", true},  {"Failed", true},
      {"Cancelled", true}};
  for (const auto& [name, terminal] : phases) {
    auto p = ParseEnum<MigrationPhase>(name);
    ASSERT_TRUE(p.ok()) << name;
    EXPECT_EQ(ToString(*p), name);
    EXPECT_EQ(IsTerminal(*p), terminal) << name;
  }
  EXPECT_FALSE(IsTerminal(MigrationPhase::kUnset));
}

TEST(EffectiveMigrationOptions, RoundTripsAndRecordsDefaultsExplicitly) {
  const Json in = Json::parse(R"({"phase": "Scheduled", "phaseTransitionTime": "2026-11-29T10:00:00Z",
    "effectiveOptions": {"policy": "fast", "mode": "Auto", "offline": false, "storage": "Shared",
      "allowPostCopy": true, "allowAutoConverge": false, "bandwidth": "64Mi", "maxDowntime": "300ms",
      "downtimeSchedule": ["100ms", "500ms"], "completionTimeoutPerGiB": "2m30s"}})");
  VirtualMachineMigrationStatus st;
  ASSERT_TRUE(Decode(in, "status", &st).ok());
  ASSERT_TRUE(st.phase_transition_time.has_value());
  ASSERT_TRUE(st.effective_options.has_value());
  EXPECT_EQ(st.effective_options->policy, "fast");
  EXPECT_TRUE(st.effective_options->allow_post_copy);
  ASSERT_EQ(st.effective_options->downtime_schedule.size(), 2u);
  EXPECT_EQ(st.effective_options->downtime_schedule[1], std::chrono::milliseconds(500));
  EXPECT_EQ(Encode(st), in);

  EffectiveMigrationOptions fresh;  // every default is written: the record of what ran
  const Json out = Encode(fresh);
  EXPECT_EQ(out, Json::parse(R"({"mode": "Auto", "offline": false, "storage": "Shared",
      "allowPostCopy": false, "allowAutoConverge": false})"));

  // The admitted spec's target and priority: written when set, read back.
  EffectiveMigrationOptions admitted;
  admitted.target_node = "node-b";
  admitted.priority = 7;
  const Json with_spec = Encode(admitted);
  EXPECT_EQ(with_spec["targetNode"], "node-b");
  EXPECT_EQ(with_spec["priority"], 7);
  EffectiveMigrationOptions back;
  ASSERT_TRUE(Decode(with_spec, "effectiveOptions", &back).ok());
  EXPECT_EQ(back.target_node, "node-b");
  EXPECT_EQ(back.priority, 7);

  Json bad = in;
  bad["effectiveOptions"]["downtimeSchedule"][1] = "soon";
  EXPECT_NE(Decode(bad, "status", &st).message().find("status.effectiveOptions.downtimeSchedule[1]"),
            std::string::npos);
}

}  // namespace
}  // namespace ferry::api

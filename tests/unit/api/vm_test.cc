#include "api/vm.h"

#include <string>

#include <gtest/gtest.h>

namespace ferry::api {
namespace {

using namespace std::chrono_literals;

// Every field Ferry knows, plus unknown fields at the top level, in spec, in status and nested
// (disk, history record, condition, metadata).
const char* kVm = R"({
  "apiVersion": "ferry.dev/v1alpha1", "kind": "VirtualMachine",
  "metadata": {"name": "db-1", "namespace": "prod", "generation": 4, "resourceVersion": "77",
               "labels": {"app": "db"}, "managedFields": [{"manager": "kubectl"}]},
  "topLevelFuture": {"x": 1},
  "spec": {
    "running": true, "cpus": 4, "memory": "8Gi", "cpuModel": "Skylake-Server", "dedicatedCpus": true,
    "numaNodes": 1, "hugepages": {"pageSize": "2Mi"},
    "kernelBoot": {"kernel": "/k", "initrd": "/i", "cmdline": "console=ttyS0"},
    "disks": [
      {"name": "root", "type": "Shared", "path": "/srv/db-1.raw", "format": "raw", "bootOrder": 1,
       "cache": "none"},
      {"name": "data", "type": "Shared", "network": {"protocol": "nbd", "host": "nas", "port": 10809,
       "name": "db-1-data", "tls": true}},
      {"name": "scratch", "type": "Local", "path": "/var/lib/ferry/s.qcow2", "format": "qcow2", "size": "20Gi",
       "readOnly": false}],
    "serverGroup": "db", "evictionStrategy": "LiveMigrateIfPossible",
    "nodeSelector": {"ferry.dev/storage": "ssd"},
    "tolerations": [{"key": "ferry.dev/maintenance", "operator": "Exists", "effect": "NoSchedule"}],
    "specFuture": "keep me"
  },
  "status": {
    "phase": "Running", "nodeName": "node-a", "domainUUID": "6f1e", "activeMigration": "db-1-move",
    "observedGeneration": 4,
    "firstBoot": {"nodeName": "node-b", "libvirtVersion": "9.0.0", "qemuVersion": "7.2.0", "arch": "x86_64"},
    "migrationHistory": [
      {"migrationName": "m1", "sourceNode": "node-b", "targetNode": "node-a", "mode": "PostCopy",
       "result": "Succeeded", "startTime": "2024-05-01T12:00:00Z", "completionTime": "2024-05-01T12:00:31Z",
       "duration": "31.2s", "downtime": "42ms", "reason": "Evacuation", "pages": 1000}],
    "conditions": [
      {"type": "Migratable", "status": "False", "reason": "LocalDiskNoCopy", "message": "m",
       "lastTransitionTime": "2024-05-01T12:00:00Z", "observedGeneration": 4, "severity": "Info"},
      {"type": "PlacementCompliant", "status": "True", "lastTransitionTime": "2024-05-01T12:00:00Z"}],
    "statusFuture": [1, 2, 3]
  }
})";

TEST(VirtualMachine, DecodesEveryField) {
  auto vm = VirtualMachine::FromJson(Json::parse(kVm));
  ASSERT_TRUE(vm.ok()) << vm.status();
  const auto& s = vm->spec;
  EXPECT_TRUE(s.running);
  EXPECT_EQ(s.cpus, 4);
  EXPECT_EQ(s.memory.Value(), 8LL << 30);
  EXPECT_EQ(s.cpu_model, "Skylake-Server");
  EXPECT_TRUE(s.dedicated_cpus);
  EXPECT_EQ(s.numa_nodes, 1);
  EXPECT_EQ(s.hugepages->page_size.Value(), 2 << 20);
  EXPECT_EQ(s.kernel_boot->cmdline, "console=ttyS0");
  ASSERT_EQ(s.disks.size(), 3u);
  EXPECT_EQ(s.disks[0].boot_order, 1);
  EXPECT_EQ(s.disks[1].network->port, 10809);
  EXPECT_EQ(s.disks[2].type, DiskType::kLocal);
  EXPECT_EQ(s.disks[2].format, DiskFormat::kQcow2);
  EXPECT_EQ(s.disks[2].size->Value(), 20LL << 30);
  EXPECT_EQ(s.server_group, "db");
  EXPECT_EQ(s.eviction_strategy, EvictionStrategy::kLiveMigrateIfPossible);
  EXPECT_EQ(s.node_selector.at("ferry.dev/storage"), "ssd");
  EXPECT_EQ(s.tolerations[0].op, TolerationOperator::kExists);
  const auto& st = vm->status;
  EXPECT_EQ(st.phase, VmPhase::kRunning);
  EXPECT_EQ(st.node_name, "node-a");
  EXPECT_EQ(st.domain_uuid, "6f1e");
  EXPECT_EQ(st.active_migration, "db-1-move");
  EXPECT_EQ(st.first_boot->qemu_version, "7.2.0");
  ASSERT_EQ(st.migration_history.size(), 1u);
  EXPECT_EQ(st.migration_history[0].mode, MigrationMode::kPostCopy);
  EXPECT_EQ(st.migration_history[0].duration, 31200ms);
  EXPECT_EQ(st.migration_history[0].downtime, 42ms);
  EXPECT_EQ(FindCondition(st.conditions, kConditionMigratable)->status, ConditionStatus::kFalse);
}

TEST(VirtualMachine, RoundTripIsExact) {
  const Json in = Json::parse(kVm);
  auto vm = VirtualMachine::FromJson(in);
  ASSERT_TRUE(vm.ok());
  EXPECT_EQ(vm->ToJson(), in);
}

TEST(VirtualMachine, ReadModifyWriteKeepsUnknownFields) {
  const Json in = Json::parse(kVm);
  auto vm = VirtualMachine::FromJson(in);
  ASSERT_TRUE(vm.ok());
  vm->status.phase = VmPhase::kMigrating;
  vm->status.active_migration.clear();
  vm->spec.memory = *Quantity::Parse("16Gi");
  vm->status.migration_history[0].downtime = 40ms;
  vm->spec.disks.pop_back();
  Json out = vm->ToJson();

  Json want = in;
  want["status"]["phase"] = "Migrating";
  want["status"].erase("activeMigration");
  want["spec"]["memory"] = "16Gi";
  want["status"]["migrationHistory"][0]["downtime"] = "40ms";
  want["spec"]["disks"].erase(2);
  EXPECT_EQ(out, want) << "diff: " << Json::diff(want, out).dump();
  EXPECT_EQ(out["topLevelFuture"], in["topLevelFuture"]);
  EXPECT_EQ(out["spec"]["specFuture"], "keep me");
  EXPECT_EQ(out["status"]["statusFuture"], in["status"]["statusFuture"]);
  EXPECT_EQ(out["spec"]["disks"][1]["network"]["tls"], true);
  EXPECT_EQ(out["status"]["firstBoot"]["arch"], "x86_64");
  EXPECT_EQ(out["status"]["conditions"][0]["severity"], "Info");
}

TEST(VirtualMachine, MinimalObjectGetsNoInventedFields) {
  VirtualMachine vm;
  vm.metadata.name = "tiny";
  vm.spec.cpus = 1;
  vm.spec.memory = *Quantity::Parse("512Mi");
  EXPECT_EQ(vm.ToJson(), Json::parse(R"({"apiVersion": "ferry.dev/v1alpha1", "kind": "VirtualMachine",
      "metadata": {"name": "tiny"}, "spec": {"cpus": 1, "memory": "512Mi"}})"));
}

TEST(VirtualMachine, InvalidInputIsAClearError) {
  struct Case {
    const char* pointer;
    Json value;
    const char* want;
  };
  const Case cases[] = {
      {"/spec/evictionStrategy", "Evict", "spec.evictionStrategy: unsupported value \"Evict\" (accepted: \"LiveMigrate\""},
      {"/spec/memory", "8GB", "spec.memory: invalid quantity \"8GB\""},
      {"/spec/memory", "0", "spec.memory: must be positive"},
      {"/spec/cpus", 0, "spec.cpus: must be at least 1"},
      {"/spec/cpus", "4", "spec.cpus: must be an integer"},
      {"/spec/disks/0/type", "Remote", "spec.disks[0].type: unsupported value \"Remote\""},
      {"/spec/disks/1/path", "/also", "spec.disks[1].path: exactly one of path and network"},
      {"/spec/hugepages", Json::object(), "spec.hugepages.pageSize: Required value"},
      {"/spec/tolerations/0/effect", "Never", "spec.tolerations[0].effect: unsupported value"},
      {"/status/phase", "Sleeping", "status.phase: unsupported value \"Sleeping\""},
      {"/status/migrationHistory/0/result", "Meh", "status.migrationHistory[0].result: unsupported value"},
      {"/status/migrationHistory/0/duration", "31", "status.migrationHistory[0].duration: invalid duration"},
      {"/status/conditions/0/status", "Yes", "status.conditions[0].status: unsupported value"},
      {"/metadata/labels", Json::array(), "metadata.labels: must be a map of strings"},
      {"/kind", "VirtualMachineMigration", "kind: expected \"VirtualMachine\""},
      {"/apiVersion", "ferry.dev/v1", "apiVersion: expected \"ferry.dev/v1alpha1\""},
  };
  for (const auto& c : cases) {
    Json j = Json::parse(kVm);
    j[Json::json_pointer(c.pointer)] = c.value;
    auto vm = VirtualMachine::FromJson(j);
    ASSERT_FALSE(vm.ok()) << c.pointer;
    EXPECT_EQ(vm.status().code(), StatusCode::kInvalid);
    EXPECT_NE(vm.status().message().find(c.want), std::string::npos)
        << "got: " << vm.status().message() << "\nwant: " << c.want;
  }
  Json no_spec = Json::parse(kVm);
  no_spec.erase("spec");
  EXPECT_NE(VirtualMachine::FromJson(no_spec).status().message().find("spec: Required value"), std::string::npos);
  EXPECT_FALSE(VirtualMachine::FromJson(Json("not an object")).ok());
}

TEST(VirtualMachine, HistoryKeepsTheNewestRecords) {
  VirtualMachine vm;
  for (int i = 0; i < 13; ++i) {
    MigrationRecord r;
    r.migration_name = "m" + std::to_string(i);
    vm.AppendHistory(r);
  }
  ASSERT_EQ(vm.status.migration_history.size(), kMaxMigrationHistory);
  EXPECT_EQ(vm.status.migration_history.front().migration_name, "m3");
  EXPECT_EQ(vm.status.migration_history.back().migration_name, "m12");
}

TEST(Toleration, Tolerates) {
  const Taint drain{"ferry.dev/drain", "true", TaintEffect::kNoSchedule, std::nullopt, {}};
  struct Case {
    Toleration t;
    bool want;
  };
  const Case cases[] = {
      {{"ferry.dev/drain", TolerationOperator::kEqual, "true", std::nullopt, {}}, true},
      {{"ferry.dev/drain", TolerationOperator::kEqual, "false", std::nullopt, {}}, false},
      {{"ferry.dev/drain", TolerationOperator::kExists, "", std::nullopt, {}}, true},
      {{"", TolerationOperator::kExists, "", std::nullopt, {}}, true},
      {{"ferry.dev/drain", TolerationOperator::kExists, "", TaintEffect::kNoExecute, {}}, false},
      {{"ferry.dev/drain", TolerationOperator::kExists, "", TaintEffect::kNoSchedule, {}}, true},
      {{"other", TolerationOperator::kExists, "", std::nullopt, {}}, false},
  };
  for (const auto& c : cases) EXPECT_EQ(c.t.Tolerates(drain), c.want) << Encode(c.t).dump();
}

TEST(VmEnums, AllPhasesRoundTrip) {
  for (const auto& e : EnumTable(VmPhase{})) {
    if (e.name.empty()) continue;
    auto p = ParseEnum<VmPhase>(e.name);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(ToString(*p), e.name);
  }
}

}  // namespace
}  // namespace ferry::api

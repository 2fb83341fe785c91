// The shipped samples (crds/samples/*.yaml, via their JSON copy testdata/samples.json) and
// objects exactly as kube-apiserver v1.20.2 returned them (testdata/server_objects.json:
// the samples after `kubectl apply`, with server defaults and managedFields, plus a Lease and
// an Event) all decode, and encode back to the identical JSON.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "api/core_types.h"
#include "api/migration.h"
#include "api/policy.h"
#include "api/servergroup.h"
#include "api/vm.h"

namespace ferry::api {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Json ReadJson(const std::string& name) {
  const std::string text = ReadFile(std::filesystem::path(FERRY_API_TESTDATA) / name);
  EXPECT_FALSE(text.empty()) << name;
  return Json::parse(text);
}

// Decodes by kind and re-encodes; returns the error or the encoded JSON.
StatusOr<Json> RoundTrip(const Json& obj) {
  const std::string kind = obj.value("kind", "");
  auto run = [&](auto decoded) -> StatusOr<Json> {
    if (!decoded.ok()) return decoded.status();
    return decoded->ToJson();
  };
  if (kind == "VirtualMachine") return run(VirtualMachine::FromJson(obj));
  if (kind == "VirtualMachineMigration") return run(VirtualMachineMigration::FromJson(obj));
  if (kind == "ServerGroup") return run(ServerGroup::FromJson(obj));
  if (kind == "MigrationPolicy") return run(MigrationPolicy::FromJson(obj));
  if (kind == "Lease") return run(Lease::FromJson(obj));
  if (kind == "Event") return run(Event::FromJson(obj));
  if (kind == "Node") return run(Node::FromJson(obj));
  return InvalidError("unexpected kind " + kind);
}

std::string KindName(const Json& obj) {
  return obj.value("kind", "") + "/" + obj["metadata"].value("name", "");
}

TEST(Samples, EverySampleDecodesAndRoundTripsExactly) {
  const Json samples = ReadJson("samples.json");
  ASSERT_TRUE(samples.is_array());
  std::set<std::string> kinds;
  for (const auto& obj : samples) {
    auto out = RoundTrip(obj);
    ASSERT_TRUE(out.ok()) << KindName(obj) << ": " << out.status();
    EXPECT_EQ(*out, obj) << KindName(obj) << " diff: " << Json::diff(obj, *out).dump();
    kinds.insert(obj["kind"].get<std::string>());
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"VirtualMachine", "VirtualMachineMigration", "ServerGroup",
                                          "MigrationPolicy"}));
}

TEST(Samples, SampleContentIsWhatTheDocsDescribe) {
  const Json samples = ReadJson("samples.json");
  int vms = 0;
  for (const auto& obj : samples) {
    if (obj["kind"] == "VirtualMachine") {
      auto vm = VirtualMachine::FromJson(obj);
      ASSERT_TRUE(vm.ok());
      EXPECT_GE(vm->spec.cpus, 1);
      EXPECT_GT(vm->spec.memory.Value(), 0);
      ++vms;
    }
    if (obj["kind"] == "VirtualMachineMigration") {
      auto m = VirtualMachineMigration::FromJson(obj);
      ASSERT_TRUE(m.ok());
      EXPECT_EQ(m->spec.vm_name, "batch-1");
      EXPECT_EQ(m->spec.target_node, "");  // the operator chooses
    }
  }
  EXPECT_GE(vms, 5);  // the local cluster's five guests
}

// samples.json must be regenerated when crds/samples changes (regen_samples.py).
TEST(Samples, JsonCopyMatchesTheYamlFiles) {
  std::set<std::string> from_yaml;
  for (const auto& entry : std::filesystem::directory_iterator(FERRY_SAMPLES_DIR)) {
    if (entry.path().extension() != ".yaml") continue;
    std::istringstream in(ReadFile(entry.path()));
    std::string line, kind;
    bool in_metadata = false;
    while (std::getline(in, line)) {
      if (line == "---") {
        kind.clear();
        in_metadata = false;
      } else if (line.rfind("kind: ", 0) == 0) {
        kind = line.substr(6);
      } else if (line == "metadata:") {
        in_metadata = true;
      } else if (in_metadata && line.rfind("  name: ", 0) == 0) {
        from_yaml.insert(kind + "/" + line.substr(8));
        in_metadata = false;
      }
    }
  }
  std::set<std::string> from_json;
  for (const auto& obj : ReadJson("samples.json")) from_json.insert(KindName(obj));
  EXPECT_FALSE(from_yaml.empty());
  EXPECT_EQ(from_yaml, from_json) << "run tests/unit/api/testdata/regen_samples.py";
}

TEST(ServerObjects, ObjectsAsTheApiServerReturnsThemRoundTripExactly) {
  const Json objects = ReadJson("server_objects.json");
  ASSERT_TRUE(objects.is_array());
  ASSERT_GE(objects.size(), 11u);
  for (const auto& obj : objects) {
    ASSERT_TRUE(obj["metadata"].contains("managedFields") || obj["kind"] == "Event") << KindName(obj);
    auto out = RoundTrip(obj);
    ASSERT_TRUE(out.ok()) << KindName(obj) << ": " << out.status();
    EXPECT_EQ(*out, obj) << KindName(obj) << " diff: " << Json::diff(obj, *out).dump();
  }
}

TEST(ServerObjects, ServerDefaultsDecode) {
  for (const auto& obj : ReadJson("server_objects.json")) {
    if (KindName(obj) != "VirtualMachine/web-2") continue;
    auto vm = VirtualMachine::FromJson(obj);
    ASSERT_TRUE(vm.ok());
    // The CRD defaulted these; the sample did not set them.
    EXPECT_EQ(obj["spec"]["evictionStrategy"], "LiveMigrate");
    EXPECT_EQ(vm->spec.eviction_strategy, EvictionStrategy::kLiveMigrate);
    EXPECT_TRUE(vm->metadata.creation_timestamp.has_value());
    EXPECT_FALSE(vm->metadata.uid.empty());
    return;
  }
  FAIL() << "VirtualMachine/web-2 not in server_objects.json";
}

}  // namespace
}  // namespace ferry::api

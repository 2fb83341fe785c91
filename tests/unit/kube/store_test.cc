#include "kube/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace ferry::kube {
namespace {

ObjectPtr Vm(const std::string& ns, const std::string& name, const std::string& node) {
  Json j = {{"metadata", {{"name", name}}}};
  if (!ns.empty()) j["metadata"]["namespace"] = ns;
  if (!node.empty()) j["status"]["nodeName"] = node;
  return std::make_shared<const Json>(std::move(j));
}

std::vector<std::string> NodeOf(const Json& o) {
  if (!o.contains("status") || !o["status"].contains("nodeName")) return {};
  return {o["status"]["nodeName"].get<std::string>()};
}

std::vector<std::string> Names(const std::vector<ObjectPtr>& objs) {
  std::vector<std::string> out;
  for (const auto& o : objs) out.push_back(ObjectKey(*o));
  return out;
}

TEST(ObjectKeyTest, Table) {
  EXPECT_EQ(ObjectKey(Json{{"metadata", {{"name", "a"}, {"namespace", "ns"}}}}), "ns/a");
  EXPECT_EQ(ObjectKey(Json{{"metadata", {{"name", "node-1"}}}}), "node-1");
  EXPECT_EQ(ObjectKey(Json{{"kind", "X"}}), "");
  // Not strings: no key, no exception (found by fuzzing).
  EXPECT_EQ(ObjectKey(Json{{"metadata", {{"name", Json::array()}}}}), "");
  EXPECT_EQ(ObjectKey(Json{{"metadata", {{"name", "a"}, {"namespace", 7}}}}), "a");
  EXPECT_EQ(ObjectKey(Json::array()), "");
  EXPECT_EQ(SplitKey("ns/a"), (std::pair<std::string, std::string>{"ns", "a"}));
  EXPECT_EQ(SplitKey("node-1"), (std::pair<std::string, std::string>{"", "node-1"}));
}

TEST(StoreTest, UpsertRemoveAndIndexFollowChanges) {
  Store s;
  s.AddIndex("node", NodeOf);
  EXPECT_EQ(s.Upsert(Vm("ns", "a", "n1")), nullptr);
  EXPECT_EQ(s.Upsert(Vm("ns", "b", "n1")), nullptr);
  EXPECT_EQ(s.Upsert(Vm("", "c", "")), nullptr);
  EXPECT_EQ(s.Size(), 3u);
  EXPECT_EQ(Names(s.ByIndex("node", "n1")), (std::vector<std::string>{"ns/a", "ns/b"}));
  // a moves to n2: the old index entry goes, the new one appears; the old object is returned.
  auto old = s.Upsert(Vm("ns", "a", "n2"));
  ASSERT_NE(old, nullptr);
  EXPECT_EQ((*old)["status"]["nodeName"], "n1");
  EXPECT_EQ(Names(s.ByIndex("node", "n1")), (std::vector<std::string>{"ns/b"}));
  EXPECT_EQ(Names(s.ByIndex("node", "n2")), (std::vector<std::string>{"ns/a"}));
  EXPECT_TRUE(s.ByIndex("node", "n3").empty());
  EXPECT_TRUE(s.ByIndex("no-such-index", "n1").empty());
  // Remove drops the object and its index entries.
  EXPECT_NE(s.Remove("ns/b"), nullptr);
  EXPECT_EQ(s.Remove("ns/b"), nullptr);
  EXPECT_TRUE(s.ByIndex("node", "n1").empty());
  EXPECT_EQ(s.Get("ns/b"), nullptr);
  EXPECT_EQ(s.Keys(), (std::vector<std::string>{"c", "ns/a"}));
  EXPECT_EQ(Names(s.List()), (std::vector<std::string>{"c", "ns/a"}));
}

TEST(StoreTest, ReplaceSwapsContentAndRebuildsIndexes) {
  Store s;
  s.AddIndex("node", NodeOf);
  s.Upsert(Vm("ns", "a", "n1"));
  s.Upsert(Vm("ns", "b", "n1"));
  auto next = s.BeginReplace();
  next.Add(*Vm("ns", "b", "n2"));
  next.Add(*Vm("ns", "d", "n1"));
  // Nothing changes until Replace.
  EXPECT_EQ(s.Keys(), (std::vector<std::string>{"ns/a", "ns/b"}));
  EXPECT_EQ(next.keys(), (std::vector<std::string>{"ns/b", "ns/d"}));
  auto old = s.Replace(std::move(next));
  ASSERT_EQ(old.size(), 2u);
  ASSERT_TRUE(old.count("ns/a"));
  EXPECT_EQ((*old.at("ns/b").Unpack())["status"]["nodeName"], "n1");
  EXPECT_EQ(s.Keys(), (std::vector<std::string>{"ns/b", "ns/d"}));
  EXPECT_EQ(Names(s.ByIndex("node", "n1")), (std::vector<std::string>{"ns/d"}));
  EXPECT_EQ(Names(s.ByIndex("node", "n2")), (std::vector<std::string>{"ns/b"}));
}

TEST(StoreTest, ReplacementWithARepeatedKeyKeepsTheLaterObject) {
  Store s;
  s.AddIndex("node", NodeOf);
  auto next = s.BeginReplace();
  next.Add(*Vm("ns", "a", "n1"));
  next.Add(*Vm("ns", "a", "n2"));
  EXPECT_EQ(next.keys(), (std::vector<std::string>{"ns/a"}));
  s.Replace(std::move(next));
  EXPECT_TRUE(s.ByIndex("node", "n1").empty());
  EXPECT_EQ(Names(s.ByIndex("node", "n2")), (std::vector<std::string>{"ns/a"}));
}

TEST(StoreTest, IndexAddedDuringAReplacementCoversTheNewContent) {
  Store s;
  auto next = s.BeginReplace();
  next.Add(*Vm("ns", "a", "n1"));
  s.AddIndex("node", NodeOf);
  s.Replace(std::move(next));
  EXPECT_EQ(Names(s.ByIndex("node", "n1")), (std::vector<std::string>{"ns/a"}));
}

TEST(StoreTest, ReadersGetTheirOwnCopies) {
  Store s;
  auto in = Vm("ns", "a", "n1");
  s.Upsert(in);
  auto one = s.Get("ns/a");
  auto two = s.Get("ns/a");
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(*one, *in);
  EXPECT_EQ(*one, *two);
  EXPECT_NE(one.get(), two.get());
}

TEST(StoreTest, ForEachVisitsInKeyOrderAndSkipsWhatWasRemovedMeanwhile) {
  Store s;
  for (const char* n : {"c", "a", "b", "d"}) s.Upsert(Vm("ns", n, ""));
  std::vector<std::string> seen;
  s.ForEach([&](const ObjectPtr& o) {
    seen.push_back(ObjectKey(*o));
    // The scan holds no lock while calling back: the callback may write the store.
    if (seen.size() == 1) s.Remove("ns/c");
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"ns/a", "ns/b", "ns/d"}));
}

TEST(StoreTest, PackedBytesFollowsTheContent) {
  Store s;
  EXPECT_EQ(s.PackedBytes(), 0u);
  auto a = Vm("ns", "a", "n1");
  s.Upsert(a);
  EXPECT_EQ(s.PackedBytes(), PackedObject(*a).size());
  auto longer = Vm("ns", "a", "a-node-with-a-much-longer-name");
  s.Upsert(longer);
  EXPECT_EQ(s.PackedBytes(), PackedObject(*longer).size());
  s.Upsert(Vm("ns", "b", ""));
  s.Remove("ns/a");
  EXPECT_EQ(s.PackedBytes(), PackedObject(*Vm("ns", "b", "")).size());
  s.Replace(s.BeginReplace());
  EXPECT_EQ(s.PackedBytes(), 0u);
  EXPECT_EQ(s.Size(), 0u);
}

// Readers never see a torn state while a writer moves VMs between nodes and relists: every
// object ByIndex returns is on the node asked for, Get returns whole objects, and the index
// ends up matching the content.
TEST(StoreTest, ConcurrentReadersSeeConsistentObjects) {
  Store s;
  s.AddIndex("node", NodeOf);
  constexpr int kVms = 50;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      while (!stop.load()) {
        const std::string node = "n" + std::to_string(t % 2);
        for (const auto& o : s.ByIndex("node", node)) {
          if (NodeOf(*o) != std::vector<std::string>{node}) ++bad;
        }
        if (auto o = s.Get("ns/vm-" + std::to_string(t)); o && ObjectKey(*o) != "ns/vm-" + std::to_string(t)) ++bad;
        s.ForEach([&](const ObjectPtr& o) {
          if (!o->contains("metadata")) ++bad;
        });
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < kVms; ++i) s.Upsert(Vm("ns", "vm-" + std::to_string(i), "n" + std::to_string((i + round) % 2)));
    if (round % 10 == 0) s.Remove("ns/vm-" + std::to_string(round % kVms));
    if (round % 25 == 0) {
      auto next = s.BeginReplace();
      for (int i = 0; i < kVms; ++i) next.Add(*Vm("ns", "vm-" + std::to_string(i), "n" + std::to_string(i % 2)));
      s.Replace(std::move(next));
    }
  }
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(s.Size(), static_cast<size_t>(kVms));
  EXPECT_EQ(s.ByIndex("node", "n0").size() + s.ByIndex("node", "n1").size(), static_cast<size_t>(kVms));
  for (const auto& o : s.ByIndex("node", "n0")) EXPECT_EQ(NodeOf(*o), std::vector<std::string>{"n0"});
}

// The cache must give back exactly what it was given: every JSON value kind, at its edges.
TEST(PackedObjectTest, RoundTripTable) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty object", R"({})"},
      {"null and booleans", R"({"a":null,"b":true,"c":false})"},
      {"integer edges", R"({"min":-9223372036854775808,"max":9223372036854775807,"umax":18446744073709551615,)"
                        R"("zero":0,"neg":-1,"small":23,"byte":24,"k":65536})"},
      {"doubles", R"({"tenth":0.1,"huge":1e300,"tiny":5e-324,"neg":-2.5,"half":0.5,"f32":1.5,"nonf32":3.14159})"},
      {"strings", R"({"empty":"","unicode":"h\u00e9llo \u4e16\u754c \ud83d\ude80","ctrl":"a\nb\t\"c\"\\","long":")" +
                      std::string(70000, 'x') + R"("})"},
      {"nesting", R"({"a":[[],[{}],[1,"2",[3.5,null]]],"b":{"c":{"d":{"e":[true]}}}})"},
      {"a real VirtualMachine", R"({"apiVersion":"ferry.dev/v1alpha1","kind":"VirtualMachine","metadata":{)"
                                R"("creationTimestamp":"2026-11-26T05:03:30Z","generation":1,"labels":{"app":"db"},)"
                                R"("name":"vm-1234","namespace":"bench","resourceVersion":"204",)"
                                R"("uid":"ae33c59a-eff6-4758-8914-1495ed054d99"},"spec":{"cpus":4,"memory":"8Gi",)"
                                R"("disks":[{"name":"root","path":"/srv/shared/vm-1234.qcow2","type":"Shared"}],)"
                                R"("futureField":{"x":[1,2]}}})"},
  };
  for (const auto& [name, text] : cases) {
    SCOPED_TRACE(name);
    const Json in = Json::parse(text);
    PackedObject packed(in);
    EXPECT_FALSE(packed.empty());
    auto out = packed.Unpack();
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(*out, in);
    EXPECT_EQ(out->dump(), in.dump());  // same text: same types, same member order
  }
  EXPECT_EQ(PackedObject().Unpack(), nullptr);
}

// Packing is the point of the Store: an object must take less than its JSON text.
TEST(PackedObjectTest, SmallerThanTheJsonText) {
  const Json vm = Json::parse(R"({"apiVersion":"ferry.dev/v1alpha1","kind":"VirtualMachine","metadata":{)"
                              R"("name":"vm-1","namespace":"bench","uid":"ae33c59a-eff6-4758-8914-1495ed054d99"},)"
                              R"("spec":{"cpus":4,"memory":"8Gi","running":true}})");
  EXPECT_LT(PackedObject(vm).size(), vm.dump().size());
}


TEST(StoreTest, IndexAddedLaterCoversExistingObjects) {
  Store s;
  s.Upsert(Vm("ns", "a", "n1"));
  s.AddIndex("node", NodeOf);
  EXPECT_EQ(Names(s.ByIndex("node", "n1")), (std::vector<std::string>{"ns/a"}));
}

}  // namespace
}  // namespace ferry::kube

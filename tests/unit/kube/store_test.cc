#include "kube/store.h"

#include <gtest/gtest.h>

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
  auto old = s.Replace({Vm("ns", "b", "n2"), Vm("ns", "d", "n1")});
  EXPECT_EQ(old.size(), 2u);
  EXPECT_TRUE(old.count("ns/a"));
  EXPECT_EQ(s.Keys(), (std::vector<std::string>{"ns/b", "ns/d"}));
  EXPECT_EQ(Names(s.ByIndex("node", "n1")), (std::vector<std::string>{"ns/d"}));
  EXPECT_EQ(Names(s.ByIndex("node", "n2")), (std::vector<std::string>{"ns/b"}));
}

TEST(StoreTest, IndexAddedLaterCoversExistingObjects) {
  Store s;
  s.Upsert(Vm("ns", "a", "n1"));
  s.AddIndex("node", NodeOf);
  EXPECT_EQ(Names(s.ByIndex("node", "n1")), (std::vector<std::string>{"ns/a"}));
}

}  // namespace
}  // namespace ferry::kube

#include "kube/owner.h"

#include <gtest/gtest.h>

namespace ferry::kube {
namespace {

Json VM(const std::string& ns, const std::string& name, const std::string& uid) {
  return {{"apiVersion", "ferry.dev/v1alpha1"},
          {"kind", "VirtualMachine"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"uid", uid}}}};
}

TEST(OwnerTest, SetControllerReferenceAndFindIt) {
  const Json vm = VM("ns", "vm-1", "u1");
  Json child = {
      {"metadata",
       {{"name", "m1"},
        {"namespace", "ns"},
        {"ownerReferences",
         {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "cm"}, {"uid", "c1"}}}}}}};
  ASSERT_TRUE(SetControllerReference(vm, &child).ok());
  ASSERT_EQ(child["metadata"]["ownerReferences"].size(), 2u);  // the other reference is kept
  auto ref = GetControllerOf(child);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(*ref, (Json{{"apiVersion", "ferry.dev/v1alpha1"},
                        {"kind", "VirtualMachine"},
                        {"name", "vm-1"},
                        {"uid", "u1"},
                        {"controller", true},
                        {"blockOwnerDeletion", true}}));
  EXPECT_TRUE(IsControlledBy(child, vm));
  EXPECT_FALSE(IsControlledBy(child, VM("ns", "vm-1", "other-uid")));
  // Setting it again is idempotent.
  ASSERT_TRUE(SetControllerReference(vm, &child).ok());
  EXPECT_EQ(child["metadata"]["ownerReferences"].size(), 2u);
  // Another controller is refused.
  EXPECT_EQ(SetControllerReference(VM("ns", "vm-2", "u2"), &child).code(),
            StatusCode::kAlreadyExists);
}

TEST(OwnerTest, Errors) {
  Json child = {{"metadata", {{"name", "m1"}, {"namespace", "ns"}}}};
  Json no_uid = VM("ns", "vm", "");
  EXPECT_EQ(SetControllerReference(no_uid, &child).code(), StatusCode::kInvalid);
  EXPECT_EQ(SetControllerReference(VM("other", "vm", "u"), &child).code(), StatusCode::kInvalid);
  EXPECT_FALSE(GetControllerOf(child).has_value());
}

TEST(OwnerTest, ControllerKeyTable) {
  Json child = {{"metadata", {{"name", "m1"}, {"namespace", "ns"}}}};
  ASSERT_TRUE(SetControllerReference(VM("ns", "vm-1", "u1"), &child).ok());
  EXPECT_EQ(ControllerKey(child, "ferry.dev", "VirtualMachine"),
            std::optional<std::string>("ns/vm-1"));
  EXPECT_EQ(ControllerKey(child, "ferry.dev", "VirtualMachine", true),
            std::optional<std::string>("vm-1"));
  EXPECT_FALSE(ControllerKey(child, "ferry.dev", "ServerGroup").has_value());
  EXPECT_FALSE(ControllerKey(child, "other.dev", "VirtualMachine").has_value());
  Json orphan = {{"metadata", {{"name", "x"}}}};
  EXPECT_FALSE(ControllerKey(orphan, "ferry.dev", "VirtualMachine").has_value());
  EXPECT_EQ(GroupOf("v1"), "");
  EXPECT_EQ(GroupOf("ferry.dev/v1alpha1"), "ferry.dev");
}

}  // namespace
}  // namespace ferry::kube

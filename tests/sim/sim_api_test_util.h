// Shared fixture of sim_api_server_test.cc and sim_api_watch_gc_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "core/clock.h"
#include "sim_api_server.h"

namespace ferry::sim::testing {

using kube::Json;
namespace res = kube::resources;

// A custom resource without a status subresource.
inline const kube::ResourceType kWidgets{"example.com", "v1", "widgets", "Widget", true};

class SimApiTest : public ::testing::Test {
 protected:
  SimApiTest() : server_(clock_) {
    server_.Register(res::kVirtualMachines, true);
    server_.Register(res::kVirtualMachineMigrations, true);
    server_.Register(res::kNodes, true);
    server_.Register(res::kLeases, false);
    server_.Register(res::kNamespaces, false);
    server_.Register(kWidgets, false);
  }

  static Json Vm(const std::string& name, Json labels = Json::object()) {
    return {{"apiVersion", "ferry.dev/v1alpha1"},
            {"kind", "VirtualMachine"},
            {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}},
            {"spec", {{"running", true}}}};
  }
  static Json Vmm(const std::string& name) {
    return {{"apiVersion", "ferry.dev/v1alpha1"},
            {"kind", "VirtualMachineMigration"},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"spec", {{"vmName", "vm"}}}};
  }
  // An ownerReference naming `owner` (blockOwnerDeletion as given).
  static Json RefTo(const Json& owner, bool block = true) {
    return {{"apiVersion", owner["apiVersion"]},
            {"kind", owner["kind"]},
            {"name", owner["metadata"]["name"]},
            {"uid", owner["metadata"]["uid"]},
            {"controller", true},
            {"blockOwnerDeletion", block}};
  }

  Json MustCreate(const kube::ResourceType& rt, const Json& obj, const std::string& ns = "") {
    auto r = server_.Create(rt, ns, obj);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Json();
  }
  Json MustGet(const kube::ResourceType& rt, const std::string& name,
               const std::string& ns = "default") {
    auto r = server_.Get(rt, ns, name);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Json();
  }
  bool Exists(const kube::ResourceType& rt, const std::string& name,
              const std::string& ns = "default") {
    return server_.Get(rt, ns, name).ok();
  }
  static std::string Rv(const Json& o) { return o["metadata"]["resourceVersion"]; }
  static bool HasFinalizerNamed(const Json& o, const std::string& f) {
    if (!o["metadata"].contains("finalizers")) return false;
    for (const auto& x : o["metadata"]["finalizers"]) {
      if (x == f) return true;
    }
    return false;
  }

  FakeClock clock_;
  SimApiServer server_;
};

}  // namespace ferry::sim::testing

// Helpers for integration tests against the real kube-apiserver started by the ctest
// fixture (hack/kube/up.sh); the environment comes from DIR/env via hack/kube/with-env.sh.
#pragma once

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "kube/config.h"
#include "kube/rest_client.h"

namespace ferry::kube::testing {

inline std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// Tests create objects in bursts: a client-side limit far above client-go's default 5 qps
// keeps them fast (the limiter itself is unit-tested).
inline RestOptions TestRestOptions() {
  RestOptions o;
  o.qps = 500;
  o.burst = 1000;
  return o;
}

inline std::unique_ptr<RestApiClient> ClientFromEnv(RestOptions options = TestRestOptions()) {
  const std::string kc = Env("KUBECONFIG");
  if (kc.empty()) {
    ADD_FAILURE() << "KUBECONFIG not set: run through ctest (hack/kube/with-env.sh)";
    return nullptr;
  }
  auto cfg = LoadKubeconfig(kc);
  if (!cfg.ok()) {
    ADD_FAILURE() << cfg.status();
    return nullptr;
  }
  return RestApiClient::FromConfig(*cfg, std::move(options));
}

inline std::string RandomSuffix() {
  static std::mt19937_64 rng{std::random_device{}()};
  static const char* kChars = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s;
  for (int i = 0; i < 6; ++i) s.push_back(kChars[rng() % 36]);
  return s;
}

// Creates a namespace of its own for one test, so tests sharing an API server never collide.
inline std::string CreateTestNamespace(ApiClient& api, const std::string& prefix) {
  const std::string ns = prefix + "-" + RandomSuffix();
  auto r = api.Create(resources::kNamespaces, "", Json{{"apiVersion", "v1"}, {"kind", "Namespace"},
                                                       {"metadata", {{"name", ns}}}});
  EXPECT_TRUE(r.ok()) << r.status();
  return ns;
}

inline Json ConfigMap(const std::string& ns, const std::string& name, Json data = Json::object()) {
  return Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"},
              {"metadata", {{"name", name}, {"namespace", ns}}}, {"data", std::move(data)}};
}

inline Json VirtualMachine(const std::string& ns, const std::string& name, int cpus = 2,
                           const std::string& memory = "2Gi") {
  return Json{{"apiVersion", "ferry.dev/v1alpha1"},
              {"kind", "VirtualMachine"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec", {{"running", true}, {"cpus", cpus}, {"memory", memory}}}};
}

// Polls `pred` every 20 ms until true or `timeout`; returns the last value.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace ferry::kube::testing

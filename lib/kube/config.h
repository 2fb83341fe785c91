// Where the API server is and how to authenticate: kubeconfig (current or named context;
// server, CA, client cert/key as data or files, bearer token or token file) or in-cluster
// (service-account token re-read when it rotates, CA from the mounted secret).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "http/http.h"

namespace ferry::kube {

// Supplies the bearer token for each request. A token file (projected service-account
// token) is re-read when older than `refresh`, as client-go does, so rotation is picked up.
class TokenSource {
 public:
  static std::shared_ptr<TokenSource> Static(std::string token);
  static std::shared_ptr<TokenSource> File(std::string path, const Clock& clock,
                                           std::chrono::seconds refresh = std::chrono::seconds(60));
  // Empty string = no token.
  StatusOr<std::string> Token();

 private:
  TokenSource() = default;
  std::mutex mu_;
  std::string token_;
  std::string path_;
  const Clock* clock_ = nullptr;
  std::chrono::seconds refresh_{60};
  Clock::TimePoint read_at_{};
  bool read_once_ = false;
};

struct ClusterConfig {
  std::string server;                  // https://host:port
  http::TlsConfig tls;
  std::shared_ptr<TokenSource> token;  // may be null
  std::string default_namespace = "default";
};

// Loads a kubeconfig file; `context` empty = current-context.
StatusOr<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context = "",
                                       const Clock& clock = RealClock::Get());
// Parses kubeconfig text; relative file paths resolve against `base_dir`.
StatusOr<ClusterConfig> ParseKubeconfig(const std::string& yaml_text, const std::string& base_dir,
                                        const std::string& context = "",
                                        const Clock& clock = RealClock::Get());
// In-cluster config: KUBERNETES_SERVICE_HOST/PORT and the service-account files under `sa_dir`.
StatusOr<ClusterConfig> LoadInCluster(const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount",
                                      const Clock& clock = RealClock::Get());
// Several kubeconfig files merged as kubectl merges $KUBECONFIG: in order, the first file to
// define a cluster, user or context of a name wins, the first current-context wins, relative
// file paths resolve against the file that names them; missing files are skipped (kNotFound
// when none exists).
StatusOr<ClusterConfig> LoadKubeconfigs(const std::vector<std::string>& paths, const std::string& context = "",
                                        const Clock& clock = RealClock::Get());
// "a:b::c" -> {"a", "b", "c"} (the $KUBECONFIG list syntax).
std::vector<std::string> SplitKubeconfigList(const std::string& value);
// $KUBECONFIG (one file, or several merged), else in-cluster when KUBERNETES_SERVICE_HOST is
// set, else ~/.kube/config.
StatusOr<ClusterConfig> LoadDefaultConfig(const Clock& clock = RealClock::Get());

}  // namespace ferry::kube

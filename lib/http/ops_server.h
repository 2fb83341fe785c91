// OpsServer: the operational endpoints every Ferry binary serves on one port:
//   /healthz  liveness: 200 while every liveness check passes (a failing one means "restart me")
//   /readyz   readiness: 200 once every readiness check passes (caches synced, ...)
//   /metrics  Prometheus text format of a prometheus-cpp registry
// Responses list each check as "[+]name ok" / "[-]name failed: reason", as kube-apiserver does.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/registry.h>

#include "core/status.h"
#include "http/http.h"

namespace ferry::http {

using Check = std::function<Status()>;

class OpsServer {
 public:
  explicit OpsServer(std::shared_ptr<prometheus::Registry> registry);
  ~OpsServer();

  void AddLivenessCheck(std::string name, Check check);
  void AddReadinessCheck(std::string name, Check check);
  // Listens on host:port (0 = any free port); returns the port.
  StatusOr<int> Start(const std::string& host, int port);
  void Stop();

  // The body and status of /healthz or /readyz (exposed for tests).
  static ServerResponse RunChecks(const std::vector<std::pair<std::string, Check>>& checks);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex mu_;
  std::vector<std::pair<std::string, Check>> liveness_;
  std::vector<std::pair<std::string, Check>> readiness_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace ferry::http
